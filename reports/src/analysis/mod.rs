//! From run.json to the figures every export and chart shows: one [`Row`] per
//! level × result, with its [`Summary`] and its figure relative to L0, plus per-level
//! geometric means by category ([`category`]).
//!
//! The set of results is the union over all levels, in the order they first appear
//! (L0's order, normally), so a failed or skipped level still has a row per metric
//! that says *failed* instead of silently disappearing or reading as zero. A metric the
//! agent reported as not applicable at a level has a row there too, with no figure and
//! the reason: "n/a", neither an error nor missing.

pub mod category;
mod relative;

use crate::stats::{Interval, Sample, Summary};
use model::rundoc::{LevelRecord, LevelStatus, RunDoc};
use model::{Accel, Level, MetricId};

pub use category::{category_of, CategoryMean, KNOWN_CATEGORY_COLORS};
pub use relative::relative_to_l0;

/// One metric of one workload at one level.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Nesting level.
    pub level: Level,
    /// Outcome of that level.
    pub level_status: LevelStatus,
    /// How the level runs, if known.
    pub accel: Option<Accel>,
    /// Which metric.
    pub id: MetricId,
    /// Statistics; `None` when the level has no usable result for this metric.
    pub summary: Option<Summary>,
    /// Why `summary` is `None` at an ok level (workload error, bad samples).
    pub problem: Option<String>,
    /// Why the metric does not apply at this level, when the agent said so (then
    /// `summary` and `problem` are `None`).
    pub not_applicable: Option<String>,
    /// Fraction of the metric's reference level, oriented so that < 1 is slower: L0,
    /// or L1 for the network ([`model::catalog::reference_level`]); only at levels
    /// deeper than the reference.
    pub relative: Option<Interval>,
}

/// Everything derived from one run.json.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The run itself.
    pub doc: RunDoc,
    /// Every metric seen at any level, in order of first appearance.
    pub metrics: Vec<MetricId>,
    /// Level-major: for each level in `doc.levels`, one row per entry of `metrics`.
    pub rows: Vec<Row>,
    /// Geometric means by category for every ok level ≥ 1.
    pub categories: Vec<CategoryMean>,
}

impl Analysis {
    /// Derive all figures of `doc`.
    pub fn new(doc: RunDoc) -> Analysis {
        let metrics = collect_metrics(&doc.levels);
        let mut rows = Vec::new();
        for level in &doc.levels {
            for m in &metrics {
                let reference = model::catalog::reference_level(&m.workload);
                rows.push(make_row(level, m, reference, doc.level(reference)));
            }
        }
        let categories = category::means(&rows);
        Analysis {
            doc,
            metrics,
            rows,
            categories,
        }
    }

    /// The row of `key` (`workload/metric`) at `level`.
    pub fn row(&self, level: Level, key: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.level == level && r.id.key() == key)
    }

    /// Deepest level whose status is ok.
    pub fn deepest_ok(&self) -> Option<&LevelRecord> {
        self.doc
            .levels
            .iter()
            .filter(|l| l.status == LevelStatus::Ok)
            .max_by_key(|l| l.level)
    }

    /// Categories present, in the canonical order cpu, mem, disk, exit, then others.
    pub fn category_names(&self) -> Vec<String> {
        category::ordered(self.metrics.iter().map(|m| category_of(&m.workload)))
    }
}

/// Every metric measured at some level, then every metric only ever not applicable
/// (so a metric that applies nowhere in the run still gets its "n/a" rows).
fn collect_metrics(levels: &[LevelRecord]) -> Vec<MetricId> {
    let measured = levels.iter().flat_map(|l| l.results.iter().map(|r| &r.id));
    let not_applicable = levels
        .iter()
        .flat_map(|l| l.not_applicable.iter().map(|n| &n.id));
    let mut out: Vec<MetricId> = Vec::new();
    for id in measured.chain(not_applicable) {
        if !out.iter().any(|m| m.same(id)) {
            out.push(id.clone());
        }
    }
    out
}

fn make_row(
    level: &LevelRecord,
    m: &MetricId,
    reference: Level,
    base: Option<&LevelRecord>,
) -> Row {
    let result = level.result(m);
    let not_applicable = match result {
        None => level.not_applicable(m).map(|n| n.reason.clone()),
        Some(_) => None,
    };
    let sample = result.map(|r| Sample::new(&r.samples));
    let (summary, problem) = match (&sample, level.status) {
        (Some(Ok(s)), _) => (Some(Summary::of(s, m)), None),
        (Some(Err(e)), _) => (None, Some(e.to_string())),
        (None, _) if not_applicable.is_some() => (None, None),
        (None, LevelStatus::Ok) => (None, Some(workload_error(level, &m.workload))),
        (None, _) => (None, None),
    };
    let deeper = level.level > reference;
    let relative = match (deeper, &sample, base.and_then(|l| l.result(m))) {
        (true, Some(Ok(s)), Some(base)) => Sample::new(&base.samples)
            .ok()
            .and_then(|b| relative_to_l0(&b, s, m.higher_is_better)),
        _ => None,
    };
    Row {
        level: level.level,
        level_status: level.status,
        accel: level.env.accel,
        id: m.clone(),
        summary,
        problem,
        not_applicable,
        relative,
    }
}

fn workload_error(level: &LevelRecord, workload: &str) -> String {
    level
        .workload_error(workload)
        .map(|e| e.message.clone())
        .unwrap_or_else(|| "not measured at this level".to_string())
}
