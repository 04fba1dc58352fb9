//! The comparison as one versioned JSON document (`nestbench compare --format json`),
//! for programs: dashboards, bots, CI steps that want the figures rather than a table.
//!
//! `{"format": "nestbench-compare", "version": 1, …}`. Within a version fields are only
//! added, never renamed or given a new meaning, so a reader checks `format` and
//! `version` and ignores what it does not know. Every row is there — missing, new and
//! untestable ones too — with the family's settings beside them, so a reader can tell
//! how each verdict was reached without the table.

use super::{Change, Comparison, GateFlags, SideFigures, Status};
use crate::stats::mde::POWER;
use crate::stats::verdict::Reason;
use serde_json::{json, Value};

/// The `format` field.
pub const FORMAT: &str = "nestbench-compare";
/// The `version` field.
pub const VERSION: u32 = 1;

/// A row's verdict as one lower-case word.
pub fn verdict_word(s: Status) -> &'static str {
    match s {
        Status::Improved => "improved",
        Status::Regressed => "regressed",
        Status::Unchanged => "unchanged",
        Status::Inconclusive(_) => "inconclusive",
        Status::Missing => "missing",
        Status::New => "new",
        Status::NotApplicable => "not_applicable",
    }
}

/// Why a row is inconclusive, as a word (None for the other verdicts).
pub fn reason_word(s: Status) -> Option<&'static str> {
    match s {
        Status::Inconclusive(Reason::TooFewRuns) => Some("too_few_runs"),
        Status::Inconclusive(Reason::Underpowered) => Some("underpowered"),
        Status::Inconclusive(Reason::Unconfirmed) => Some("unconfirmed"),
        _ => None,
    }
}

fn side(s: &Option<SideFigures>) -> Value {
    match s {
        None => Value::Null,
        Some(s) => json!({
            "runs": s.medians.len(),
            "center": s.center,
            "medians": s.medians,
            "run_cv": s.run_cv,
            "in_run_cv": s.in_run_cv,
        }),
    }
}

/// One row as JSON; `interval_level` is the confidence of its interval.
pub fn row(c: &Change, interval_level: f64) -> Value {
    json!({
        "level": c.level.0,
        "workload": c.id.workload,
        "metric": c.id.metric,
        "unit": c.id.unit,
        "direction": if c.id.higher_is_better { "higher_is_better" } else { "lower_is_better" },
        "verdict": verdict_word(c.status),
        "reason": reason_word(c.status),
        "note": c.note,
        "baseline": side(&c.baseline),
        "current": side(&c.current),
        "change": c.change,
        "ratio": c.ratio.map(|r| json!({
            "estimate": r.estimate,
            "low": r.low,
            "high": r.high,
            "level": interval_level,
        })),
        "p": c.p_value,
        "p_adjusted": c.p_adjusted,
        "mde": c.mde,
    })
}

/// The whole document, read for CI under `flags`.
pub fn document(cmp: &Comparison, flags: &GateFlags) -> Value {
    let gate = cmp.gate(flags);
    json!({
        "format": FORMAT,
        "version": VERSION,
        "tool_version": env!("CARGO_PKG_VERSION"),
        "result": gate.word(),
        "fails": gate.fails(flags),
        "baseline": {
            "label": cmp.baseline_label,
            "runs": cmp.runs.0,
            "failed_levels": cmp.failed_levels.0,
        },
        "current": {
            "label": cmp.current_label,
            "runs": cmp.runs.1,
            "failed_levels": cmp.failed_levels.1,
        },
        "settings": {
            "test": "welch_t_on_log_medians",
            "correction": "holm",
            "noise_threshold": cmp.options.noise_threshold,
            "significance": cmp.options.significance,
            "power": POWER,
            "tested": cmp.tested,
            "interval_level": cmp.interval_level,
            "allow_missing": flags.allow_missing,
            "strict": flags.strict,
            "fail_on_inconclusive": flags.fail_on_inconclusive,
        },
        "counts": {
            "regressed": cmp.count(Status::Regressed),
            "missing": cmp.count(Status::Missing),
            "improved": cmp.count(Status::Improved),
            "unchanged": cmp.count(Status::Unchanged),
            "inconclusive": cmp.inconclusive(),
            "new": cmp.count(Status::New),
        },
        "warnings": cmp.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
        "note": cmp.single_run_note,
        "rows": cmp.changes.iter().map(|c| row(c, cmp.interval_level)).collect::<Vec<_>>(),
    })
}

/// [`document`] as pretty-printed text with a final newline.
pub fn render(cmp: &Comparison, flags: &GateFlags) -> String {
    let mut s = serde_json::to_string_pretty(&document(cmp, flags))
        .expect("a JSON value always serializes");
    s.push('\n');
    s
}
