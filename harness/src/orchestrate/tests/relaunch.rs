//! Rule 8 through the real loop: a level the stack lost is measured again after the
//! backend brought the lost part back up, within the run's budget, with the lost
//! attempt kept whole in `retries`.

use super::*;

fn retries(doc: &RunDoc, level: u32) -> &[model::rundoc::Retry] {
    &doc.levels[level as usize].retries
}

#[test]
fn a_level_lost_with_its_parent_is_measured_again_after_the_parent_is_relaunched() {
    let mut f = Fake::nested(4);
    f.budget = 1;
    f.script.insert(3, Script::DiesOnce);
    f.lost.insert(3, 2);
    let (doc, _d) = run(&mut f, None);
    assert_eq!(f.relaunched, [(2, 3)]);
    assert_eq!(
        f.provisioned,
        [0, 1, 2, 3, 2, 3, 4],
        "L2 back up, then L3 again"
    );
    assert_eq!(outcome(&doc, 3), LevelOutcome::Measured);
    assert_eq!(outcome(&doc, 4), LevelOutcome::Measured);
    assert_eq!(doc.status, RunStatus::Complete);
    let r = retries(&doc, 3);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].relaunched_from, Level(2));
    assert!(r[0].relaunch_s >= 0.0);
    // The lost attempt, whole: its outcome and what it sent before it was lost.
    let lost = &r[0].attempt;
    assert!(
        matches!(&lost.outcome, Some(LevelOutcome::Lost { lost, reason })
            if *lost == Level(2) && reason.contains("L2's QEMU exited")),
        "{:?}",
        lost.outcome
    );
    assert_eq!(lost.results.len(), 1, "the lost attempt's results are kept");
    assert!(lost.retries.is_empty());
    // Only the new attempt's results count as the level's.
    assert_eq!(doc.levels[3].results.len(), 1);
    assert!(doc
        .levels
        .iter()
        .all(|l| l.level.0 == 3 || l.retries.is_empty()));
}

#[test]
fn the_budget_is_for_the_whole_run() {
    let mut f = Fake::nested(4);
    f.budget = 1;
    f.script.insert(3, Script::DiesOnce);
    f.lost.insert(3, 2);
    f.script.insert(4, Script::DiesOnce);
    f.lost.insert(4, 3);
    let (doc, _d) = run(&mut f, None);
    assert_eq!(f.relaunched, [(2, 3)], "one relaunch, for L3");
    assert_eq!(outcome(&doc, 3), LevelOutcome::Measured);
    assert!(matches!(outcome(&doc, 4), LevelOutcome::Lost { lost, .. } if lost == Level(3)));
    assert!(retries(&doc, 4).is_empty());
    assert_eq!(doc.levels[4].results.len(), 1, "what L4 sent is kept");
    assert_eq!(doc.status, RunStatus::Partial);
}

#[test]
fn without_a_budget_a_loss_ends_the_stack_as_before() {
    let mut f = Fake::nested(3);
    f.script.insert(2, Script::DiesOnce);
    f.lost.insert(2, 1);
    let (doc, _d) = run(&mut f, None);
    assert!(f.relaunched.is_empty());
    assert!(matches!(outcome(&doc, 2), LevelOutcome::Lost { .. }));
    assert_eq!(
        outcome(&doc, 3),
        skipped(SkipReason::DependsOn { level: Level(2) })
    );
}

#[test]
fn a_relaunch_that_fails_is_said_and_the_loss_stands() {
    let mut f = Fake::nested(4);
    f.budget = 1;
    f.relaunch_fails = true;
    f.script.insert(3, Script::DiesOnce);
    f.lost.insert(3, 2);
    let (doc, _d) = run(&mut f, None);
    assert_eq!(f.relaunched, [(2, 3)]);
    match outcome(&doc, 3) {
        LevelOutcome::Lost { lost, reason } => {
            assert_eq!(lost, Level(2));
            assert!(
                reason.contains("relaunching L2 failed: ")
                    && reason.contains("it did not boot again"),
                "{reason}"
            );
        }
        o => panic!("{o:?}"),
    }
    assert_eq!(doc.levels[3].results.len(), 1, "the attempt's results stay");
    assert!(retries(&doc, 3).is_empty());
    assert_eq!(
        outcome(&doc, 4),
        skipped(SkipReason::DependsOn { level: Level(3) })
    );
}

