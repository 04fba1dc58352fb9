//! The run loop against a fake backend (no root, no QEMU, no SSH): every status rule of
//! `rules.rs`, driven through the real loop, the real run directory and real files. The
//! measurement is scripted per level, the way hyperfine drives its scheduler with a
//! mock executor.

use super::*;
use model::rundoc::SkipReason;

mod fake;
mod relaunch;

use fake::*;

#[test]
fn every_level_measured_goes_through_one_loop_from_l0() {
    let mut f = Fake::nested(3);
    let (doc, _d) = run(&mut f, None);
    assert_eq!(f.provisioned, [0, 1, 2, 3]);
    assert!(doc.levels.iter().all(|l| l.status == LevelStatus::Ok));
    assert!(doc.levels.iter().all(|l| l.results.len() == 1));
    assert!(doc.levels.iter().all(|l| l.not_applicable.len() == 1));
    assert_eq!(doc.levels[2].timings.provision_s, Some(1.0));
    assert_eq!(doc.levels[2].env.vcpus, Some(2));
    assert_eq!(doc.status, RunStatus::Complete);
    assert!(f.diagnosed.is_empty());
}

/// The doctor-check bug: a level that measured fine but cannot host its child used to
/// be marked `failed` with its error text replaced, so `compare` called all its
/// results MISSING. It stays `ok`; only its children are skipped, with the reason.
#[test]
fn a_level_that_cannot_host_stays_ok_and_only_its_children_are_skipped() {
    let mut f = Fake::nested(3);
    f.script.insert(1, Script::Ok { can_host: false });
    let (doc, _d) = run(&mut f, None);
    let l1 = &doc.levels[1];
    assert_eq!(l1.status, LevelStatus::Ok);
    assert_eq!(l1.error, None);
    assert_eq!(l1.outcome, Some(LevelOutcome::Measured));
    assert_eq!(l1.hosting.as_ref().map(|h| h.can_host), Some(false));
    let because = SkipReason::CannotHost {
        parent: Level(1),
        detail: "no svm/vmx inside".into(),
    };
    assert_eq!(outcome(&doc, 2), skipped(because.clone()));
    assert_eq!(outcome(&doc, 3), skipped(because));
    assert!(doc.levels[2]
        .error
        .as_deref()
        .unwrap()
        .contains("L1 cannot host"));
    assert_eq!(f.provisioned, [0, 1], "no child of L1 is started");
    assert_eq!(doc.status, RunStatus::Partial);
    // compare sees L1's figures as present, not MISSING.
    let set = reports::compare::RunSet::new("run", vec![doc.clone()]).unwrap();
    let cmp = reports::compare::compare(
        &set,
        &set,
        &Default::default(),
        &reports::compare::Profiles::none(),
    );
    assert!(cmp.changes.iter().any(|c| c.level == 1));
    assert!(cmp
        .changes
        .iter()
        .filter(|c| c.level == 1 && c.status != reports::compare::Status::NotApplicable)
        .all(|c| c.baseline.is_some() && c.current.is_some()));
    assert_eq!(cmp.count(reports::compare::Status::Missing), 0);
    assert!(cmp.count(reports::compare::Status::NotApplicable) >= 2);
}

#[test]
fn an_unreachable_level_skips_every_level_inside_it() {
    let mut f = Fake::nested(4);
    f.unreachable = vec![2];
    let (doc, _d) = run(&mut f, None);
    assert!(
        matches!(outcome(&doc, 2), LevelOutcome::Unreachable { reason } if reason.contains("did not boot"))
    );
    for l in [3, 4] {
        assert_eq!(
            outcome(&doc, l),
            skipped(SkipReason::DependsOn { level: Level(2) })
        );
    }
    assert_eq!(f.provisioned, [0, 1, 2]);
    assert_eq!(
        f.diagnosed,
        [2],
        "a boot failure gets a post-mortem: its own, or a level below it lost?"
    );
}

#[test]
fn an_agent_failure_keeps_its_results_and_deeper_levels_still_run() {
    let mut f = Fake::nested(3);
    f.script.insert(2, Script::AgentDies);
    f.script.insert(1, Script::DeployFails);
    let (doc, _d) = run(&mut f, None);
    assert!(matches!(
        outcome(&doc, 1),
        LevelOutcome::AgentFailed {
            results_kept: 0,
            ..
        }
    ));
    assert!(matches!(
        outcome(&doc, 2),
        LevelOutcome::AgentFailed {
            results_kept: 1,
            ..
        }
    ));
    assert_eq!(doc.levels[2].results.len(), 1, "what arrived is kept");
    assert_eq!(doc.levels[2].status, LevelStatus::Failed);
    assert_eq!(outcome(&doc, 3), LevelOutcome::Measured);
    assert_eq!(f.diagnosed, [1, 2], "each failure gets a post-mortem");
    assert_eq!(doc.status, RunStatus::Partial);
}

