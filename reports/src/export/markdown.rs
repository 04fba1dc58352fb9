//! `report.md`: the [`Document`] as GitHub-flavoured Markdown. Charts are linked as the
//! PNGs in `charts/`, relative to the run directory.

use super::document::{Block, Document, Table};
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
    for r in &t.rows {
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
        }
    }
    out
}
