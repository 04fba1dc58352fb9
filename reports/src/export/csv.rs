//! `results.csv`: one row per level × workload × metric, for spreadsheets and scripts.
//!
//! Columns: `level, level_status, workload, metric, unit, higher_is_better, n, median,
//! mean, stddev, min, max, cv, ci_low, ci_high, outliers, noisy, relative_to_l0,
//! rel_ci_low, rel_ci_high, accel, not_applicable`. `ci_*` is the 95 % bootstrap interval
//! of the median; `relative_to_l0` is oriented so that < 1 means slower than L0 (see
//! [`crate::analysis::relative_to_l0`]). Cells without a value (failed levels, L0's own
//! relative figure, a metric that does not apply) are empty, never zero;
//! `not_applicable` holds the reason a metric does not apply at the level, else nothing. Numbers use the shortest text that reads back
//! to the same `f64`.

use crate::analysis::{Analysis, Row};

/// Column names, in order.
pub const HEADER: [&str; 22] = [
    "level",
    "level_status",
    "workload",
    "metric",
    "unit",
    "higher_is_better",
    "n",
    "median",
    "mean",
    "stddev",
    "min",
    "max",
    "cv",
    "ci_low",
    "ci_high",
    "outliers",
    "noisy",
    "relative_to_l0",
    "rel_ci_low",
    "rel_ci_high",
    "accel",
    "not_applicable",
];

fn num(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn status(row: &Row) -> String {
    serde_json::to_value(row.level_status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn record(row: &Row) -> Vec<String> {
    let s = row.summary.as_ref();
    let rel = row.relative;
    vec![
        row.level.0.to_string(),
        status(row),
        row.id.workload.clone(),
        row.id.metric.clone(),
        row.id.unit.clone(),
        row.id.higher_is_better.to_string(),
        s.map(|s| s.n.to_string()).unwrap_or_default(),
        num(s.map(|s| s.median.estimate)),
        num(s.map(|s| s.mean)),
        num(s.map(|s| s.stddev)),
        num(s.map(|s| s.min)),
        num(s.map(|s| s.max)),
        num(s.and_then(|s| s.cv)),
        num(s.map(|s| s.median.low)),
        num(s.map(|s| s.median.high)),
        s.map(|s| s.outliers.to_string()).unwrap_or_default(),
        s.map(|s| s.noisy.to_string()).unwrap_or_default(),
        num(rel.map(|r| r.estimate)),
        num(rel.map(|r| r.low)),
        num(rel.map(|r| r.high)),
        row.accel.map(|a| a.to_string()).unwrap_or_default(),
        row.not_applicable.clone().unwrap_or_default(),
    ]
}

/// The whole CSV file.
pub fn to_bytes(analysis: &Analysis) -> Vec<u8> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    // Writing into a Vec cannot fail.
    w.write_record(HEADER).expect("in-memory CSV");
    for row in &analysis.rows {
        w.write_record(record(row)).expect("in-memory CSV");
    }
    w.into_inner().expect("in-memory CSV")
}
