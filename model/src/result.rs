//! One measured metric of one workload, with every sample kept.
//!
//! A result is the unit everything downstream works on: the agent emits it as a
//! `result` record, run.json stores it per level, `reports` summarises it. Its identity
//! is a [`MetricId`], flattened so the JSON keeps the fields `workload`, `metric`,
//! `unit` and `higher_is_better` at the top level.
//!
//! A metric that cannot be measured at a level because the level lacks what it needs
//! (a second vCPU, a hypervisor that answers hypercalls from user space) is neither a
//! result nor an error: it is [`NotApplicable`], with the reason, so reports can say
//! "n/a" instead of "missing" or "failed".

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

/// A metric that does not apply at one level, and why: the level lacks something the
/// metric needs. It is an outcome of its own — never a figure, never a failure — that
/// reports show as "n/a" with the reason and `compare` does not count as missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotApplicable {
    /// Which metric, in the unit and direction it would have been measured in.
    #[serde(flatten)]
    pub id: MetricId,
    /// What the level lacks, in words a user can check, e.g. `needs two online vCPUs;
    /// this level has 1`.
    pub reason: String,
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

    #[test]
    fn not_applicable_is_flat_on_the_wire_and_needs_a_reason() {
        let text = r#"{"workload":"exit.ipi","metric":"latency","unit":"ns","higher_is_better":false,"reason":"needs two online vCPUs; this level has 1"}"#;
        let n: NotApplicable = serde_json::from_str(text).unwrap();
        assert_eq!(n.id.key(), "exit.ipi/latency");
        assert_eq!(serde_json::to_string(&n).unwrap(), text);
        let without = text.replace(
            r#","reason":"needs two online vCPUs; this level has 1""#,
            "",
        );
        assert!(serde_json::from_str::<NotApplicable>(&without).is_err());
    }
}
