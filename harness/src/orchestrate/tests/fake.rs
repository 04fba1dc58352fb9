//! The fake backend the run loop's tests drive (no root, no QEMU, no SSH): levels that
//! do what a test scripts, a backend that records what it was asked, and [`run`], the
//! real loop over it in a real run directory.

use super::super::*;
use crate::backend::{BackendError, Capacity, Provisioned};
use crate::deploy::{DeployError, Measured};
use crate::progress::LevelProgress;
use crate::remote::{ExecStatus, Remote, RemoteError};
use model::protocol::StreamOutcome;
use model::rundoc::{Hosting, LevelEnv, Provenance, SkipReason};
use model::{HostInfo, MetricId, WorkloadResult};
use std::collections::BTreeMap;
use std::time::Duration;

/// What a scripted level does when measured.
#[derive(Clone)]
pub(super) enum Script {
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
pub(super) struct Fake {
    pub(super) depth: u32,
    pub(super) script: BTreeMap<u32, Script>,
    /// Levels whose provisioning fails.
    pub(super) unreachable: Vec<u32>,
    /// `diagnose(level)` answers: the level that went away.
    pub(super) lost: BTreeMap<u32, u32>,
    /// Inventory-style `via` parents (level → the level it is reached through); None:
    /// nested (every shallower level).
    pub(super) via: Option<BTreeMap<u32, u32>>,
    pub(super) provisioned: Vec<u32>,
    pub(super) diagnosed: Vec<u32>,
    pub(super) torn_down: bool,
    /// `relaunch_budget()`.
    pub(super) budget: u32,
    /// `relaunch(from, to)` calls.
    pub(super) relaunched: Vec<(u32, u32)>,
    /// Whether `relaunch` fails.
    pub(super) relaunch_fails: bool,
    /// Levels whose first provisioning fails (and the level `diagnose` then names).
    pub(super) boot_lost_once: BTreeMap<u32, u32>,
}

impl Fake {
    pub(super) fn nested(depth: u32) -> Fake {
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

pub(super) struct NoRemote;

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

pub(super) fn one_result() -> WorkloadResult {
    WorkloadResult {
        id: MetricId::known("cpu.int", "ops").unwrap(),
        params: Default::default(),
        samples: vec![1.0, 2.0, 3.0, 4.0, 5.0],
    }
}

/// The scripted measurement of the level named by `workdir`, measured for the
/// `attempt`th time (1 first).
pub(super) fn scripted(
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
pub(super) fn run(fake: &mut Fake, interrupt_after: Option<usize>) -> (RunDoc, tempfile::TempDir) {
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

pub(super) fn outcome(doc: &RunDoc, level: u32) -> LevelOutcome {
    doc.levels[level as usize].outcome.clone().unwrap()
}

pub(super) fn skipped(because: SkipReason) -> LevelOutcome {
    LevelOutcome::Skipped { reason: because }
}
