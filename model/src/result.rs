//! One measured metric of one workload, with every sample kept.
//!
//! A result is the unit everything downstream works on: the agent emits it as a
//! `result` record, run.json stores it per level, `reports` summarises it. Its identity
//! is a [`MetricId`], flattened so the JSON keeps the fields `workload`, `metric`,
//! `unit` and `higher_is_better` at the top level.

use crate::MetricId;
use serde::{Deserialize, Serialize};

/// A metric of a workload measured at one level: all samples, the unit and the
/// parameters that were used, so two runs can be checked for comparability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadResult {
    /// Which metric, in which unit and direction.
    #[serde(flatten)]
    pub id: MetricId,
    /// The parameters the workload ran with (sizes, budgets, fallbacks taken).
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
    /// One value per timed sample, in the id's unit.
    pub samples: Vec<f64>,
}

/// A workload that failed at one level; the other workloads still ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadError {
    /// Workload id, e.g. `disk.seq`.
    pub workload: String,
    /// What went wrong, in words a user can act on.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identity_is_flat_on_the_wire() {
        let text = r#"{"workload":"cpu.int","metric":"ops","unit":"Mops/s","higher_is_better":true,"params":{},"samples":[1.0]}"#;
        let r: WorkloadResult = serde_json::from_str(text).unwrap();
        assert_eq!(r.id.key(), "cpu.int/ops");
        assert_eq!(serde_json::to_string(&r).unwrap(), text);
    }
}
