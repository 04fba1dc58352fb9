//! `report.html`: a [`Document`] as one self-contained page. Style and script are
//! inline and the charts are inline SVG, so the file names nothing outside itself (no
//! URL, no `<link>`, no external script, no font to fetch) and can be mailed or
//! archived alone.
//!
//! The page: a header with the title and a table of contents, one `<section>` per
//! level-2 heading (and one per level-3 heading inside it), tables that sort on a click
//! on a header ([`table`]), charts whose points tell their exact value, interval and
//! sample count on hover (`charts::hover`), folded details (a level's environment),
//! and a glossary that every metric in a table links to. [`style`] and [`script`] hold
//! the CSS and the JavaScript.

mod script;
mod style;
pub mod table;

use super::document::{anchor, describe, Block, Document, Tone};
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

/// Escape text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Make a standalone SVG fit for inlining: drop the XML declaration and namespace
/// declarations (HTML parsers supply them; they are the only URLs plotters writes).
pub fn inline_svg(svg: &str) -> String {
    let body = svg.trim_start_matches(|c| c != '<');
    let body = match body.strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .map(|(_, r)| r.trim_start())
            .unwrap_or(body),
        None => body,
    };
    body.replace(" xmlns=\"http://www.w3.org/2000/svg\"", "")
        .replace(" xmlns:xlink=\"http://www.w3.org/1999/xlink\"", "")
}

/// Escaped text with `backticked` spans as `<code>`, as the Markdown shows them.
pub fn code(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    // An odd number of parts: every backtick has its pair.
    let paired = parts.len() & 1 == 1;
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        let inside = i & 1 == 1;
        if inside && paired {
            let _ = write!(out, "<code>{}</code>", esc(part));
        } else {
            if inside {
                out.push('`');
            }
            out.push_str(&esc(part));
        }
    }
    out
}

/// A heading's id: lower case, anything but letters and digits as `-`.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// Sections open while rendering: the level-2 one and the level-3 one inside it.
#[derive(Default)]
struct Sections {
    outer: Option<String>,
    inner: bool,
}

impl Sections {
    fn open(&mut self, out: &mut String, level: u8, text: &str) {
        if self.inner {
            out.push_str("</section>\n");
            self.inner = false;
        }
        if level <= 2 {
            if self.outer.is_some() {
                out.push_str("</section>\n");
            }
            let id = slug(text);
            let _ = writeln!(out, "<section id=\"{id}\">");
            self.outer = Some(id);
        } else {
            let id = match &self.outer {
                Some(o) => format!("{o}-{}", slug(text)),
                None => slug(text),
            };
            let _ = writeln!(out, "<section class=\"sub\" id=\"{id}\">");
            self.inner = true;
        }
    }

    fn close(&mut self, out: &mut String) {
        if self.inner {
            out.push_str("</section>\n");
        }
        if self.outer.is_some() {
            out.push_str("</section>\n");
        }
    }
}

fn facts(out: &mut String, lines: &[(String, String)]) {
    out.push_str("<ul class=\"facts\">\n");
    for (label, text) in lines {
        let _ = writeln!(out, "<li><b>{}:</b> {}</li>", esc(label), code(text));
    }
    out.push_str("</ul>\n");
}

fn glossary(out: &mut String, ids: &[model::MetricId]) {
    out.push_str("<dl class=\"glossary\">\n");
    for id in ids {
        let d = describe(id);
        let _ = writeln!(
            out,
            "<dt id=\"{}\"><code>{}</code> <span class=\"meta\">({}, {} is better)</span></dt>",
            esc(&anchor(&d.key)),
            esc(&d.key),
            esc(&d.unit),
            d.better
        );
        let layer = d
            .layer
            .map(|(name, about)| {
                format!(
                    "<br><span class=\"meta\">Layer: <b>{}</b> — {}.</span>",
                    esc(name),
                    esc(about)
                )
            })
            .unwrap_or_default();
        let _ = writeln!(out, "<dd>{}{layer}</dd>", esc(&d.about));
    }
    out.push_str("</dl>\n");
}

