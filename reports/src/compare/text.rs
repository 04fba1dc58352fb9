//! The comparison as an aligned plain-text table for a terminal.

use super::{Change, Comparison, Status};
use crate::export::format::{change, sig};

/// Column headings of [`row_cells`].
pub const HEADER: [&str; 9] = [
    "level", "metric", "unit", "baseline", "current", "change", "interval", "MDE", "verdict",
];

/// `±x.x %` of a relative value.
fn pct(v: f64) -> String {
    change(v, true)
}

/// The cells of one row: the sides' figures (geometric mean of per-run medians, with the
/// number of runs), the change with its interval, the detectable effect and the verdict.
pub fn row_cells(c: &Change) -> Vec<String> {
    let side = |s: &Option<super::SideFigures>, na: &Option<String>| match (s, na) {
        (Some(s), _) => format!("{} ({})", sig(s.center, 4), s.medians.len()),
        (None, Some(_)) => "n/a".into(),
        (None, None) => "–".into(),
    };
    let interval = c
        .ratio
        .map(|r| format!("[{}, {}]", pct(r.low - 1.0), pct(r.high - 1.0)))
        .unwrap_or_else(|| "–".into());
    let mde = c
        .mde
        .map(|m| change(m, false))
        .unwrap_or_else(|| "–".into());
    let mut verdict = c.status.word().to_string();
    if let Some(note) = &c.note {
        verdict.push_str(&format!(" ({note})"));
    }
    vec![
        c.level.to_string(),
        c.id.key(),
        c.id.unit.clone(),
        side(&c.baseline, &c.not_applicable.0),
        side(&c.current, &c.not_applicable.1),
        c.change.map(pct).unwrap_or_else(|| "–".into()),
        interval,
        mde,
        verdict,
    ]
}

/// Counts line: `1 regressed, 0 missing, 2 improved, 18 unchanged, 3 inconclusive, 0 new`,
/// and `, 2 n/a` when some rows do not apply.
pub fn counts(cmp: &Comparison) -> String {
    let mut text = format!(
        "{} regressed, {} missing, {} improved, {} unchanged, {} inconclusive, {} new",
        cmp.count(Status::Regressed),
        cmp.count(Status::Missing),
        cmp.count(Status::Improved),
        cmp.count(Status::Unchanged),
        cmp.inconclusive(),
        cmp.count(Status::New)
    );
    match cmp.count(Status::NotApplicable) {
        0 => {}
        n => text.push_str(&format!(", {n} n/a")),
    }
    text
}

/// What was compared and how, in one line.
pub fn method(cmp: &Comparison) -> String {
    format!(
        "baseline {} ({} runs) vs current {} ({} runs): Welch's t on per-run medians, Holm over {} rows at family α {}, intervals at {:.2} %, noise threshold {:.0} %",
        cmp.baseline_label,
        cmp.runs.0,
        cmp.current_label,
        cmp.runs.1,
        cmp.tested,
        cmp.options.significance,
        cmp.interval_level * 100.0,
        cmp.options.noise_threshold * 100.0
    )
}

/// The whole comparison: method line, warnings, every row aligned, counts.
pub fn render(cmp: &Comparison) -> String {
    let mut rows: Vec<Vec<String>> = vec![HEADER.iter().map(|s| s.to_string()).collect()];
    rows.extend(cmp.changes.iter().map(row_cells));
    let widths: Vec<usize> = (0..HEADER.len() - 1)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = method(cmp);
    out.push('\n');
    for w in &cmp.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    if let Some(n) = &cmp.single_run_note {
        out.push_str(&format!("note: {n}\n"));
    }
    for r in &rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            match widths.get(i) {
                // Numbers right-aligned, names left-aligned.
                Some(&w) if (3..=7).contains(&i) => line.push_str(&format!("{cell:>w$}  ")),
                Some(&w) => line.push_str(&format!("{cell:<w$}  ")),
                None => line.push_str(cell),
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str(&counts(cmp));
    out.push('\n');
    out
}
