//! run.json `provenance`: where the numbers came from, typed — the tool build, the
//! agent's digest, the host and its load, and what the backend used (image, QEMU,
//! inventory). Two runs are checked for comparability from these facts, and a figure
//! can be traced to the build that produced it.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where the numbers came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// Git commit nestbench was built from, when known.
    #[serde(default)]
    pub tool_commit: Option<String>,
    /// SHA-256 of the agent binary deployed to every level.
    #[serde(default)]
    pub agent_sha256: Option<String>,
    /// Where that agent was read from.
    #[serde(default)]
    pub agent_path: Option<String>,
    /// The machine nestbench ran on.
    #[serde(default)]
    pub host: HostFacts,
    /// Its load average at the start and end of the run.
    #[serde(default)]
    pub host_load: HostLoad,
    /// The guest image (QEMU backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageRecord>,
    /// The QEMU that ran L1 and the overrides given (QEMU backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qemu: Option<QemuRecord>,
    /// The inventory's levels (inventory backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<InventoryRecord>,
}

/// The machine running nestbench.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostFacts {
    /// CPU model.
    #[serde(default)]
    pub cpu: Option<String>,
    /// Logical CPUs.
    #[serde(default)]
    pub vcpus: Option<u32>,
    /// Memory, MiB.
    #[serde(default)]
    pub memory_mib: Option<u64>,
    /// Kernel release.
    #[serde(default)]
    pub kernel: Option<String>,
    /// Its last-level cache, MiB: what the run's memory sizes were judged against and
    /// what every level's agent was given (`--llc-mib`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llc_mib: Option<u64>,
}

/// The host's load average around the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct HostLoad {
    /// When the run started.
    #[serde(default)]
    pub at_start: Option<LoadAvg>,
    /// When it finished.
    #[serde(default)]
    pub at_end: Option<LoadAvg>,
}

impl HostLoad {
    /// The higher 1-minute load of start and end, when either is known.
    pub fn peak_one_minute(&self) -> Option<f64> {
        [self.at_start, self.at_end]
            .iter()
            .flatten()
            .map(|l| l.one)
            .reduce(f64::max)
    }
}

/// A load average: runnable tasks over 1, 5 and 15 minutes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoadAvg {
    /// 1-minute average.
    pub one: f64,
    /// 5-minute average (unknown in some version 1 files).
    #[serde(default)]
    pub five: Option<f64>,
    /// 15-minute average (unknown in some version 1 files).
    #[serde(default)]
    pub fifteen: Option<f64>,
}

/// Text that is not `/proc/loadavg`'s three numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a load average (expected three numbers, as in /proc/loadavg)")]
pub struct BadLoadAvg(pub String);

impl FromStr for LoadAvg {
    type Err = BadLoadAvg;
    /// Parses the first three fields of `/proc/loadavg` (`0.52 0.31 0.20 1/123 456`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadLoadAvg(s.to_string());
        let mut it = s.split_whitespace().map(|w| w.parse::<f64>());
        let mut next = || match it.next() {
            Some(Ok(v)) if v.is_finite() && v >= 0.0 => Ok(v),
            _ => Err(bad()),
        };
        Ok(LoadAvg {
            one: next()?,
            five: Some(next()?),
            fifteen: Some(next()?),
        })
    }
}

impl fmt::Display for LoadAvg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.one)?;
        for v in [self.five, self.fifteen].into_iter().flatten() {
            write!(f, " {v:.2}")?;
        }
        Ok(())
    }
}

/// The guest image a QEMU stack booted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// Content digest of kernel + initramfs.
    pub digest: String,
    /// The Debian kernel package it was built from.
    #[serde(default)]
    pub kernel_package: Option<String>,
}

/// The QEMU that ran L1, and the overrides given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QemuRecord {
    /// `qemu-system-x86_64` (or `--qemu`) used for L1.
    pub l1_binary: String,
    /// Its `--version` first line.
    #[serde(default)]
    pub l1_version: Option<String>,
    /// `--kernel`, when given.
    #[serde(default)]
    pub kernel_override: Option<String>,
    /// `--initrd`, when given.
    #[serde(default)]
    pub initrd_override: Option<String>,
}

/// The machines an inventory run measured.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryRecord {
    /// The inventory file.
    pub file: String,
    /// Its levels, L1 first.
    #[serde(default)]
    pub levels: Vec<InventoryLevelRecord>,
    /// The file's `[l0]`: L0 was this remote machine, not the one running nestbench
    /// (added after version 2, omitted when L0 was local).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l0: Option<InventoryLevelRecord>,
}

/// One inventory level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryLevelRecord {
    /// Its name in the file.
    pub name: String,
    /// `user@host:port`.
    pub endpoint: String,
    /// The level it is reached through, if any.
    #[serde(default)]
    pub via: Option<String>,
    /// Where the agent ran.
    #[serde(default)]
    pub workdir: String,
}