/// The whole page; `charts` pairs each chart's file stem with its SVG text.
pub fn render(doc: &Document, charts: &[(String, String)]) -> String {
    let svgs: HashMap<&str, &str> = charts
        .iter()
        .map(|(n, s)| (n.as_str(), s.as_str()))
        .collect();
    let linked: HashSet<String> = doc
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Glossary(ids) => Some(ids.iter().map(|i| i.key())),
            _ => None,
        })
        .flatten()
        .collect();
    let mut nav = String::new();
    let leading = !matches!(doc.blocks.first(), Some(Block::Heading(..)) | None);
    if leading {
        nav.push_str("<a href=\"#summary\">Summary</a>");
    }
    for b in &doc.blocks {
        if let Block::Heading(2, text) = b {
            let _ = write!(nav, "<a href=\"#{}\">{}</a>", slug(text), esc(text));
        }
    }
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<header>\n<h1>{}</h1>\n<nav>{nav}</nav>\n</header>\n<main>\n",
        esc(&doc.title),
        style::CSS,
        esc(&doc.title)
    );
    let mut sections = Sections::default();
    if leading {
        sections.open(&mut out, 2, "summary");
    }
    for block in &doc.blocks {
        match block {
            Block::Heading(level, text) => {
                if *level >= 2 {
                    sections.open(&mut out, *level, text);
                }
                let _ = writeln!(out, "<h{level}>{}</h{level}>", esc(text));
            }
            Block::Para(text) => {
                let _ = writeln!(out, "<p>{}</p>", code(text));
            }
            Block::Facts(lines) => facts(&mut out, lines),
            Block::Table(t) => out.push_str(&table::table(t, &linked)),
            Block::Charts(list) => {
                for (name, title) in list {
                    if let Some(svg) = svgs.get(name.as_str()) {
                        // The chart draws its own title; the figure names it for screen readers.
                        let _ = writeln!(
                            out,
                            "<figure id=\"chart-{}\" aria-label=\"{}\">\n{}\n</figure>",
                            slug(name),
                            esc(title),
                            inline_svg(svg)
                        );
                    }
                }
            }
            Block::Folded { summary, facts } => {
                let _ = writeln!(
                    out,
                    "<details class=\"env\"><summary>{}</summary>\n<dl class=\"kv\">",
                    esc(summary)
                );
                for (k, v) in facts {
                    let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
                }
                out.push_str("</dl></details>\n");
            }
            Block::Glossary(ids) => glossary(&mut out, ids),
            Block::Callout(tone, text) => {
                let class = match tone {
                    Tone::Pass => "pass",
                    Tone::Warn => "warn",
                    Tone::Fail => "fail",
                };
                let _ = writeln!(out, "<p class=\"verdict {class}\">{}</p>", esc(text));
            }
        }
    }
    sections.close(&mut out);
    let _ = write!(
        out,
        "</main>\n<div id=\"tip\" role=\"tooltip\" hidden></div>\n<script>{}</script>\n</body>\n</html>\n",
        script::JS
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inlined_svg_has_no_url() {
        let svg = "<svg width=\"10\" height=\"10\" viewBox=\"0 0 10 10\" xmlns=\"http://www.w3.org/2000/svg\">\n</svg>";
        let inlined = inline_svg(svg);
        assert!(inlined.starts_with("<svg width"));
        assert!(!inlined.contains("http"));
    }

    #[test]
    fn backticks_become_code() {
        assert_eq!(code("a `~` b"), "a <code>~</code> b");
        assert_eq!(code("odd ` one"), "odd ` one");
        assert_eq!(code("<x>"), "&lt;x&gt;");
    }

    #[test]
    fn headings_become_nested_sections() {
        let doc = Document {
            title: "t".into(),
            blocks: vec![
                Block::Facts(vec![("a".into(), "b".into())]),
                Block::Heading(2, "Results by category".into()),
                Block::Heading(3, "cpu".into()),
                Block::Heading(2, "Levels".into()),
            ],
        };
        let html = render(&doc, &[]);
        let ids: Vec<&str> = html
            .match_indices("<section")
            .map(|(i, _)| &html[i..i + 60])
            .collect();
        assert_eq!(ids.len(), 4, "{html}");
        assert!(html.contains("id=\"results-by-category-cpu\""));
        assert_eq!(
            html.matches("<section").count(),
            html.matches("</section>").count()
        );
        assert!(html.contains("<a href=\"#summary\">Summary</a><a href=\"#results-by-category\">"));
    }
}
