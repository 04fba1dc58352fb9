//! The comparison as an aligned plain-text table for a terminal.

use super::{Change, Comparison, Status};
use crate::export::format::sig;

/// Column headings of [`row_cells`].
pub const HEADER: [&str; 8] = [
    "level", "metric", "unit", "baseline", "current", "change", "p", "verdict",
];

/// The cells of one row: medians, relative change, p-value, verdict (with its note).
pub fn row_cells(c: &Change) -> Vec<String> {
    let med = |s: &Option<crate::stats::Summary>| {
        s.as_ref()
            .map(|s| sig(s.median.estimate, 4))
            .unwrap_or_else(|| "–".into())
    };
    let change = c
        .change
        .map(|v| format!("{:+.1} %", v * 100.0))
        .unwrap_or_else(|| "–".into());
    let p = c
        .p_value
        .map(|p| format!("{p:.3}"))
        .unwrap_or_else(|| "–".into());
    let mut verdict = c.status.word().to_string();
    if let Some(note) = &c.note {
        verdict.push_str(&format!(" ({note})"));
    }
    vec![
        c.level.to_string(),
        c.id.key(),
        c.id.unit.clone(),
        med(&c.baseline),
        med(&c.current),
        change,
        p,
        verdict,
    ]
}

/// Counts line: `1 regressed, 0 missing, 2 improved, 18 unchanged, 0 new`.
pub fn counts(cmp: &Comparison) -> String {
    format!(
        "{} regressed, {} missing, {} improved, {} unchanged, {} new",
        cmp.count(Status::Regressed),
        cmp.count(Status::Missing),
        cmp.count(Status::Improved),
        cmp.count(Status::Unchanged),
        cmp.count(Status::New)
    )
}

/// The whole comparison: header line, warnings, every row aligned, counts.
pub fn render(cmp: &Comparison) -> String {
    let mut rows: Vec<Vec<String>> = vec![HEADER.iter().map(|s| s.to_string()).collect()];
    rows.extend(cmp.changes.iter().map(row_cells));
    let widths: Vec<usize> = (0..HEADER.len() - 1)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = format!(
        "baseline {} vs current {} (significance {}, noise threshold {:.0} %)\n",
        cmp.baseline_id,
        cmp.current_id,
        cmp.options.significance,
        cmp.options.noise_threshold * 100.0
    );
    for w in &cmp.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    for r in &rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            match widths.get(i) {
                // Numbers right-aligned, names left-aligned.
                Some(&w) if (3..=6).contains(&i) => line.push_str(&format!("{cell:>w$}  ")),
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
