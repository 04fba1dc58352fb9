//! What a Hyper-V stack has made, and taking it down again. The [`Ledger`] lists every
//! VM the run created (with the disks it made for it) and every machine that hosts
//! one (the Hyper-V host, then L1, L2, …, with how to reach it); it is shared between
//! the backend and the interrupt hook, so SIGINT tears down exactly what exists.
//!
//! [`teardown`] works deepest first, on fresh SSH connections (the run's own may be
//! in use on the main thread when a signal comes): on the machine hosting each VM,
//! `hyperv_remove_vm` (Stop-VM -TurnOff -Force, Remove-VM, which leaves the disks),
//! then `remove_files` with the disks this run made — never a path it did not make,
//! so the base VHDX and everything else the user owns stay. It is idempotent, and it
//! closes the ledger, so a VM the main thread was about to create never is.
//!
//! `--keep` writes the ledger to `RUN_DIR/hyperv-stack.json`; `nestbench down
//! RUN_DIR` reads it back and runs the same teardown ([`down`]).

use super::ops;
use crate::remote::ssh::{HostKeyCheck, SshRemote, SshTarget};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// File name of a kept stack in the run directory.
pub const FILE: &str = "hyperv-stack.json";

/// How to reach one machine, as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// `Hyper-V host`, `L1`, …
    pub name: String,
    /// Address (as seen from the machine before it in the chain).
    pub host: String,
    /// SSH port.
    pub port: u16,
    /// User.
    pub user: String,
    /// Private key.
    pub key: PathBuf,
    /// The pinned host key (guests), base64.
    #[serde(default)]
    pub pinned: Option<String>,
    /// known_hosts (the Hyper-V host).
    #[serde(default)]
    pub known_hosts: Option<PathBuf>,
    /// Record an unknown host key (the Hyper-V host, `--accept-new`).
    #[serde(default)]
    pub accept_new: bool,
}

impl Endpoint {
    /// As [`SshRemote::connect`] takes it.
    pub fn target(&self) -> SshTarget {
        SshTarget {
            name: self.name.clone(),
            host: self.host.clone(),
            port: self.port,
            user: self.user.clone(),
            key: self.key.clone(),
            host_key: match (&self.pinned, &self.known_hosts) {
                (Some(b64), _) => HostKeyCheck::Pinned {
                    key_base64: b64.clone(),
                },
                (None, file) => HostKeyCheck::KnownHosts {
                    file: file.clone().unwrap_or_default(),
                    accept_new: self.accept_new,
                },
            },
        }
    }
}

/// A machine that hosts a level: the Hyper-V host (index 0) or a guest with the
/// Hyper-V role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    /// How to reach it (through every machine before it).
    pub endpoint: Endpoint,
    /// A directory it may write (scripts, disks, copies).
    pub scratch: String,
}

/// A VM the run created on `machines[level - 1]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Made {
    /// The level it is.
    pub level: u32,
    /// Its name.
    pub vm: String,
    /// The disks made for it (differencing and config disk).
    pub disks: Vec<String>,
}

/// Everything the run made, and how to reach where it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    /// Index 0 the Hyper-V host, k the level Lk once reached.
    pub machines: Vec<Machine>,
    /// VMs in the order made (the deepest last).
    pub made: Vec<Made>,
    /// The stack's private directory (keys), removed with the stack.
    pub dir: Option<PathBuf>,
    /// Torn down (or kept): nothing more may be made.
    #[serde(skip)]
    pub closed: bool,
}

/// How long one connection or operation of the teardown may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// Connect to `machines[k]` through the ones before it.
pub fn connect(machines: &[Machine], k: usize, timeout: Duration) -> anyhow::Result<SshRemote> {
    let via: Vec<SshTarget> = machines[..k].iter().map(|m| m.endpoint.target()).collect();
    Ok(SshRemote::connect(
        &machines[k].endpoint.target(),
        &via,
        timeout,
    )?)
}

