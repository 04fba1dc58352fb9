//! `report.html`: the [`Document`] as one self-contained file. CSS is inline and the
//! charts are inlined SVG, so the file has no external reference at all (no URL, no
//! `<link>`, no script) and can be mailed or archived alone.

use super::document::{Block, Document, Table};
use std::fmt::Write;

const STYLE: &str =
    "body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.9em}\
th,td{border:1px solid #ccc;padding:0.25em 0.6em;text-align:right}\
th:first-child,td:first-child{text-align:left}\
th{background:#f2f2f2}ul.facts{line-height:1.6}\
figure{margin:1em 0}figcaption{font-weight:bold}svg{max-width:100%;height:auto}";

/// Escape text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Render a table.
pub fn table(t: &Table) -> String {
    let mut out = String::from("<table>\n<tr>");
    for h in &t.header {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr>\n");
    for r in &t.rows {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{}</td>", esc(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

/// Make a standalone SVG fit for inlining: drop the XML namespace declaration (HTML
/// parsers supply it; it is the only URL plotters writes).
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

/// The whole report; `charts` pairs each chart title with its SVG text.
pub fn render(doc: &Document, charts: &[(String, String)]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(&doc.title),
        esc(&doc.title)
    );
    for block in &doc.blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "<h{level}>{}</h{level}>", esc(text));
            }
            Block::Para(text) => {
                let _ = writeln!(out, "<p>{}</p>", esc(text));
            }
            Block::Facts(lines) => {
                out.push_str("<ul class=\"facts\">\n");
                for (label, text) in lines {
                    let _ = writeln!(out, "<li><b>{}:</b> {}</li>", esc(label), esc(text));
                }
                out.push_str("</ul>\n");
            }
            Block::Table(t) => out.push_str(&table(t)),
            Block::Charts(_) => {
                for (title, svg) in charts {
                    let _ = writeln!(
                        out,
                        "<figure>\n<figcaption>{}</figcaption>\n{}\n</figure>",
                        esc(title),
                        inline_svg(svg)
                    );
                }
            }
        }
    }
    out.push_str("</body>\n</html>\n");
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
}
