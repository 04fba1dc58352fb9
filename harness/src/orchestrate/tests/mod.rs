//! The run loop against a fake backend (no root, no QEMU, no SSH): every status rule of
//! `rules.rs`, driven through the real loop, the real run directory and real files. The
//! measurement is scripted per level, the way hyperfine drives its scheduler with a
//! mock executor.

use super::*;
use crate::backend::{BackendError, Capacity, Provisioned};
use crate::deploy::{DeployError, Measured};
use crate::progress::LevelProgress;
use crate::remote::{ExecStatus, Remote, RemoteError};
use model::protocol::StreamOutcome;
use model::rundoc::{Hosting, LevelEnv, Provenance, SkipReason};
use model::{HostInfo, MetricId, WorkloadResult};
use std::collections::BTreeMap;
use std::time::Duration;

mod relaunch;

/// What a scripted level does when measured.
#[derive(Clone)]
enum Script {
    /// The agent finishes with one result; the level can host a child or not.
    Ok { can_host: bool },
    /// The agent breaks after one result.
    AgentDies,
    /// The agent breaks after one result the first time, and finishes after that.
    DiesOnce,
    /// Nothing can be deployed.
    DeployFails,
}

/// A backend whose levels do what the test says, and which records what was asked.
struct Fake {
    depth: u32,
    script: BTreeMap<u32, Script>,
    /// Levels whose provisioning fails.
    unreachable: Vec<u32>,
    /// `diagnose(level)` answers: the level that went away.
    lost: BTreeMap<u32, u32>,
    /// Inventory-style `via` parents (level → the level it is reached through); None:
    /// nested (every shallower level).
    via: Option<BTreeMap<u32, u32>>,
    provisioned: Vec<u32>,
    diagnosed: Vec<u32>,
    torn_down: bool,
    /// `relaunch_budget()`.
    budget: u32,
    /// `relaunch(from, to)` calls.
    relaunched: Vec<(u32, u32)>,
    /// Whether `relaunch` fails.
    relaunch_fails: bool,
    /// Levels whose first provisioning fails (and the level `diagnose` then names).
    boot_lost_once: BTreeMap<u32, u32>,
}

impl Fake {
    fn nested(depth: u32) -> Fake {
        Fake {
            depth,
            script: (0..=depth)
                .map(|l| (l, Script::Ok { can_host: true }))
                .collect(),
            unreachable: vec![],
            lost: BTreeMap::new(),
            via: None,
            provisioned: vec![],
            diagnosed: vec![],
            torn_down: false,
            budget: 0,
            relaunched: vec![],
            relaunch_fails: false,
            boot_lost_once: BTreeMap::new(),
        }
    }
}

struct NoRemote;

impl Remote for NoRemote {
    fn endpoint(&self) -> String {
        "fake".into()
    }
    fn exec_lines(
        &mut self,
        _: &str,
        _: Duration,
        _: &mut dyn FnMut(&str),
    ) -> Result<ExecStatus, RemoteError> {
        unreachable!("the fake measurement never talks to the level")
    }
    fn upload(&mut self, _: &[u8], _: &str, _: u32, _: Duration) -> Result<(), RemoteError> {
        unreachable!("the fake measurement never talks to the level")
    }
}

impl Backend for Fake {
    fn name(&self) -> &'static str {
        "fake"
    }
    fn depth(&self) -> u32 {
        self.depth
    }
    fn capacity(&self) -> Option<Capacity> {
        None
    }
    fn describe_plan(&self) -> Vec<String> {
        vec![]
    }
    fn record_provenance(&self, _: &mut Provenance) {}
    fn provision(
        &mut self,
        level: Level,
        _: &mut dyn FnMut(&str),
    ) -> Result<Provisioned, BackendError> {
        self.provisioned.push(level.0);
        if let Some(lost) = self.boot_lost_once.remove(&level.0) {
            self.lost.insert(level.0, lost);
            return Err(BackendError::new(
                level,
                RemoteError::Connect {
                    endpoint: level.to_string(),
                    reason: format!("L{lost} went away while it booted"),
                },
            ));
        }
        if self.unreachable.contains(&level.0) {
            return Err(BackendError::new(
                level,
                RemoteError::Connect {
                    endpoint: level.to_string(),
                    reason: "it did not boot".into(),
                },
            ));
        }
        Ok(Provisioned {
            remote: Box::new(NoRemote),
            env: LevelEnv::default(),
            provision_s: 1.0,
            connect_s: None,
            // The measurement reads the level from here.
            site: crate::deploy::Site::at(level.0.to_string()),
        })
    }
    fn depends_on(&self, level: Level, on: Level) -> bool {
        match &self.via {
            None => on < level,
            Some(via) => {
                let mut l = level.0;
                while let Some(&p) = via.get(&l) {
                    if p == on.0 {
                        return true;
                    }
                    l = p;
                }
                false
            }
        }
    }
    fn hosting(&self, level: Level, info: &HostInfo) -> Option<Hosting> {
        (level.0 < self.depth).then(|| Hosting {
            can_host: info.kvm_usable,
            detail: if info.kvm_usable {
                "kvm usable".into()
            } else {
                "no svm/vmx inside".into()
            },
        })
    }
    fn diagnose(&mut self, level: Level) -> Option<(Level, String)> {
        self.diagnosed.push(level.0);
        self.lost
            .get(&level.0)
            .map(|&l| (Level(l), format!("L{l}'s QEMU exited")))
    }
    fn relaunch_budget(&self) -> u32 {
        self.budget
    }
    fn relaunch(
        &mut self,
        from: Level,
        to: Level,
        _: &mut dyn FnMut(&str),
    ) -> Result<(), BackendError> {
        self.relaunched.push((from.0, to.0));
        // What was lost is gone with the relaunch.
        self.lost.remove(&to.0);
        if self.relaunch_fails {
            return Err(BackendError::new(
                from,
                RemoteError::Connect {
                    endpoint: from.to_string(),
                    reason: "it did not boot again".into(),
                },
            ));
        }
        for n in from.0..to.0 {
            self.provisioned.push(n);
        }
        Ok(())
    }
    fn teardown(&mut self) -> anyhow::Result<()> {
        self.torn_down = true;
        Ok(())
    }
}

