//! The report's content, independent of format: [`build`] decides *what* a reader sees
//! (summary, one table per category, level environments, metrics that do not apply with
//! their reasons, errors, charts); `markdown` and `html` only decide how it looks, so
//! the two files always say the same thing. Figures that are not what their workload
//! claims (cache-resident, truncated setup) are marked in their cells and explained
//! under their table ([`super::caveats`]).

use super::caveats;
use super::format::{percent, seconds, sig};
use super::summary;
use crate::analysis::{category_of, Analysis, Row};
use crate::charts;
use model::rundoc::{LevelRecord, LevelStatus};

/// A table: header cells and rows of the same width.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column headings.
    pub header: Vec<String>,
    /// Cells, row by row.
    pub rows: Vec<Vec<String>>,
}

/// One piece of a report.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Heading of level 1–3.
    Heading(u8, String),
    /// A paragraph of plain text.
    Para(String),
    /// Bulleted `label: text` lines.
    Facts(Vec<(String, String)>),
    /// A table.
    Table(Table),
    /// The charts: file stem and title of each.
    Charts(Vec<(String, String)>),
}

/// A whole report.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Title of the report.
    pub title: String,
    /// Content in order.
    pub blocks: Vec<Block>,
}

/// Build the report of `analysis`.
pub fn build(a: &Analysis) -> Document {
    let mut blocks = vec![Block::Facts(summary::lines(a))];
    blocks.push(Block::Heading(2, "Results by category".into()));
    blocks.push(Block::Para(
        "Median of each metric per level; in parentheses the level's figure as a percentage of \
         L0, oriented so that below 100 % always means slower (rates: Ln/L0, latencies: L0/Ln). \
         `~` marks a noisy result (coefficient of variation above its workload's threshold). \
         95 % bootstrap intervals are in results.csv."
            .into(),
    ));
    for cat in a.category_names() {
        blocks.push(Block::Heading(3, cat.clone()));
        blocks.push(Block::Table(category_table(a, &cat)));
        let shown = a.doc.levels.iter().flat_map(|l| &l.results);
        for note in caveats::footnotes(shown.filter(|r| category_of(&r.id.workload) == cat)) {
            blocks.push(Block::Para(note));
        }
    }
    blocks.push(Block::Heading(2, "Levels".into()));
    blocks.push(Block::Table(env_table(&a.doc.levels)));
    let not_applicable = not_applicable_table(&a.doc.levels);
    if !not_applicable.rows.is_empty() {
        blocks.push(Block::Heading(2, "Not applicable".into()));
        blocks.push(Block::Para(
            "Metrics a level could not measure because it lacks what they need; \"n/a\" in \
             the tables above. Not failures."
                .into(),
        ));
        blocks.push(Block::Table(not_applicable));
    }
    let errors = error_table(&a.doc.levels);
    if !errors.rows.is_empty() {
        blocks.push(Block::Heading(2, "Errors".into()));
        blocks.push(Block::Table(errors));
    }
    blocks.push(Block::Heading(2, "Charts".into()));
    blocks.push(Block::Charts(
        charts::run_charts(a)
            .iter()
            .map(|c| (c.name(), c.title()))
            .collect(),
    ));
    Document {
        title: format!("nestbench run {}", a.doc.run_id),
        blocks,
    }
}

/// How a level's status reads in a cell where a number would be.
pub fn status_word(status: LevelStatus) -> &'static str {
    match status {
        LevelStatus::Ok => "ok",
        LevelStatus::Failed => "failed",
        LevelStatus::Skipped => "skipped",
        LevelStatus::Pending => "pending",
    }
}

fn cell(row: &Row) -> String {
    if row.not_applicable.is_some() {
        return "n/a".into();
    }
    let Some(s) = &row.summary else {
        return match row.level_status {
            LevelStatus::Ok => "error".into(),
            other => status_word(other).into(),
        };
    };
    let mut text = sig(s.median.estimate, 4);
    if let Some(rel) = row.relative {
        text.push_str(&format!(" ({})", percent(rel.estimate)));
    }
    if s.noisy {
        text.push_str(" ~");
    }
    text
}

