//! The inventory backend (docs/inventory.md): levels that already exist — stacks built
//! by hand on Hyper-V, VMware or cloud VMs — listed in a TOML file ([`file`]). Nothing
//! is launched or torn down; "provisioning" a level is connecting to it over SSH
//! through its `via` chain, with a bounded wait, so an unreachable machine fails its
//! level (and the levels reached through it) instead of hanging the run.

pub mod file;

use super::{Backend, BackendError, BackendErrorKind, Capacity, Provisioned};
use crate::remote::ssh::{SshRemote, SshTarget};
use file::InventoryLevel;
use model::rundoc::LevelEnv;
use model::rundoc::{InventoryLevelRecord, InventoryRecord, Provenance};
use model::{Accel, Level};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Existing machines, reached over SSH.
pub struct InventoryBackend {
    file: PathBuf,
    levels: Vec<InventoryLevel>,
}

impl InventoryBackend {
    /// Read and validate the inventory at `path` (one-line error naming the line and
    /// level on failure).
    pub fn load(path: &Path) -> Result<InventoryBackend, file::InventoryError> {
        Ok(InventoryBackend {
            file: path.to_path_buf(),
            levels: file::load(path)?,
        })
    }

    fn names(&self, idxs: &[usize]) -> Vec<&str> {
        idxs.iter()
            .map(|&i| self.levels[i].target.name.as_str())
            .collect()
    }
}

impl Backend for InventoryBackend {
    fn name(&self) -> &'static str {
        "inventory"
    }

    fn depth(&self) -> u32 {
        self.levels.len() as u32
    }

    fn capacity(&self) -> Option<Capacity> {
        None
    }

    fn describe_plan(&self) -> Vec<String> {
        (0..self.levels.len())
            .map(|i| {
                let l = &self.levels[i];
                let chain = file::chain(&self.levels, i);
                let how = if chain.is_empty() {
                    "direct".to_string()
                } else {
                    format!("via {}", self.names(&chain).join("→"))
                };
                format!(
                    "L{}: {} {}, workdir {}",
                    i + 1,
                    l.target.endpoint(),
                    how,
                    l.workdir
                )
            })
            .collect()
    }

    fn record_provenance(&self, p: &mut Provenance) {
        p.inventory = Some(InventoryRecord {
            file: self.file.display().to_string(),
            levels: self
                .levels
                .iter()
                .map(|l| InventoryLevelRecord {
                    name: l.target.name.clone(),
                    endpoint: format!("{}@{}:{}", l.target.user, l.target.host, l.target.port),
                    via: l.via.map(|v| self.levels[v].target.name.clone()),
                    workdir: l.workdir.clone(),
                })
                .collect(),
        });
    }

    fn provision(
        &mut self,
        level: Level,
        say: &mut dyn FnMut(&str),
    ) -> Result<Provisioned, BackendError> {
        let Some(idx) = (level.0 as usize).checked_sub(1) else {
            return Ok(super::host::local_level());
        };
        let l = self.levels.get(idx).ok_or_else(|| {
            let listed = self.levels.len();
            BackendError::new(level, BackendErrorKind::NotListed { listed })
        })?;
        let chain = file::chain(&self.levels, idx);
        say(&if chain.is_empty() {
            "connect".to_string()
        } else {
            format!("connect via {}", self.names(&chain).join("→"))
        });
        let via: Vec<SshTarget> = chain
            .iter()
            .map(|&i| self.levels[i].target.clone())
            .collect();
        let timeout = chain
            .iter()
            .map(|&i| self.levels[i].connect_timeout)
            .sum::<std::time::Duration>()
            + l.connect_timeout;
        let t0 = Instant::now();
        let remote = SshRemote::connect(&l.target, &via, timeout)
            .map_err(|e| BackendError::new(level, e))?;
        let env = LevelEnv {
            accel: Some(Accel::Unknown),
            ..LevelEnv::default()
        };
        Ok(Provisioned {
            remote: Box::new(remote),
            env,
            provision_s: t0.elapsed().as_secs_f64(),
            workdir: l.workdir.clone(),
        })
    }

    /// A level needs the hops of its `via` chain; L0 (the machine running nestbench)
    /// reaches every level directly or through that chain, so none needs L0 up.
    fn depends_on(&self, level: Level, on: Level) -> bool {
        let (Some(idx), Some(f)) = (
            (level.0 as usize).checked_sub(1),
            (on.0 as usize).checked_sub(1),
        ) else {
            return false;
        };
        idx < self.levels.len() && file::chain(&self.levels, idx).contains(&f)
    }

    fn teardown(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}
