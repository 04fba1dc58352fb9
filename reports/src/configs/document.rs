//! The configuration comparison as a [`Document`]: what was compared and what differs,
//! a summary of each input against the first (geometric means per category and level),
//! then per category its chart and its table (the first input's medians, each other
//! input's ratio to them), each input's levels on demand, and what every metric
//! measures.

use super::{Cell, Configs};
use crate::charts::configs::ConfigsChart;
use crate::export::document::{Block, Document, Table};
use crate::export::format::{percent, sig};
use crate::export::run_report::{chart_ref, environment};

/// A ratio cell: `0.982`, marked where the intervals do not overlap.
fn ratio_cell(c: &Configs, side: usize, level: model::Level, m: usize) -> String {
    match (c.ratio(side, level, m), c.cell(side, level, m)) {
        (Some(r), _) => {
            let mark = match c.clearly(side, level, m) {
                Some(true) => " ▲ better",
                Some(false) => " ▼ worse",
                None => "",
            };
            format!("{}{mark}", sig(r, 3))
        }
        (None, other) => word(other),
    }
}

/// What a cell without a ratio says.
fn word(cell: &Cell) -> String {
    match cell {
        Cell::Figure(f) => sig(f.median, 4),
        Cell::NotApplicable(_) => "n/a".into(),
        Cell::Failed(w) => (*w).into(),
        Cell::Missing => "–".into(),
    }
}

fn level_header(c: &Configs, first: &[&str]) -> Vec<String> {
    let mut h: Vec<String> = first.iter().map(|s| s.to_string()).collect();
    h.extend(c.levels.iter().map(|l| l.to_string()));
    h
}

fn inputs_table(c: &Configs) -> Table {
    let mut header = vec![
        "input".to_string(),
        "given as".into(),
        "runs".into(),
        "figures".into(),
    ];
    header.extend(c.differing.iter().map(|d| d.name.clone()));
    let rows = c
        .sides
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut r = vec![
                s.label.clone(),
                s.source.clone(),
                s.runs.to_string(),
                s.spread.describe().into(),
            ];
            r.extend(c.differing.iter().map(|d| d.values[i].clone()));
            r
        })
        .collect();
    Table::new(header, rows)
}

fn summary_table(c: &Configs) -> Table {
    let mut rows = Vec::new();
    for side in 1..c.sides.len() {
        for cat in c.categories() {
            let of = c.metrics_of(&cat);
            let mut r = vec![c.sides[side].label.clone(), cat.clone()];
            for &l in &c.levels {
                r.push(match c.geo_mean(side, l, &of) {
                    Some((g, _)) => percent(g),
                    None => "–".into(),
                });
            }
            rows.push(r);
        }
    }
    Table::new(level_header(c, &["input", "category"]), rows)
}

fn category_table(c: &Configs, cat: &str) -> Table {
    let mut rows = Vec::new();
    for m in c.metrics_of(cat) {
        let id = &c.metrics[m];
        let mut first = vec![id.key(), id.unit.clone(), c.sides[0].label.clone()];
        first.extend(c.levels.iter().map(|&l| word(c.cell(0, l, m))));
        rows.push(first);
        for side in 1..c.sides.len() {
            let mut r = vec![
                id.key(),
                "ratio".into(),
                format!("{} ÷ first", c.sides[side].label),
            ];
            r.extend(c.levels.iter().map(|&l| ratio_cell(c, side, l, m)));
            rows.push(r);
        }
    }
    Table::new(level_header(c, &["metric", "unit", "input"]), rows)
}

/// The report of `c`.
pub fn build(c: &Configs) -> Document {
    let names: Vec<String> = c.differing.iter().map(|d| d.name.clone()).collect();
    let differs = if names.is_empty() {
        "nothing in run.json: the inputs are named by how they were given".to_string()
    } else {
        names.join(", ")
    };
    let mut blocks = vec![Block::Facts(vec![
        (
            "Inputs".into(),
            format!("{} (ratios are to the first, {})", c.sides.len(), c.sides[0].label),
        ),
        ("What differs".into(), differs),
        (
            "Figures".into(),
            "per input and level: the median of its runs' medians with the 95 % bootstrap interval across runs when it has several runs; the median and in-run 95 % bootstrap interval of its one run otherwise".into(),
        ),
        (
            "Ratios".into(),
            "input ÷ first input, raw: above 1 means a larger figure (better for rates, worse for latencies); ▲ better / ▼ worse where the two intervals do not overlap and the figures differ by 5 % or more — a reading aid, not a test (nestbench compare is the test)".into(),
        ),
    ])];
    blocks.push(Block::Heading(2, "Inputs".into()));
    blocks.push(Block::Table(inputs_table(c)));
    if c.sides.len() > 1 {
        blocks.push(Block::Heading(2, "Against the first input".into()));
        blocks.push(Block::Para(
            "Geometric mean of each input's ratios to the first input over a category's metrics, oriented so that below 100 % means slower than the first input.".into(),
        ));
        blocks.push(Block::Table(summary_table(c)));
    }
    blocks.push(Block::Heading(2, "Results by category".into()));
    for cat in c.categories() {
        blocks.push(Block::Heading(3, cat.clone()));
        blocks.push(Block::Charts(vec![chart_ref(&ConfigsChart::new(c, &cat))]));
        blocks.push(Block::Table(category_table(c, &cat)));
    }
    blocks.push(Block::Heading(2, "Levels".into()));
    for s in &c.sides {
        for l in &s.doc.levels {
            let mut b = environment(l);
            if let Block::Folded { summary, .. } = &mut b {
                *summary = format!("{}: {summary}", s.label);
            }
            blocks.push(b);
        }
    }
    blocks.push(Block::Heading(2, "Metrics".into()));
    blocks.push(Block::Glossary(c.metrics.clone()));
    Document {
        title: format!("nestbench: {} configurations compared", c.sides.len()),
        blocks,
    }
}
