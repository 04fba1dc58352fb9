//! The content of a report, independent of format. A builder decides *what* a reader
//! sees — [`run_report`](super::run_report) for a run, `compare::document` for a
//! comparison, `configs::document` for several configurations — as a [`Document`];
//! `markdown` and `html` only decide how it looks, so the two files always say the
//! same thing.

use model::rundoc::LevelStatus;
use model::MetricId;

pub use super::run_report::build;

/// A table: header cells, rows of the same width, and summary rows kept apart (a
/// category's geometric mean: they stay last when the HTML table is sorted).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column headings.
    pub header: Vec<String>,
    /// Cells, row by row.
    pub rows: Vec<Vec<String>>,
    /// Summary rows below the others.
    pub footer: Vec<Vec<String>>,
}

impl Table {
    /// A table without summary rows.
    pub fn new(header: Vec<String>, rows: Vec<Vec<String>>) -> Table {
        Table {
            header,
            rows,
            footer: vec![],
        }
    }
}

/// One piece of a report.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Heading of level 1–3; every level-2 heading starts a section.
    Heading(u8, String),
    /// A paragraph of plain text.
    Para(String),
    /// Bulleted `label: text` lines.
    Facts(Vec<(String, String)>),
    /// A table.
    Table(Table),
    /// Charts: file stem and title of each.
    Charts(Vec<(String, String)>),
    /// `label: text` lines shown on demand (HTML `<details>`) under `summary`.
    Folded {
        /// What is folded, e.g. `L2 — kvm, ok`.
        summary: String,
        /// The lines.
        facts: Vec<(String, String)>,
    },
    /// What each metric measures: every metric key in the report's tables links here.
    Glossary(Vec<MetricId>),
    /// A line that must stand out (a compare's verdict), with its tone.
    Callout(Tone, String),
}

/// How a [`Block::Callout`] reads: good news, a caution, or a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Nothing wrong.
    Pass,
    /// Something to look at.
    Warn,
    /// A failure.
    Fail,
}

/// A whole report.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Title of the report.
    pub title: String,
    /// Content in order.
    pub blocks: Vec<Block>,
}

impl Document {
    /// Every chart the document shows: file stem and title.
    pub fn charts(&self) -> Vec<(String, String)> {
        self.blocks
            .iter()
            .filter_map(|b| match b {
                Block::Charts(c) => Some(c.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }
}

/// What the catalog says of one metric, for a glossary entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Described {
    /// `workload/metric`.
    pub key: String,
    /// Its unit.
    pub unit: String,
    /// `higher` or `lower`.
    pub better: &'static str,
    /// The layer's name and what it is, when the catalog knows the metric.
    pub layer: Option<(&'static str, &'static str)>,
    /// What the metric measures, and what its workload does.
    pub about: String,
}

/// The glossary entry of `id`.
pub fn describe(id: &MetricId) -> Described {
    let better = if id.higher_is_better {
        "higher"
    } else {
        "lower"
    };
    let (layer, about) = match id.def() {
        Some((w, m)) => (
            Some((m.layer.name(), m.layer.about())),
            format!("{}. Workload: {}.", m.about, w.about),
        ),
        None => (
            None,
            "not in this build's catalog (reported by a newer agent)".into(),
        ),
    };
    Described {
        key: id.key(),
        unit: id.unit.clone(),
        better,
        layer,
        about,
    }
}

/// The anchor of a metric's glossary entry (`m-cpu.int-ops`).
pub fn anchor(key: &str) -> String {
    format!("m-{}", key.replace('/', "-"))
}

/// How a level's status reads in a cell where a number would be.
pub fn status_word(status: LevelStatus) -> &'static str {
    status.word()
}
