//! The state file of a stack left up with `--keep` (`RUN_DIR/stack.json`): what
//! `nestbench down` needs to remove it — L1's QEMU pid, the stack directory (keys,
//! scratch file) — and how to reach each level.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// File name inside the run directory.
pub const FILE: &str = "stack.json";

/// One kept level.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeptLevel {
    /// 1-based level.
    pub level: u32,
    /// Its sshd, forwarded to 127.0.0.1 on the host.
    pub port: u16,
}

/// A kept stack.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StackState {
    /// L1's QEMU (killing it removes every level).
    pub pid: i32,
    /// The stack's private directory (keys, known_hosts, scratch file).
    pub dir: PathBuf,
    /// The client key.
    pub key: PathBuf,
    /// known_hosts with every level's pinned key.
    pub known_hosts: PathBuf,
    /// Levels that are up.
    pub levels: Vec<KeptLevel>,
}

impl StackState {
    /// The ssh command line that reaches `l`.
    pub fn ssh_command(&self, l: &KeptLevel) -> String {
        format!(
            "ssh -i {} -o UserKnownHostsFile={} -p {} root@127.0.0.1",
            self.key.display(),
            self.known_hosts.display(),
            l.port
        )
    }

    /// Write to `run_dir/stack.json`.
    pub fn write(&self, run_dir: &Path) -> anyhow::Result<()> {
        std::fs::write(run_dir.join(FILE), serde_json::to_string_pretty(self)?)?;
        Ok(())
    }

    /// Read `run_dir/stack.json`.
    pub fn read(run_dir: &Path) -> anyhow::Result<StackState> {
        let p = run_dir.join(FILE);
        let text = std::fs::read_to_string(&p).map_err(|e| {
            anyhow::anyhow!(
                "{}: {e}; is this the run directory of a `run --keep`?",
                p.display()
            )
        })?;
        Ok(serde_json::from_str(&text)?)
    }
}

/// Whether `pid` is still a QEMU process.
pub fn is_qemu(pid: i32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains("qemu"))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_prints_ssh_commands() {
        let dir = tempfile::tempdir().unwrap();
        let s = StackState {
            pid: 1,
            dir: "/tmp/x".into(),
            key: "/tmp/x/id_ed25519".into(),
            known_hosts: "/tmp/x/known_hosts".into(),
            levels: vec![KeptLevel {
                level: 1,
                port: 4242,
            }],
        };
        s.write(dir.path()).unwrap();
        assert_eq!(StackState::read(dir.path()).unwrap(), s);
        assert!(s
            .ssh_command(&s.levels[0])
            .contains("-p 4242 root@127.0.0.1"));
        assert!(StackState::read(&dir.path().join("nope")).is_err());
    }
}