#[test]
fn a_level_the_stack_lost_names_the_level_that_went_away_and_stops_the_stack() {
    let mut f = Fake::nested(4);
    f.script.insert(3, Script::AgentDies);
    f.lost.insert(3, 2);
    let (doc, _d) = run(&mut f, None);
    match outcome(&doc, 3) {
        LevelOutcome::Lost { lost, reason } => {
            assert_eq!(lost, Level(2));
            assert!(
                reason.contains("the stack lost L2: L2's QEMU exited"),
                "{reason}"
            );
        }
        o => panic!("{o:?}"),
    }
    assert_eq!(
        doc.levels[2].status,
        LevelStatus::Ok,
        "L2's own figures stand"
    );
    assert_eq!(
        outcome(&doc, 4),
        skipped(SkipReason::DependsOn { level: Level(3) })
    );
    assert_eq!(f.provisioned, [0, 1, 2, 3]);
}

#[test]
fn without_l0_nothing_else_runs_and_the_run_fails() {
    let mut f = Fake::nested(2);
    f.script.insert(0, Script::AgentDies);
    let (doc, _d) = run(&mut f, None);
    assert_eq!(doc.levels[0].status, LevelStatus::Failed);
    for l in [1, 2] {
        assert_eq!(outcome(&doc, l), skipped(SkipReason::ReferenceMissing));
    }
    assert_eq!(f.provisioned, [0]);
    assert_eq!(doc.status, RunStatus::Failed);
}

#[test]
fn inventory_levels_depend_only_on_their_via_chain() {
    // L1 direct, L2 direct, L3 via L1, L4 via L3.
    let mut f = Fake::nested(4);
    f.via = Some([(3, 1), (4, 3)].into_iter().collect());
    f.unreachable = vec![1];
    let (doc, _d) = run(&mut f, None);
    assert!(matches!(outcome(&doc, 1), LevelOutcome::Unreachable { .. }));
    assert_eq!(outcome(&doc, 2), LevelOutcome::Measured);
    assert_eq!(
        outcome(&doc, 3),
        skipped(SkipReason::DependsOn { level: Level(1) })
    );
    assert_eq!(
        outcome(&doc, 4),
        skipped(SkipReason::DependsOn { level: Level(1) })
    );
    assert_eq!(f.provisioned, [0, 1, 2]);
}

#[test]
fn after_an_interrupt_the_rest_is_skipped_without_a_post_mortem() {
    let mut f = Fake::nested(3);
    f.script.insert(1, Script::AgentDies);
    let (doc, _d) = run(&mut f, Some(2));
    assert!(matches!(outcome(&doc, 1), LevelOutcome::AgentFailed { .. }));
    for l in [2, 3] {
        assert_eq!(outcome(&doc, l), skipped(SkipReason::Interrupted));
    }
    assert!(f.diagnosed.is_empty());
    assert_eq!(f.provisioned, [0, 1]);
}

#[test]
fn the_rules_alone_on_textbook_cases() {
    let done = |level: u32, outcome: LevelOutcome| rules::Done {
        level: Level(level),
        outcome,
        hosting: None,
    };
    let nested = |l: Level, on: Level| on < l;
    let measured = [
        done(0, LevelOutcome::Measured),
        done(1, LevelOutcome::Measured),
    ];
    assert_eq!(
        rules::decide(Level(2), &measured, &nested, false),
        rules::Decision::Attempt
    );
    assert_eq!(
        rules::decide(Level(0), &[], &nested, false),
        rules::Decision::Attempt
    );
    assert_eq!(
        rules::decide(Level(2), &measured, &nested, true),
        rules::Decision::Skip(SkipReason::Interrupted)
    );
    let l0_failed = [done(
        0,
        LevelOutcome::AgentFailed {
            reason: "x".into(),
            results_kept: 0,
        },
    )];
    assert_eq!(
        rules::decide(Level(1), &l0_failed, &nested, false),
        rules::Decision::Skip(SkipReason::ReferenceMissing)
    );
    assert_eq!(
        rules::classify(rules::AgentEnd::Finished, Some((Level(1), "x".into()))),
        LevelOutcome::Measured,
        "a finished agent is measured whatever a post-mortem would say"
    );
}
