//! L0 as a level like the others. A backend whose reference level is the machine
//! running nestbench (QEMU, inventory without `[l0]`) hands out [`local_level`] for L0:
//! nothing to provision, a [`LocalRemote`] to deploy through, the agent's files in
//! `$TMPDIR`. [`HostBackend`] is the backend of `--levels 0`: L0 and nothing else.

use super::{Backend, BackendError, BackendErrorKind, Capacity, Provisioned};
use crate::remote::local::LocalRemote;
use model::rundoc::{LevelEnv, Provenance};
use model::{Accel, Level};
use std::path::Path;

/// The machine running nestbench, ready to measure as L0.
pub fn local_level() -> Provisioned {
    let dir = std::env::temp_dir();
    let workdir = dir.display().to_string();
    let env = LevelEnv {
        accel: Some(Accel::Native),
        disk: Some(format!(
            "{workdir} on the host's {} (no virtual disk layer)",
            fs_type(&dir)
        )),
        ..LevelEnv::default()
    };
    Provisioned {
        remote: Box::new(LocalRemote::default()),
        env,
        provision_s: 0.0,
        connect_s: None,
        site: crate::deploy::Site::at(workdir),
    }
}

/// The file system type `path` lives on, for run.json (`ext4`, `tmpfs`, …), from the
/// longest matching mount point in /proc/self/mounts.
pub fn fs_type(path: &Path) -> String {
    let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") else {
        return "unknown".into();
    };
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    mounts
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (_, mnt, ty) = (w.next()?, w.next()?, w.next()?);
            path.starts_with(mnt).then(|| (mnt.len(), ty.to_string()))
        })
        .max()
        .map_or_else(|| "unknown".into(), |(_, t)| t)
}

/// `--levels 0`: the host alone.
#[derive(Debug, Default)]
pub struct HostBackend;

impl Backend for HostBackend {
    fn name(&self) -> &'static str {
        "host"
    }

    fn depth(&self) -> u32 {
        0
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
        _say: &mut dyn FnMut(&str),
    ) -> Result<Provisioned, BackendError> {
        if level.is_host() {
            Ok(local_level())
        } else {
            Err(BackendError::new(
                level,
                BackendErrorKind::NotPlanned { depth: 0 },
            ))
        }
    }

    fn teardown(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_level_is_native_and_names_its_file_system() {
        let p = local_level();
        assert_eq!(p.env.accel, Some(Accel::Native));
        assert!(p.env.disk.unwrap().contains("no virtual disk layer"));
        assert_eq!(fs_type(Path::new("/proc")), "proc");
    }
}
