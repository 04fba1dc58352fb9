//! `report.md`: the [`Document`] as GitHub-flavoured Markdown. Charts are linked as the
//! PNGs in `charts/`, relative to the report; folded blocks become `<details>`, which
//! GitHub and GitLab render folded and plain viewers show as text.

use super::document::{describe, Block, Document, Table};
use std::fmt::Write;

/// Escape what would break a table cell or start markup.
fn esc(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Render a table; numbers-ish columns are not aligned specially, Markdown viewers do it.
pub fn table(t: &Table) -> String {
    let mut out = String::new();
    let row = |cells: &[String]| {
        format!(
            "| {} |\n",
            cells.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")
        )
    };
    out.push_str(&row(&t.header));
    out.push_str(&format!("|{}\n", "---|".repeat(t.header.len())));
    for r in t.rows.iter().chain(&t.footer) {
        out.push_str(&row(r));
    }
    out
}

/// The whole report.
pub fn render(doc: &Document) -> String {
    let mut out = format!("# {}\n\n", doc.title);
    for block in &doc.blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "{} {}\n", "#".repeat(*level as usize), text);
            }
            Block::Para(text) => {
                let _ = writeln!(out, "{text}\n");
            }
            Block::Facts(lines) => {
                for (label, text) in lines {
                    let _ = writeln!(out, "- **{label}:** {text}");
                }
                out.push('\n');
            }
            Block::Table(t) => {
                out.push_str(&table(t));
                out.push('\n');
            }
            Block::Charts(charts) => {
                for (name, title) in charts {
                    let _ = writeln!(out, "![{title}](charts/{name}.png)\n");
                }
            }
            Block::Folded { summary, facts } => {
                let _ = writeln!(out, "<details><summary>{summary}</summary>\n");
                for (label, text) in facts {
                    let _ = writeln!(out, "- **{label}:** {text}");
                }
                out.push_str("\n</details>\n\n");
            }
            Block::Callout(_, text) => {
                let _ = writeln!(out, "**{text}**\n");
            }
            Block::Glossary(ids) => {
                let rows = ids
                    .iter()
                    .map(|id| {
                        let d = describe(id);
                        vec![
                            d.key,
                            d.unit,
                            d.better.to_string(),
                            d.layer.map(|l| l.0.to_string()).unwrap_or_default(),
                            d.about,
                        ]
                    })
                    .collect();
                let header = ["metric", "unit", "better", "layer", "what it measures"];
                out.push_str(&table(&Table::new(
                    header.iter().map(|s| s.to_string()).collect(),
                    rows,
                )));
                out.push('\n');
            }
        }
    }
    out
}
