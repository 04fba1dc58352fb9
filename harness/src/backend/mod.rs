//! Backends turn a level of the plan into a reachable level, and back. The run loop
//! ([`crate::orchestrate`]) drives every backend through one lifecycle without knowing which one
//! it drives: `provision(level)` for every level *including L0* (launch + wait until it
//! answers; for a local L0, nothing) → deploy/run/collect (backend independent, see
//! [`crate::deploy`]) → `hosting` (can this level start the next?) → `teardown`
//! (deepest first, on every path). A backend decides what L0 is: the QEMU backend
//! measures the machine running nestbench ([`host::local_level`]), and so does the
//! inventory backend unless its file has an `[l0]`: then L0 is that remote machine,
//! reached over SSH like its levels.

pub mod error;
pub mod host;
pub mod hyperv;
pub mod inventory;
pub mod qemu;

pub use error::{BackendError, BackendErrorKind, ConsoleTail};

use crate::remote::Remote;
use model::rundoc::{Hosting, LevelEnv, Provenance};
use model::{HostInfo, Level};

/// A level that is up and answering.
pub struct Provisioned {
    /// A connection the orchestrator uses to deploy and run the agent.
    pub remote: Box<dyn Remote>,
    /// What the backend knows about the level: accel, qemu_version, qemu_argv, disk,
    /// tuning. The agent's `info` fills in the rest.
    pub env: LevelEnv,
    /// Seconds from this level's own launch until it answered.
    pub provision_s: f64,
    /// Seconds from its answering until the sessions to it were open, when the
    /// backend connects after `provision_s` ends.
    pub connect_s: Option<f64>,
    /// Where and how the level's agent runs: its directory (the level's scratch disk
    /// for QEMU levels), net.tcp's listener, whether the agent stays for a child.
    pub site: crate::deploy::Site,
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

/// Provisions levels 0..=depth, one at a time, each inside the previous one.
pub trait Backend {
    /// `host`, `qemu`, `inventory` or `hyperv`.
    fn name(&self) -> &'static str;

    /// How many levels below L0 this backend will bring up.
    fn depth(&self) -> u32;

    /// The smallest level's resources, when known before provisioning.
    fn capacity(&self) -> Option<Capacity>;

    /// Lines describing the plan (per level: vCPUs, memory, accel, …), printed before
    /// anything starts.
    fn describe_plan(&self) -> Vec<String>;

    /// Fill in the backend's part of run.json `provenance` (image, QEMU, inventory).
    fn record_provenance(&self, provenance: &mut Provenance);

    /// Bring up `level` and connect to it: L0 first (the reference level), then each
    /// level inside its parent, which is up and already measured. `say` reports
    /// progress in a few words.
    fn provision(
        &mut self,
        level: Level,
        say: &mut dyn FnMut(&str),
    ) -> Result<Provisioned, BackendError>;

    /// Whether `level` needs `on` to be up to be reached. In a nested stack every
    /// deeper level runs inside every shallower one, so the default is `on < level`;
    /// the inventory backend answers from its `via` chains, so unrelated levels still
    /// run when one is down.
    fn depends_on(&self, level: Level, on: Level) -> bool {
        on < level
    }

    /// Whether measured `level`, whose agent reported `info`, can start the level
    /// below it the way this run asks. `None` when nothing is judged (a backend that
    /// starts no children, or the deepest level); a `can_host: false` answer skips the
    /// levels that depend on it, while the level's own figures stay good.
    fn hosting(&self, level: Level, info: &HostInfo) -> Option<Hosting> {
        let _ = (level, info);
        None
    }

    /// After `level`, up and reachable before, failed (its agent lost, its session
    /// broken): whether the stack lost it or a level below it. Returns the level that
    /// went away and what it left behind, in words. None when the backend sees nothing
    /// wrong (the failure was the level's own) or cannot tell.
    fn diagnose(&mut self, level: Level) -> Option<(Level, String)> {
        let _ = level;
        None
    }

    /// How many times this run may bring a lost part of the stack back up with
    /// [`Backend::relaunch`] (`--relaunch`); 0 for a backend that cannot.
    fn relaunch_budget(&self) -> u32 {
        0
    }

    /// After the stack lost `from` while `to` (the same level or one inside it) was
    /// being brought up or measured: clear what is left of `from` and the levels
    /// inside it (a wedged QEMU, sessions), then bring levels `from`..`to` (`to`
    /// itself excluded) back up, so that the run loop can provision and measure `to`
    /// again. Relaunched levels are not
    /// measured again: their figures were taken before their child started, and stand.
    /// What the lost levels left (consoles, QEMU logs) is kept first.
    fn relaunch(
        &mut self,
        from: Level,
        to: Level,
        say: &mut dyn FnMut(&str),
    ) -> Result<(), BackendError> {
        let _ = (to, say);
        Err(BackendError::new(
            from,
            BackendErrorKind::NotSupported(format!(
                "the {} backend cannot bring a level back up",
                self.name()
            )),
        ))
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
