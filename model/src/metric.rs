//! The one identity of a metric. A result on the wire, a row of a report, a line of a
//! compare and a series in a chart all name their metric with a [`MetricId`]: the
//! workload and metric ids (the key), plus the unit and direction the agent recorded
//! with it. What the project knows *about* the metric (category, noise threshold,
//! layer, description) is looked up in the [`crate::catalog`] with [`MetricId::def`].

use crate::catalog::{self, MetricDef, WorkloadDef};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which metric: `workload/metric`, with the unit and direction it was measured in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MetricId {
    /// Workload id, e.g. `mem.stream`.
    pub workload: String,
    /// Metric id within the workload, e.g. `triad`.
    pub metric: String,
    /// Unit as recorded, e.g. `GB/s` (the catalog's [`catalog::Unit`] text).
    pub unit: String,
    /// Whether a larger value is better (rates) or worse (latencies).
    pub higher_is_better: bool,
}

impl MetricId {
    /// The id of a catalog metric, with the catalog's unit and direction.
    pub fn of(w: &WorkloadDef, m: &MetricDef) -> MetricId {
        MetricId {
            workload: w.id.to_string(),
            metric: m.name.to_string(),
            unit: m.unit.as_str().to_string(),
            higher_is_better: m.higher_is_better(),
        }
    }

    /// The id of the catalog metric `workload/metric`, when the catalog has it.
    pub fn known(workload: &str, metric: &str) -> Option<MetricId> {
        catalog::metric(workload, metric).map(|(w, m)| MetricId::of(w, m))
    }

    /// `workload/metric`: what results are matched on across levels and runs.
    pub fn key(&self) -> String {
        format!("{}/{}", self.workload, self.metric)
    }

    /// Whether `other` names the same metric (units and direction aside).
    pub fn same(&self, other: &MetricId) -> bool {
        self.workload == other.workload && self.metric == other.metric
    }

    /// The catalog's entry, when this build knows the metric (a newer agent's may not).
    pub fn def(&self) -> Option<(&'static WorkloadDef, &'static MetricDef)> {
        catalog::metric(&self.workload, &self.metric)
    }

    /// The workload's category name: the catalog's, else the id's prefix.
    pub fn category(&self) -> String {
        catalog::category_name(&self.workload)
    }

    /// CV above which a result of this metric is flagged noisy (catalog, else 0.10).
    pub fn noise_cv(&self) -> f64 {
        self.def()
            .map_or(catalog::DEFAULT_NOISE_CV, |(_, m)| m.noise_cv)
    }
}

impl fmt::Display for MetricId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.workload, self.metric)
    }
}