fn one_result() -> WorkloadResult {
    WorkloadResult {
        id: MetricId::known("cpu.int", "ops").unwrap(),
        params: Default::default(),
        samples: vec![1.0, 2.0, 3.0, 4.0, 5.0],
    }
}

/// The scripted measurement of the level named by `workdir`, measured for the
/// `attempt`th time (1 first).
fn scripted(
    script: &BTreeMap<u32, Script>,
    workdir: &str,
    attempt: usize,
) -> Result<Measured, DeployError> {
    let level: u32 = workdir.parse().unwrap();
    let s = match script[&level].clone() {
        Script::DiesOnce if attempt == 1 => Script::AgentDies,
        Script::DiesOnce => Script::Ok { can_host: true },
        s => s,
    };
    let (can_host, failure) = match s {
        Script::DeployFails => {
            return Err(DeployError::Agent(format!(
                "agent does not run on L{level}"
            )))
        }
        Script::Ok { can_host } => (can_host, None),
        Script::AgentDies => (
            true,
            Some("agent stream ended without an end record".into()),
        ),
        Script::DiesOnce => unreachable!("resolved above"),
    };
    Ok(Measured {
        info: Some(HostInfo {
            kvm_usable: can_host,
            vcpus: 2,
            ..HostInfo::default()
        }),
        outcome: StreamOutcome {
            results: vec![one_result()],
            // Every level has one vCPU's worth of exit.ipi: kept, and never MISSING.
            not_applicable: vec![model::NotApplicable {
                id: MetricId::known("exit.ipi", "latency").unwrap(),
                reason: "needs two online vCPUs; this level has 1".into(),
            }],
            failure,
            ..StreamOutcome::default()
        },
        deploy_s: 0.5,
        suite_s: 2.0,
    })
}

/// Runs the real loop over `fake` in a fresh run directory; `interrupt_after` makes
/// `interrupted()` true once that many levels were provisioned.
fn run(fake: &mut Fake, interrupt_after: Option<usize>) -> (RunDoc, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let doc = RunDoc {
        schema_version: SCHEMA_VERSION,
        run_id: "t".into(),
        tool_version: "test".into(),
        started_at: rundir::now_rfc3339(),
        finished_at: None,
        status: RunStatus::Running,
        config: model::rundoc::RunConfigRecord {
            backend: model::rundoc::BackendKind::Qemu,
            levels: fake.depth,
            suite: model::Suite::Smoke,
            only: None,
            keep: false,
            sizes: model::Sizes::default(),
            qemu: None,
            inventory: None,
            hyperv: None,
            tags: Default::default(),
        },
        levels: Level::up_to(fake.depth).map(LevelRecord::pending).collect(),
        provenance: Provenance::default(),
    };
    let rd = RunDir::start(dir.path(), doc).unwrap();
    let script = fake.script.clone();
    let provisioned = std::cell::Cell::new(0usize);
    let mut attempts: BTreeMap<String, usize> = BTreeMap::new();
    let mut measure =
        |_: &mut dyn crate::remote::Remote, site: &crate::deploy::Site, _: &mut LevelProgress| {
            let workdir = site.workdir.as_str();
            provisioned.set(provisioned.get() + 1);
            let n = attempts.entry(workdir.to_string()).or_default();
            *n += 1;
            scripted(&script, workdir, *n)
        };
    let interrupted = || interrupt_after.is_some_and(|n| provisioned.get() >= n);
    measure_levels(&rd, fake, &mut measure, &interrupted).unwrap();
    let doc = rd.snapshot();
    rd.finish(rules::run_status(&doc.levels)).unwrap();
    // What is on disk is what the loop recorded.
    let text = std::fs::read_to_string(dir.path().join("run.json")).unwrap();
    let on_disk = RunDoc::from_json(&text, "run.json").unwrap();
    assert_eq!(on_disk.levels, doc.levels);
    (on_disk, dir)
}

fn outcome(doc: &RunDoc, level: u32) -> LevelOutcome {
    doc.levels[level as usize].outcome.clone().unwrap()
}

fn skipped(because: SkipReason) -> LevelOutcome {
    LevelOutcome::Skipped { reason: because }
}

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
