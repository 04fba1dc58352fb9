//! One measured metric of one workload, with every sample kept.
//!
//! A result is the unit everything downstream works on: the agent emits it as a
//! `result` record, run.json stores it per level, `reports` summarises it.

use serde::{Deserialize, Serialize};

/// A metric of a workload measured at one level: all samples, the unit and the
/// parameters that were used, so two runs can be checked for comparability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadResult {
    /// Workload id, e.g. `mem.stream`.
    pub workload: String,
    /// Metric id within the workload, e.g. `triad`.
    pub metric: String,
    /// Unit, one of the ASCII strings of DESIGN §5 (e.g. `GB/s`, `ns`).
    pub unit: String,
    /// Whether a larger value is better (rates) or worse (latencies).
    pub higher_is_better: bool,
    /// The parameters the workload ran with (sizes, budgets, fallbacks taken).
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
    /// One value per timed sample, in `unit`.
    pub samples: Vec<f64>,
}

impl WorkloadResult {
    /// `workload/metric`, the key results are matched on across levels and runs.
    pub fn key(&self) -> String {
        format!("{}/{}", self.workload, self.metric)
    }
}

/// A workload that failed at one level; the other workloads still ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadError {
    /// Workload id, e.g. `disk.seq`.
    pub workload: String,
    /// What went wrong, in words a user can act on.
    pub message: String,
}