#[test]
fn a_boot_that_failed_because_a_level_below_went_away_is_a_loss_and_is_retried() {
    let mut f = Fake::nested(3);
    f.budget = 1;
    f.boot_lost_once.insert(3, 2);
    let (doc, _d) = run(&mut f, None);
    assert_eq!(f.relaunched, [(2, 3)]);
    assert_eq!(outcome(&doc, 3), LevelOutcome::Measured);
    let r = retries(&doc, 3);
    assert_eq!(r.len(), 1);
    match &r[0].attempt.outcome {
        Some(LevelOutcome::Lost { lost, reason }) => {
            assert_eq!(*lost, Level(2));
            assert!(reason.contains("went away while it booted"), "{reason}");
            assert!(reason.contains("the stack lost L2"), "{reason}");
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn a_level_that_fails_on_its_own_is_not_attempted_again() {
    let mut f = Fake::nested(3);
    f.budget = 3;
    f.unreachable = vec![2];
    f.script.insert(1, Script::AgentDies);
    let (doc, _d) = run(&mut f, None);
    assert!(f.relaunched.is_empty(), "no loss, no relaunch");
    assert!(matches!(outcome(&doc, 1), LevelOutcome::AgentFailed { .. }));
    assert!(matches!(outcome(&doc, 2), LevelOutcome::Unreachable { .. }));
}

#[test]
fn a_level_lost_by_itself_is_cleared_and_launched_again() {
    let mut f = Fake::nested(2);
    f.budget = 1;
    f.script.insert(2, Script::DiesOnce);
    f.lost.insert(2, 2);
    let (doc, _d) = run(&mut f, None);
    assert_eq!(f.relaunched, [(2, 2)], "nothing above it to bring back");
    assert_eq!(f.provisioned, [0, 1, 2, 2]);
    assert_eq!(outcome(&doc, 2), LevelOutcome::Measured);
    assert_eq!(retries(&doc, 2)[0].relaunched_from, Level(2));
}

#[test]
fn after_an_interrupt_nothing_is_relaunched() {
    let mut f = Fake::nested(3);
    f.budget = 1;
    f.script.insert(2, Script::DiesOnce);
    f.lost.insert(2, 1);
    // Interrupted once L2's measurement started.
    let (doc, _d) = run(&mut f, Some(3));
    assert!(f.relaunched.is_empty());
    assert_eq!(doc.levels[2].results.len(), 1);
}

#[test]
fn the_rule_on_textbook_cases() {
    let lost = |l| LevelOutcome::Lost {
        lost: Level(l),
        reason: "x".into(),
    };
    assert_eq!(
        rules::relaunch_from(Level(3), &lost(2), 1, false),
        Some(Level(2))
    );
    assert_eq!(
        rules::relaunch_from(Level(3), &lost(3), 1, false),
        Some(Level(3))
    );
    assert_eq!(
        rules::relaunch_from(Level(3), &lost(2), 0, false),
        None,
        "no budget"
    );
    assert_eq!(
        rules::relaunch_from(Level(3), &lost(2), 1, true),
        None,
        "interrupted"
    );
    assert_eq!(
        rules::relaunch_from(Level(1), &lost(0), 1, false),
        None,
        "never L0"
    );
    assert_eq!(
        rules::relaunch_from(Level(2), &lost(3), 1, false),
        None,
        "not below it"
    );
    let failed = LevelOutcome::AgentFailed {
        reason: "x".into(),
        results_kept: 0,
    };
    assert_eq!(rules::relaunch_from(Level(2), &failed, 1, false), None);
    assert_eq!(
        rules::lost_while_booting(Level(3), "timeout".into(), Some((Level(3), "gone".into()))),
        LevelOutcome::Unreachable {
            reason: "timeout".into()
        },
        "its own QEMU exiting while it booted is its own failure"
    );
}