fn category_table(a: &Analysis, cat: &str) -> Table {
    let levels: Vec<&LevelRecord> = a.doc.levels.iter().collect();
    let mut header = vec!["metric".to_string(), "unit".into(), "better".into()];
    header.extend(levels.iter().map(|l| l.level.to_string()));
    let mut rows = Vec::new();
    for m in a.metrics.iter().filter(|m| category_of(&m.workload) == cat) {
        let mut r = vec![
            m.key(),
            m.unit.clone(),
            if m.higher_is_better {
                "higher"
            } else {
                "lower"
            }
            .into(),
        ];
        for l in &levels {
            let mut text = a.row(l.level, &m.key()).map(cell).unwrap_or_default();
            text.push_str(&caveats::marks(l.result(m)));
            r.push(text);
        }
        rows.push(r);
    }
    let mut geo = vec![
        "geo-mean, % of L0".to_string(),
        String::new(),
        String::new(),
    ];
    for l in &levels {
        let mean = a
            .categories
            .iter()
            .find(|c| c.level == l.level && c.category == cat);
        geo.push(match (l.level.0, l.status, mean) {
            (0, _, _) => "100 %".into(),
            (_, _, Some(m)) => percent(m.geo_mean),
            (_, LevelStatus::Ok, None) => "–".into(),
            (_, status, None) => status_word(status).into(),
        });
    }
    rows.push(geo);
    Table { header, rows }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map(|v| v.to_string())
        .unwrap_or_else(|| "–".into())
}

fn env_table(levels: &[LevelRecord]) -> Table {
    let header = [
        "level",
        "status",
        "accel",
        "hypervisor",
        "kernel",
        "vCPUs",
        "memory MiB",
        "disk",
        "tuning",
        "provision s",
        "ready s",
        "deploy s",
        "suite s",
    ];
    let rows = levels
        .iter()
        .map(|l| {
            let e = &l.env;
            vec![
                l.level.to_string(),
                status_word(l.status).into(),
                opt(&e.accel),
                e.hypervisor.clone().unwrap_or_else(|| {
                    if l.level.is_host() {
                        "none".into()
                    } else {
                        "–".into()
                    }
                }),
                opt(&e.kernel),
                opt(&e.vcpus),
                opt(&e.memory_mib),
                opt(&e.disk),
                if e.tuning.is_empty() {
                    "none".into()
                } else {
                    e.tuning.join(" ")
                },
                seconds(l.timings.provision_s),
                seconds(l.timings.ready_s),
                seconds(l.timings.deploy_s),
                seconds(l.timings.suite_s),
            ]
        })
        .collect();
    Table {
        header: header.iter().map(|s| s.to_string()).collect(),
        rows,
    }
}

fn not_applicable_table(levels: &[LevelRecord]) -> Table {
    let rows = levels
        .iter()
        .flat_map(|l| {
            l.not_applicable
                .iter()
                .map(|n| vec![l.level.to_string(), n.id.key(), n.reason.clone()])
        })
        .collect();
    Table {
        header: vec!["level".into(), "metric".into(), "reason".into()],
        rows,
    }
}

fn error_table(levels: &[LevelRecord]) -> Table {
    let mut rows = Vec::new();
    for l in levels {
        if let Some(e) = &l.error {
            rows.push(vec![
                l.level.to_string(),
                format!("(level {})", status_word(l.status)),
                e.clone(),
            ]);
        }
        for e in &l.errors {
            rows.push(vec![
                l.level.to_string(),
                e.workload.clone(),
                e.message.clone(),
            ]);
        }
    }
    Table {
        header: vec!["level".into(), "workload".into(), "message".into()],
        rows,
    }
}
