//! The inventory backend (docs/inventory.md): levels that already exist — stacks built
//! by hand on Hyper-V, VMware or cloud VMs — listed in a TOML file ([`file`]). Nothing
//! is launched or torn down; "provisioning" a level is connecting to it over SSH
//! through its `via` chain, with a bounded wait, so an unreachable machine fails its
//! level (and the levels reached through it) instead of hanging the run. First contact
//! also finds out what answered (Linux or Windows, and which shell:
//! [`crate::remote::identify`]), which run.json keeps as `env.platform`.
//!
//! L0 is the machine running nestbench unless the file has an `[l0]` table: then L0
//! is that remote machine (for nested Hyper-V, the host's root partition), connected
//! to like any level, and levels may be reached through it.

pub mod file;

use super::{Backend, BackendError, BackendErrorKind, Capacity, Provisioned};
use crate::remote::identify::Identity;
use crate::remote::ssh::{SshRemote, SshTarget};
use file::{Inventory, InventoryLevel, Via};
use model::rundoc::LevelEnv;
use model::rundoc::{InventoryLevelRecord, InventoryRecord, Provenance};
use model::{Accel, Level};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Existing machines, reached over SSH.
pub struct InventoryBackend {
    file: PathBuf,
    inv: Inventory,
}

/// Where the agent goes when the file names no `workdir`: `/tmp`, or on Windows the
/// account's temporary directory.
pub fn default_workdir(id: &Identity) -> String {
    match &id.windows {
        Some(w) if !w.temp.is_empty() => w.temp.clone(),
        Some(_) => "C:\\Windows\\Temp".into(),
        None => "/tmp".into(),
    }
}

/// How a level is reached, in words: `direct` or `via L0→L1`.
pub fn route(inv: &Inventory, idx: usize) -> String {
    let chain = inv.chain(idx);
    if chain.is_empty() {
        "direct".into()
    } else {
        let names: Vec<&str> = chain
            .iter()
            .map(|&v| inv.machine(v).target.name.as_str())
            .collect();
        format!("via {}", names.join("→"))
    }
}

fn record(l: &InventoryLevel, inv: &Inventory) -> InventoryLevelRecord {
    InventoryLevelRecord {
        name: l.target.name.clone(),
        endpoint: format!("{}@{}:{}", l.target.user, l.target.host, l.target.port),
        via: l.via.map(|v| inv.machine(v).target.name.clone()),
        // Recorded before first contact: the default depends on the OS found then.
        workdir: l
            .workdir
            .clone()
            .unwrap_or_else(|| "default: /tmp, %TEMP% on Windows".into()),
    }
}

impl InventoryBackend {
    /// Read and validate the inventory at `path` (one-line error naming the line and
    /// level on failure).
    pub fn load(path: &Path) -> Result<InventoryBackend, file::InventoryError> {
        Ok(InventoryBackend {
            file: path.to_path_buf(),
            inv: file::load(path)?,
        })
    }

    /// Connect to `l` through `chain`, find out what it is, and describe it.
    fn reach(
        &self,
        level: Level,
        l: &InventoryLevel,
        chain: &[Via],
        say: &mut dyn FnMut(&str),
    ) -> Result<Provisioned, BackendError> {
        let via: Vec<SshTarget> = chain
            .iter()
            .map(|&v| self.inv.machine(v).target.clone())
            .collect();
        let timeout = chain
            .iter()
            .map(|&v| self.inv.machine(v).connect_timeout)
            .sum::<std::time::Duration>()
            + l.connect_timeout;
        let t0 = Instant::now();
        let mut remote = SshRemote::connect(&l.target, &via, timeout)
            .map_err(|e| BackendError::new(level, e))?;
        say("identify");
        let id = remote
            .identify(l.connect_timeout)
            .map_err(|e| BackendError::new(level, e))?;
        let env = LevelEnv {
            // A remote L0 is the reference as a local one is; nestbench cannot know
            // how someone else's hypervisor runs the levels below it.
            accel: Some(if level.is_host() {
                Accel::Native
            } else {
                Accel::Unknown
            }),
            platform: Some(id.platform()),
            ..LevelEnv::default()
        };
        Ok(Provisioned {
            remote: Box::new(remote),
            env,
            provision_s: t0.elapsed().as_secs_f64(),
            connect_s: None,
            site: crate::deploy::Site::at(
                l.workdir.clone().unwrap_or_else(|| default_workdir(&id)),
            ),
        })
    }
}

impl Backend for InventoryBackend {
    fn name(&self) -> &'static str {
        "inventory"
    }

    fn depth(&self) -> u32 {
        self.inv.levels.len() as u32
    }

    fn capacity(&self) -> Option<Capacity> {
        None
    }

    fn describe_plan(&self) -> Vec<String> {
        let workdir = |l: &InventoryLevel| l.workdir.clone().unwrap_or_else(|| "default".into());
        let l0 = self.inv.l0.iter().map(|l| {
            format!(
                "L0: {} direct (remote), workdir {}",
                l.target.endpoint(),
                workdir(l)
            )
        });
        l0.chain(self.inv.levels.iter().enumerate().map(|(i, l)| {
            format!(
                "L{}: {} {}, workdir {}",
                i + 1,
                l.target.endpoint(),
                route(&self.inv, i),
                workdir(l)
            )
        }))
        .collect()
    }

    fn record_provenance(&self, p: &mut Provenance) {
        p.inventory = Some(InventoryRecord {
            file: self.file.display().to_string(),
            levels: self
                .inv
                .levels
                .iter()
                .map(|l| record(l, &self.inv))
                .collect(),
            l0: self.inv.l0.as_ref().map(|l| record(l, &self.inv)),
        });
    }

    fn provision(
        &mut self,
        level: Level,
        say: &mut dyn FnMut(&str),
    ) -> Result<Provisioned, BackendError> {
        let Some(idx) = (level.0 as usize).checked_sub(1) else {
            return match &self.inv.l0 {
                None => Ok(super::host::local_level()),
                Some(l0) => {
                    say("connect (remote L0)");
                    self.reach(level, l0, &[], say)
                }
            };
        };
        let l = self.inv.levels.get(idx).ok_or_else(|| {
            let listed = self.inv.levels.len();
            BackendError::new(level, BackendErrorKind::NotListed { listed })
        })?;
        let chain = self.inv.chain(idx);
        say(&match route(&self.inv, idx).as_str() {
            "direct" => "connect".to_string(),
            via => format!("connect {via}"),
        });
        self.reach(level, l, &chain, say)
    }

    /// A level needs the hops of its `via` chain — a remote L0 among them when a level
    /// is reached through it; a local L0 reaches every level directly or through
    /// that chain, so none needs it up.
    fn depends_on(&self, level: Level, on: Level) -> bool {
        let Some(idx) = (level.0 as usize).checked_sub(1) else {
            return false;
        };
        if idx >= self.inv.levels.len() {
            return false;
        }
        let hop = match (on.0 as usize).checked_sub(1) {
            None => Via::L0,
            Some(f) => Via::Level(f),
        };
        self.inv.chain(idx).contains(&hop)
    }

    fn teardown(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}
