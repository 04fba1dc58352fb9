//! Tables and their cells in HTML. Every table sorts on a click on a header (the
//! page's script); summary rows sit in `<tfoot>` so they stay last. A cell that names
//! a metric links to its description; a number is right-aligned; a long sentence (a
//! disk's description, tuning flags, a QEMU command line) is folded under its first
//! words with `<details>`, so a wide table still fits the page and nothing is cut off.

use super::esc;
use crate::export::document::{anchor, Table};
use std::collections::HashSet;
use std::fmt::Write;

/// Cells longer than this many characters are folded.
pub const FOLD: usize = 44;
/// How many characters a folded cell shows.
const SHOWN: usize = 20;

/// Whether `text` reads as a number (right-aligned): its first word is one, perhaps
/// with a sign or a `%` (`2481 (100 %)`, `+5.0 %`, `1.25 ▲ better`); a version such as
/// `6.1.0-25-cloud-amd64` is not.
fn numeric(text: &str) -> bool {
    let first = text.split_whitespace().next().unwrap_or("");
    let first = first.trim_end_matches(['%', '×']);
    first.parse::<f64>().is_ok_and(f64::is_finite) && text.chars().count() <= 28
}

/// The first words of `text`, about `SHOWN` characters.
fn head(text: &str) -> String {
    let mut out = String::new();
    for word in text.split_whitespace() {
        if !out.is_empty() && out.chars().count() + word.chars().count() > SHOWN {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.chars().count() > SHOWN + 8 {
        out = out.chars().take(SHOWN).collect();
    }
    out
}

/// One cell's content; `linked` are the metric keys that have a description.
pub fn cell(text: &str, linked: &HashSet<String>) -> (String, bool) {
    if linked.contains(text) {
        let a = format!("<a href=\"#{}\">{}</a>", esc(&anchor(text)), esc(text));
        return (a, false);
    }
    if text.chars().count() > FOLD {
        let folded = format!(
            "<details class=\"cell\"><summary>{}…</summary>{}</details>",
            esc(&head(text)),
            esc(text)
        );
        return (folded, false);
    }
    (esc(text), numeric(text))
}

/// Render a table.
pub fn table(t: &Table, linked: &HashSet<String>) -> String {
    let mut out = String::from("<div class=\"table\"><table class=\"sortable\">\n<thead><tr>");
    for h in &t.header {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    let row = |out: &mut String, r: &[String]| {
        out.push_str("<tr>");
        for c in r {
            let (html, num) = cell(c, linked);
            let class = if num { " class=\"num\"" } else { "" };
            let _ = write!(out, "<td{class}>{html}</td>");
        }
        out.push_str("</tr>\n");
    };
    for r in &t.rows {
        row(&mut out, r);
    }
    out.push_str("</tbody>\n");
    if !t.footer.is_empty() {
        out.push_str("<tfoot>\n");
        for r in &t.footer {
            row(&mut out, r);
        }
        out.push_str("</tfoot>\n");
    }
    out.push_str("</table></div>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_link_fold_and_align() {
        let linked: HashSet<String> = ["cpu.int/ops".to_string()].into();
        let (a, _) = cell("cpu.int/ops", &linked);
        assert_eq!(a, "<a href=\"#m-cpu.int-ops\">cpu.int/ops</a>");
        let long = "raw file on L2 scratch disk, virtio-blk-device cache=none aio=io_uring";
        let (f, num) = cell(long, &linked);
        assert!(
            f.starts_with("<details class=\"cell\"><summary>raw file on L2…"),
            "{f}"
        );
        assert!(f.contains(long) && !num);
        assert!(cell("2481 (100 %)", &linked).1);
        assert!(cell("+5.0 %", &linked).1);
        assert!(!cell("n/a", &linked).1);
        assert!(!cell("6.1.0-25-cloud-amd64", &linked).1);
        assert!(cell("1.25 ▲ better", &linked).1);
        let t = Table {
            header: vec!["a".into()],
            rows: vec![vec!["1".into()]],
            footer: vec![vec!["sum".into()]],
        };
        let html = table(&t, &linked);
        assert!(html.contains("<tfoot>\n<tr><td>sum</td></tr>"), "{html}");
    }
}
