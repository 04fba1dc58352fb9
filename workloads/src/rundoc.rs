//! run.json, schema_version 1: the source of truth of a run directory.
//!
//! The controller rewrites it after every level so a later failure loses nothing;
//! `reports` reads it and derives every summary (medians, intervals, relative-to-L0),
//! which are never stored here.

use crate::{HostInfo, WorkloadError, WorkloadResult};
use serde::{Deserialize, Serialize};

/// The schema version this build writes and the newest it can read.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDoc {
    /// [`SCHEMA_VERSION`] at the time of writing.
    pub schema_version: u32,
    /// Unique id, also the default run directory name.
    pub run_id: String,
    /// nestbench version that made the run.
    pub tool_version: String,
    /// RFC 3339 start time.
    pub started_at: String,
    /// RFC 3339 finish time, `None` while running.
    pub finished_at: Option<String>,
    /// Overall status.
    pub status: RunStatus,
    /// The validated configuration the run used (backend, levels, suite, sizes, …).
    pub config: serde_json::Map<String, serde_json::Value>,
    /// L0 first, then L1, L2, …
    pub levels: Vec<LevelRecord>,
    /// Where the numbers came from: tool commit, image digest, host load, …
    #[serde(default)]
    pub provenance: serde_json::Map<String, serde_json::Value>,
}

/// Status of the run as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Still going (or the controller was killed hard).
    Running,
    /// Every level ok.
    Complete,
    /// Some levels failed or were skipped.
    Partial,
    /// L0 could not be measured.
    Failed,
}

/// Status of one level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LevelStatus {
    /// The agent finished (failed workloads are listed in `errors`).
    Ok,
    /// Could not be provisioned or reached, or its agent died.
    Failed,
    /// A level it depends on failed.
    Skipped,
    /// Not reached yet (only while the run is going).
    Pending,
}

/// One level of the stack (0 = host).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelRecord {
    /// Nesting depth, 0 for the host.
    pub level: u32,
    /// Display name, e.g. `L2`.
    #[serde(default)]
    pub name: String,
    /// Outcome.
    pub status: LevelStatus,
    /// Why the level failed or was skipped.
    pub error: Option<String>,
    /// What the level is and how it runs.
    pub env: LevelEnv,
    /// Lifecycle durations.
    pub timings: Timings,
    /// Workloads that failed at this level.
    #[serde(default)]
    pub errors: Vec<WorkloadError>,
    /// Everything measured at this level.
    #[serde(default)]
    pub results: Vec<WorkloadResult>,
}

impl LevelRecord {
    /// A level that has not been reached yet.
    pub fn pending(level: u32) -> Self {
        LevelRecord {
            level,
            name: format!("L{level}"),
            status: LevelStatus::Pending,
            error: None,
            env: LevelEnv::default(),
            timings: Timings::default(),
            errors: vec![],
            results: vec![],
        }
    }
}

/// The environment of a level: what the agent saw plus what the backend did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LevelEnv {
    /// CPU model as the level sees it.
    pub cpu_model: Option<String>,
    /// vCPUs.
    pub vcpus: Option<u32>,
    /// Memory, MiB.
    pub memory_mib: Option<u64>,
    /// Kernel release.
    pub kernel: Option<String>,
    /// Hypervisor signature seen from inside (None on bare metal).
    pub hypervisor: Option<String>,
    /// `svm`/`vmx` when visible.
    pub virt_extensions: Option<String>,
    /// /dev/kvm usable inside this level.
    pub kvm_usable: Option<bool>,
    /// How this level is run by its parent: `kvm`, `tcg`, `native` (L0) or `unknown`
    /// (inventory levels).
    pub accel: Option<String>,
    /// `qemu-system-x86_64 --version` of the QEMU that runs this level.
    pub qemu_version: Option<String>,
    /// What backs the scratch disk the disk workloads use.
    pub disk: Option<String>,
    /// Kernel command line / QEMU flags applied to this level that change what some
    /// workloads measure (e.g. `mitigations=off`), empty when none.
    #[serde(default)]
    pub tuning: Vec<String>,
    /// The exact QEMU command line that started this level.
    #[serde(default)]
    pub qemu_argv: Vec<String>,
}

impl LevelEnv {
    /// Fill the agent-observed fields from `info`.
    pub fn absorb_info(&mut self, info: &HostInfo) {
        self.cpu_model = Some(info.cpu_model.clone());
        self.vcpus = Some(info.vcpus);
        self.memory_mib = Some(info.memory_mib);
        self.kernel = Some(info.kernel.clone());
        self.hypervisor = info.hypervisor.clone();
        self.virt_extensions = info.virt_extensions.clone();
        self.kvm_usable = Some(info.kvm_usable);
    }
}

/// Lifecycle durations of a level, seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// From this level's own launch until it answered over SSH.
    pub provision_s: Option<f64>,
    /// From the start of the run until this level answered (0 for L0).
    pub ready_s: Option<f64>,
    /// Agent upload and verification.
    pub deploy_s: Option<f64>,
    /// The agent's run.
    pub suite_s: Option<f64>,
}

/// Why a run.json could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RunDocError {
    /// Not JSON, or not a run.json.
    #[error("{path} is not a valid nestbench run.json ({source}); point at a run directory or its run.json")]
    Corrupt {
        /// The file.
        path: String,
        /// Parser error.
        source: serde_json::Error,
    },
    /// Written by a newer nestbench.
    #[error("{path} has schema_version {found}, newer than this nestbench understands ({SCHEMA_VERSION}); upgrade nestbench")]
    TooNew {
        /// The file.
        path: String,
        /// Version found.
        found: u64,
    },
}

impl RunDoc {
    /// Parse run.json text; `path` is only used in messages.
    pub fn from_json(text: &str, path: &str) -> Result<RunDoc, RunDocError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|source| RunDocError::Corrupt {
                path: path.into(),
                source,
            })?;
        if let Some(v) = value.get("schema_version").and_then(|v| v.as_u64()) {
            if v > SCHEMA_VERSION as u64 {
                return Err(RunDocError::TooNew {
                    path: path.into(),
                    found: v,
                });
            }
        }
        serde_json::from_value(value).map_err(|source| RunDocError::Corrupt {
            path: path.into(),
            source,
        })
    }

    /// Pretty JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("run documents always serialize")
    }
}
