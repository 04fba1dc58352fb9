//! `nestbench man`: one roff page, nestbench(1), on stdout, generated from the clap
//! definitions ([`crate::cli`]) with clap_mangen. clap_mangen makes one page per
//! command; a user who saves `nestbench man > nestbench.1` should still find every
//! subcommand, so the top page is followed by a COMMANDS section holding each
//! subcommand's synopsis, options and example (clap_mangen's own sections, their
//! headings turned into subsection paragraphs), then the exit codes.

use crate::exit::{CmdResult, Outcome};
use clap_mangen::Man;
use roff::{bold, roman, Roff};

/// The exit codes, as README.md "Exit codes" has them.
const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "done; for compare, no regression; for trend, no recent regression"),
    ("1", "an error: unreadable or mixed input, a run whose L0 could not be measured, an unusable history (one line on stderr)"),
    ("2", "usage: a bad flag or value"),
    ("3", "compare, trend: a regression (or a missing metric without --allow-missing, or with --strict a comparability warning)"),
    ("4", "run: partial run, some levels failed or were skipped"),
    ("5", "compare --fail-on-inconclusive: no regression, but some metric was inconclusive"),
    ("6", "doctor, hyperv prepare: not ready, some check failed (1: could not check at all)"),
    ("128+N", "run: stopped by signal N (Ctrl-C: 130)"),
];

/// `roff` rendered without the preamble (apostrophes still made literal).
fn body(roff: &Roff) -> String {
    let text = roff.render();
    let preamble = Roff::new().render();
    text.strip_prefix(&preamble).unwrap_or(&text).to_string()
}

/// One section of `man` rendered alone, without the preamble every render repeats.
fn fragment(man: &Man, render: fn(&Man, &mut dyn std::io::Write) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    render(man, &mut out).expect("writing to memory");
    let text = String::from_utf8(out).expect("clap_mangen writes UTF-8");
    let preamble = Roff::new().render();
    text.strip_prefix(&preamble).unwrap_or(&text).to_string()
}

/// `fragment` of a subcommand: its `.SH` heading dropped, or made a bold paragraph
/// when it names a part (OPTIONS), since a subsection cannot hold sections.
fn subsection_body(text: &str, heading: Option<&str>) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with(".SH") {
            if let Some(h) = heading {
                out.push_str(&body(Roff::new().control("PP", []).text([bold(h)])));
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// An example text (`Examples:` then shell lines) as a paragraph and a no-fill block.
fn examples(roff: &mut Roff, text: &str) {
    let mut lines = text.lines();
    if let Some(first) = lines.next() {
        roff.control("PP", []).text([bold(first.trim())]);
    }
    roff.control("nf", []).control("RS", ["4"]);
    for l in lines {
        roff.text([roman(l.trim())]);
    }
    roff.control("RE", []).control("fi", []);
}

/// The whole page.
pub fn page() -> String {
    let mut top = crate::cli::command();
    top.build();
    let man = Man::new(top.clone());
    let mut out = Roff::new().render();
    for render in [
        Man::render_title,
        Man::render_name_section,
        Man::render_synopsis_section,
        Man::render_description_section,
        Man::render_options_section,
    ] {
        out.push_str(&fragment(&man, render));
    }
    out.push_str(&body(Roff::new().control("SH", ["COMMANDS"])));
    for (path, sub) in crate::cli::subcommands(&top) {
        let name = format!("nestbench {}", path.join(" "));
        let mut head = Roff::new();
        head.control("SS", [name.as_str()]);
        if let Some(about) = sub.get_long_about().or_else(|| sub.get_about()) {
            head.text([roman(about.to_string())]);
        }
        head.control("PP", []);
        out.push_str(&body(&head));
        let sub_man = Man::new(sub.clone().bin_name(&name));
        let synopsis = fragment(&sub_man, Man::render_synopsis_section);
        out.push_str(&subsection_body(&synopsis, None));
        let options = fragment(&sub_man, Man::render_options_section);
        out.push_str(&subsection_body(&options, Some("Options:")));
        if let Some(after) = sub.get_after_help() {
            let mut ex = Roff::new();
            examples(&mut ex, &after.to_string());
            out.push_str(&body(&ex));
        }
    }
    let mut tail = Roff::new();
    if let Some(after) = top.get_after_help() {
        tail.control("SH", ["EXAMPLES"]);
        examples(&mut tail, &after.to_string());
    }
    tail.control("SH", ["EXIT STATUS"]);
    for (code, what) in EXIT_STATUS {
        tail.control("TP", [])
            .text([bold(*code)])
            .text([roman(*what)]);
    }
    tail.control("SH", ["SEE ALSO"]).text([roman(
        "README.md and docs/ in the nestbench sources; nestbench completions SHELL for shell completion.",
    )]);
    out.push_str(&body(&tail));
    out.push_str(&fragment(&man, Man::render_version_section));
    ascii(&out)
}

/// Every character outside ASCII as a groff Unicode escape (`×` → `\[u00D7]`), so the
/// page renders the same without an input-encoding preprocessor (groff without
/// preconv reads bytes as Latin-1; man-db and mandoc both read the escapes).
fn ascii(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    for ch in page.chars() {
        if ch.is_ascii() {
            out.push(ch);
        } else {
            out.push_str(&format!("\\[u{:04X}]", ch as u32));
        }
    }
    out
}

/// Entry point of `nestbench man`.
pub fn man() -> CmdResult {
    super::print_stdout(&page())?;
    Ok(Outcome::Ok)
}
