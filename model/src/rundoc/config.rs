//! run.json `config`: the validated configuration of the run, typed. Backend-specific
//! options sit in their own optional tables, so a new backend adds one table.

use crate::{AccelChoice, Sizes, Suite};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Which backend provisioned the levels.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// L0 only (`--levels 0`).
    Host,
    /// Nested QEMU guests.
    Qemu,
    /// Existing machines from a TOML file.
    Inventory,
    /// Nested Hyper-V VMs created on a Hyper-V host.
    Hyperv,
    /// A backend this build does not know (written by a newer nestbench).
    #[serde(untagged)]
    Other(String),
}

impl BackendKind {
    /// The word used in run.json and on the command line.
    pub fn as_str(&self) -> &str {
        match self {
            BackendKind::Host => "host",
            BackendKind::Qemu => "qemu",
            BackendKind::Inventory => "inventory",
            BackendKind::Hyperv => "hyperv",
            BackendKind::Other(s) => s,
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The configuration a run used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfigRecord {
    /// Backend.
    pub backend: BackendKind,
    /// Levels below L0 the run planned.
    pub levels: u32,
    /// Suite.
    pub suite: Suite,
    /// Workload filter (`--only`), `None` for all.
    #[serde(default)]
    pub only: Option<Vec<String>>,
    /// Whether the stack was left up.
    #[serde(default)]
    pub keep: bool,
    /// Working-set sizes every level ran with (after fitting the smallest level).
    #[serde(default)]
    pub sizes: Sizes,
    /// QEMU options, for the QEMU backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qemu: Option<QemuConfig>,
    /// The inventory, for the inventory backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<InventoryConfig>,
    /// Hyper-V options, for the Hyper-V backend (added after version 2: optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hyperv: Option<HypervConfig>,
    /// `--tag K=V` labels of the run (e.g. the QEMU or kernel commit under test): kept
    /// with it in the history and usable in selections; not part of the configuration
    /// fingerprint, so runs of one configuration with different tags stay comparable.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// Options of the QEMU backend as given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QemuConfig {
    /// `--accel`.
    #[serde(default)]
    pub accel: AccelChoice,
    /// `--memory` (L1, MiB), when given.
    #[serde(default)]
    pub memory_mib: Option<u64>,
    /// `--cpus` (L1), when given.
    #[serde(default)]
    pub cpus: Option<u32>,
    /// `--qemu-arg LEVEL:ARG` as given.
    #[serde(default)]
    pub qemu_args: Vec<String>,
    /// `--relaunch N`: how many times the run may bring a lost part of the stack
    /// back up and measure the level it lost again (added after version 2: optional;
    /// absent in older files, whose runs never relaunched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relaunch: Option<u32>,
}

/// The inventory file of an inventory run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryConfig {
    /// Path as given.
    pub file: String,
}

/// Options of the Hyper-V backend as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HypervConfig {
    /// `--hyperv-host USER@HOST`.
    pub host: String,
    /// `--base-vhdx`, a path on the Hyper-V host.
    pub base_vhdx: String,
    /// `--leaf-vhdx`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf_vhdx: Option<String>,
    /// `--switch NAME`: the switch of every level without its own.
    pub switch: String,
    /// `--switch Ln=NAME`: the levels given their own switch, by level number.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub switch_levels: std::collections::BTreeMap<u32, String>,
    /// `--memory` (L1, MiB), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mib: Option<u64>,
    /// `--cpus` (every level), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<u32>,
}
