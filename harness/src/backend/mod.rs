//! Backends turn a level spec into a reachable level inside its parent, and back
//! (DESIGN §3). The orchestrator drives every backend through one lifecycle:
//! `provision(level)` (launch + wait until it answers) → deploy/run/collect (backend
//! independent, see [`crate::deploy`]) → `teardown` (deepest first, on every path).

pub mod error;
pub mod inventory;
pub mod qemu;

pub use error::{BackendError, BackendErrorKind, ConsoleTail};

use crate::remote::Remote;
use workloads::rundoc::LevelEnv;

/// A level that is up and answering.
pub struct Provisioned {
    /// A connection the orchestrator uses to deploy and run the agent.
    pub remote: Box<dyn Remote>,
    /// What the backend knows about the level: accel, qemu_version, qemu_argv, disk,
    /// tuning. The agent's `info` fills in the rest.
    pub env: LevelEnv,
    /// Seconds from this level's own launch until it answered.
    pub provision_s: f64,
    /// Directory at the level where the agent and its workload files go (the level's
    /// scratch disk for QEMU levels).
    pub workdir: String,
}

/// Memory and scratch disk of the smallest level, from which the run's working-set
/// sizes are derived before anything starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// Memory of the smallest level, MiB.
    pub memory_mib: u64,
    /// Scratch disk of the smallest level, MiB.
    pub disk_mib: u64,
}

/// Provisions levels 1..=depth, one at a time, each inside the previous one.
pub trait Backend {
    /// `qemu` or `inventory`.
    fn name(&self) -> &'static str;

    /// How many levels above L0 this backend will bring up.
    fn depth(&self) -> u32;

    /// The smallest level's resources, when known before provisioning.
    fn capacity(&self) -> Option<Capacity>;

    /// Lines describing the plan (per level: vCPUs, memory, accel, …), printed before
    /// anything starts.
    fn describe_plan(&self) -> Vec<String>;

    /// Backend facts recorded in run.json `config` and `provenance` (image digest,
    /// qemu path, inventory file, …).
    fn provenance(&self) -> serde_json::Map<String, serde_json::Value>;

    /// Bring up `level` (1-based) inside its parent, which is up and already measured,
    /// and connect to it. `say` reports progress in a few words.
    fn provision(
        &mut self,
        level: u32,
        say: &mut dyn FnMut(&str),
    ) -> Result<Provisioned, BackendError>;

    /// Whether `level` needs `failed` (a level that could not be provisioned) to be
    /// reached. In a nested stack every deeper level runs inside the failed one, so
    /// the default is true; the inventory backend answers from its `via` chains, so
    /// unrelated levels still run.
    fn depends_on(&self, level: u32, failed: u32) -> bool {
        let _ = (level, failed);
        true
    }

    /// After `level`, up and reachable before, failed (its agent lost, its session
    /// broken): whether the stack lost it or a level below it, in words that name the
    /// level that went away and what it left behind. None when the backend sees
    /// nothing wrong (the failure was the level's own) or cannot tell.
    fn diagnose(&mut self, level: u32) -> Option<String> {
        let _ = level;
        None
    }

    /// Leave the stack up for `--keep`: write what `nestbench down` needs into
    /// `run_dir` and return how to reach each level. Backends without a stack of their
    /// own return an empty list.
    fn keep(&mut self, run_dir: &std::path::Path) -> anyhow::Result<Vec<String>> {
        let _ = run_dir;
        Ok(vec![])
    }

    /// Tear everything down, deepest level first. Idempotent.
    fn teardown(&mut self) -> anyhow::Result<()>;
}