/// Remove every VM in `ledger`, deepest first, and the disks made for it; then the
/// stack's directory. `say` reports each VM. Errors are collected: a VM that could not
/// be removed is named, and the shallower ones are still removed (a parent's removal
/// takes its children's memory and disks with it).
pub fn teardown(ledger: &mut Ledger, say: &mut dyn FnMut(&str)) -> anyhow::Result<()> {
    ledger.closed = true;
    let mut failed = vec![];
    while let Some(m) = ledger.made.last().cloned() {
        let k = m.level as usize - 1;
        match remove_one(&ledger.machines, k, &m) {
            Ok(()) => say(&format!("removed L{} ({})", m.level, m.vm)),
            Err(e) => failed.push(format!("L{} ({}): {e:#}", m.level, m.vm)),
        }
        ledger.made.pop();
    }
    if let Some(dir) = ledger.dir.take() {
        let _ = std::fs::remove_dir_all(dir);
    }
    if failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("not removed: {}", failed.join("; "))
    }
}

fn remove_one(machines: &[Machine], k: usize, m: &Made) -> anyhow::Result<()> {
    let on = machines
        .get(k)
        .with_context(|| format!("no way to reach the machine hosting L{}", m.level))?;
    let mut remote = connect(machines, k, STEP_TIMEOUT)?;
    ops::remove(&mut remote, &m.vm, &on.scratch)?;
    ops::remove_files(&mut remote, &m.disks, &on.scratch)?;
    Ok(())
}

/// Write `ledger` into `run_dir` for `nestbench down`.
pub fn write(ledger: &Ledger, run_dir: &Path) -> anyhow::Result<()> {
    std::fs::write(run_dir.join(FILE), serde_json::to_string_pretty(ledger)?)?;
    Ok(())
}

/// Whether `run_dir` holds a kept Hyper-V stack.
pub fn is_kept(run_dir: &Path) -> bool {
    run_dir.join(FILE).is_file()
}

/// `nestbench down RUN_DIR` for a kept Hyper-V stack.
pub fn down(run_dir: &Path, say: &mut dyn FnMut(&str)) -> anyhow::Result<()> {
    let path = run_dir.join(FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut ledger: Ledger = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a kept stack", path.display()))?;
    teardown(&mut ledger, say)?;
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_round_trips_and_pins_guests() {
        let host = Endpoint {
            name: "Hyper-V host".into(),
            host: "hv1".into(),
            port: 22,
            user: "Administrator".into(),
            key: "/k".into(),
            pinned: None,
            known_hosts: Some("/kh".into()),
            accept_new: false,
        };
        let l1 = Endpoint {
            name: "L1".into(),
            host: "10.0.0.5".into(),
            pinned: Some("AAAA".into()),
            known_hosts: None,
            ..host.clone()
        };
        assert!(matches!(l1.target().host_key, HostKeyCheck::Pinned { .. }));
        assert!(matches!(
            host.target().host_key,
            HostKeyCheck::KnownHosts {
                accept_new: false,
                ..
            }
        ));
        let ledger = Ledger {
            machines: vec![
                Machine {
                    endpoint: host,
                    scratch: "C:\\T".into(),
                },
                Machine {
                    endpoint: l1,
                    scratch: "C:\\W".into(),
                },
            ],
            made: vec![Made {
                level: 1,
                vm: "nb-L1".into(),
                disks: vec!["C:\\T\\nb-L1.vhdx".into()],
            }],
            dir: None,
            closed: true,
        };
        let back: Ledger = serde_json::from_str(&serde_json::to_string(&ledger).unwrap()).unwrap();
        assert_eq!(back.made, ledger.made);
        assert_eq!(back.machines, ledger.machines);
        assert!(!back.closed, "a kept stack read back can be torn down");
    }

    #[test]
    fn an_empty_ledger_tears_down_to_nothing_and_closes() {
        let mut l = Ledger::default();
        teardown(&mut l, &mut |_| {}).unwrap();
        assert!(l.closed);
    }
}
