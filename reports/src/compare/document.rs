//! The comparison as a [`Document`], for the HTML page (`compare --format html`): the
//! verdict first, what was compared and how, comparability warnings, then the rows
//! grouped by what a reader does with them — regressed and missing, improved,
//! inconclusive (with the effect each could have detected), not applicable (with the
//! reasons), unchanged — each in a table that sorts; the detectable effects per level;
//! the compare chart; and what every metric measures.

use super::text::{counts, method, row_cells, HEADER};
use super::{Change, Comparison, GateFlags, GateResult, Status};
use crate::export::document::{Block, Document, Table, Tone};
use crate::export::format::change;
use model::{Level, MetricId};

fn rows_table(rows: &[&Change]) -> Table {
    Table::new(
        HEADER.iter().map(|s| s.to_string()).collect(),
        rows.iter().map(|c| row_cells(c)).collect(),
    )
}

fn not_applicable_table(rows: &[&Change]) -> Table {
    let side = |na: &Option<String>, measured: bool| match (na, measured) {
        (Some(why), _) => format!("n/a: {why}"),
        (None, true) => "measured".into(),
        (None, false) => "–".into(),
    };
    Table::new(
        ["level", "metric", "baseline", "current"]
            .map(String::from)
            .to_vec(),
        rows.iter()
            .map(|c| {
                vec![
                    c.level.to_string(),
                    c.id.key(),
                    side(&c.not_applicable.0, c.baseline.is_some()),
                    side(&c.not_applicable.1, c.current.is_some()),
                ]
            })
            .collect(),
    )
}

/// Per level: rows tested, the median and largest detectable effect, and how many rows
/// could not have seen a change of the threshold.
fn effects_table(cmp: &Comparison) -> Table {
    let mut levels: Vec<Level> = cmp.changes.iter().map(|c| c.level).collect();
    levels.sort();
    levels.dedup();
    let theta = cmp.options.noise_threshold;
    let rows = levels
        .into_iter()
        .filter_map(|l| {
            let mut mdes: Vec<f64> = cmp
                .changes
                .iter()
                .filter(|c| c.level == l)
                .filter_map(|c| c.mde)
                .collect();
            if mdes.is_empty() {
                return None;
            }
            mdes.sort_by(f64::total_cmp);
            let above = mdes.iter().filter(|m| **m > theta).count();
            Some(vec![
                l.to_string(),
                mdes.len().to_string(),
                change(mdes[mdes.len() / 2], false),
                change(mdes[mdes.len() - 1], false),
                format!("{above} of {}", mdes.len()),
            ])
        })
        .collect();
    Table::new(
        [
            "level",
            "rows with an MDE",
            "median MDE",
            "largest MDE",
            "MDE above the threshold",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    )
}

/// The page's content for `cmp`, read with `flags` as the gate reads it.
pub fn build(cmp: &Comparison, flags: &GateFlags) -> Document {
    let gate = cmp.gate(flags);
    let (tone, verdict) = match gate {
        GateResult::Regression => (Tone::Fail, "Regression: the gate fails"),
        GateResult::Inconclusive if flags.fail_on_inconclusive => (
            Tone::Fail,
            "Inconclusive: the gate fails (--fail-on-inconclusive)",
        ),
        GateResult::Inconclusive => (Tone::Warn, "No regression found, some metrics inconclusive"),
        GateResult::Pass => (Tone::Pass, "No regression"),
    };
    let mut blocks = vec![
        Block::Callout(tone, verdict.into()),
        Block::Facts(vec![
            ("Compared".into(), method(cmp)),
            ("Rows".into(), counts(cmp)),
            (
                "How to read".into(),
                "a change counts when its whole interval lies beyond the noise threshold; MDE is the smallest change each row could have detected (80 % power); an inconclusive row could not have shown a change of the threshold".into(),
            ),
        ]),
    ];
    if let Some(n) = &cmp.single_run_note {
        blocks.push(Block::Para(format!("Note: {n}")));
    }
    if !cmp.warnings.is_empty() {
        blocks.push(Block::Heading(2, "Comparability warnings".into()));
        blocks.push(Block::Facts(
            cmp.warnings
                .iter()
                .enumerate()
                .map(|(i, w)| (format!("{}", i + 1), w.to_string()))
                .collect(),
        ));
    }
    let of = |s: Status| cmp.with_status(s).collect::<Vec<_>>();
    let mut bad = of(Status::Regressed);
    bad.extend(of(Status::Missing));
    let sections: [(&str, Vec<&Change>, &str); 4] = [
        ("Regressed and missing", bad, "Worse beyond the threshold at the family's confidence, or in the baseline and in no current run."),
        ("Improved", of(Status::Improved), "Better beyond the threshold at the family's confidence."),
        ("Inconclusive", cmp.changes.iter().filter(|c| c.status.is_inconclusive()).collect(), "Neither a change nor its absence can be said: too few runs, a detectable effect (MDE) above the threshold, or an interval that crosses it. More runs per side narrow them."),
        ("New", of(Status::New), "Only in the current runs."),
    ];
    for (title, rows, what) in sections {
        if !rows.is_empty() {
            blocks.push(Block::Heading(2, title.into()));
            blocks.push(Block::Para(what.into()));
            blocks.push(Block::Table(rows_table(&rows)));
        }
    }
    let na = of(Status::NotApplicable);
    if !na.is_empty() {
        blocks.push(Block::Heading(2, "Not applicable".into()));
        blocks.push(Block::Para("Metrics a side's runs could not measure at a level, with the reason: nothing to compare, never missing, never a failure.".into()));
        blocks.push(Block::Table(not_applicable_table(&na)));
    }
    let same = of(Status::Unchanged);
    if !same.is_empty() {
        blocks.push(Block::Heading(2, "Unchanged".into()));
        blocks.push(Block::Table(rows_table(&same)));
    }
    blocks.push(Block::Heading(2, "Detectable effects".into()));
    blocks.push(Block::Para(format!(
        "The smallest change each row could have detected with these runs (80 % power at the family's level), per level; rows whose MDE exceeds the {:.0} % threshold are inconclusive.",
        cmp.options.noise_threshold * 100.0
    )));
    blocks.push(Block::Table(effects_table(cmp)));
    blocks.push(Block::Heading(2, "Chart".into()));
    let chart = crate::charts::compare::CompareChart::new(cmp);
    blocks.push(Block::Charts(vec![crate::export::run_report::chart_ref(
        &chart,
    )]));
    let mut ids: Vec<MetricId> = Vec::new();
    for c in &cmp.changes {
        if !ids.iter().any(|i| i.same(&c.id)) {
            ids.push(c.id.clone());
        }
    }
    blocks.push(Block::Heading(2, "Metrics".into()));
    blocks.push(Block::Glossary(ids));
    Document {
        title: format!(
            "nestbench compare: {} vs {}",
            cmp.baseline_label, cmp.current_label
        ),
        blocks,
    }
}

/// The comparison as one self-contained HTML page, the compare chart inline.
pub fn html(cmp: &Comparison, flags: &GateFlags) -> Result<String, crate::charts::DrawError> {
    let doc = build(cmp, flags);
    let chart = crate::charts::compare::CompareChart::new(cmp);
    let svg = crate::charts::svg(&chart)?;
    Ok(crate::export::html::render(
        &doc,
        &[(crate::charts::Chart::name(&chart), svg)],
    ))
}
