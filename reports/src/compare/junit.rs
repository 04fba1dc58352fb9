//! The comparison as JUnit XML (`nestbench compare --format junit`), the test report
//! format Jenkins, GitLab, Azure and most CI systems show natively: each level × metric
//! is a testcase (`classname` `L2.mem.stream`, `name` `triad`), so a regression shows
//! up as a failed test with its figures, next to the job's other tests.
//!
//! Mapping: Regressed → `<failure>`; Missing → `<error>` (or `<skipped>` under
//! `--allow-missing`, which says it does not count); Inconclusive → `<skipped>` (the
//! runs could not tell); not applicable → `<skipped>` with the reason; Unchanged, Improved and New pass, their figures in
//! `<system-out>`. When the sides are not comparable, one more testcase,
//! `nestbench.compare` / `comparability`, lists the warnings: a `<failure>` under
//! `--strict`, passing otherwise. The suite's `<properties>` carry the family's
//! settings. Every text goes through [`escape`]: labels are paths and notes quote
//! other programs' errors.

use super::text::row_cells;
use super::{Change, Comparison, GateFlags, Status};
use std::fmt::Write;

/// `s` made safe for XML 1.0 text and attribute values: `& < > " '` as entities, line
/// breaks and tabs as character references (so attributes keep them), and characters
/// XML 1.0 cannot carry at all (other C0 controls, U+FFFE, U+FFFF) as U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// What the testcase element holds for a row's verdict.
enum Outcome {
    Pass,
    Failure(&'static str),
    Error(&'static str),
    Skipped,
}

fn outcome(c: &Change, flags: &GateFlags) -> Outcome {
    match c.status {
        Status::Regressed => Outcome::Failure("regressed"),
        Status::Missing if flags.allow_missing => Outcome::Skipped,
        Status::Missing => Outcome::Error("missing"),
        Status::Inconclusive(_) | Status::NotApplicable => Outcome::Skipped,
        Status::Unchanged | Status::Improved | Status::New => Outcome::Pass,
    }
}

/// One line with the row's figures: sides, change, interval, MDE and verdict.
fn figures(c: &Change, flags: &GateFlags) -> String {
    let cells = row_cells(c);
    let mut line = format!(
        "{} {}: baseline {}, current {} {}, change {}, interval {}, MDE {}: {}",
        cells[0], cells[1], cells[3], cells[4], cells[2], cells[5], cells[6], cells[7], cells[8]
    );
    if c.status == Status::Missing && flags.allow_missing {
        line.push_str(" (not a failure: --allow-missing)");
    }
    line
}

/// One `<testcase>`.
fn testcase(out: &mut String, classname: &str, name: &str, kind: &Outcome, message: &str) {
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
        escape(classname),
        escape(name)
    );
    let m = escape(message);
    let _ = match kind {
        Outcome::Pass => writeln!(
            out,
            ">\n      <system-out>{m}</system-out>\n    </testcase>"
        ),
        Outcome::Failure(t) => writeln!(
            out,
            ">\n      <failure message=\"{m}\" type=\"{t}\">{m}</failure>\n    </testcase>"
        ),
        Outcome::Error(t) => writeln!(
            out,
            ">\n      <error message=\"{m}\" type=\"{t}\">{m}</error>\n    </testcase>"
        ),
        Outcome::Skipped => writeln!(out, ">\n      <skipped message=\"{m}\"/>\n    </testcase>"),
    };
}

/// The whole report, read for CI under `flags`.
pub fn render(cmp: &Comparison, flags: &GateFlags) -> String {
    let mut cases = String::new();
    let (mut tests, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    let mut count = |o: &Outcome| {
        tests += 1;
        match o {
            Outcome::Pass => {}
            Outcome::Failure(_) => failures += 1,
            Outcome::Error(_) => errors += 1,
            Outcome::Skipped => skipped += 1,
        }
    };
    for c in &cmp.changes {
        let o = outcome(c, flags);
        count(&o);
        let classname = format!("{}.{}", c.level, c.id.workload);
        testcase(&mut cases, &classname, &c.id.metric, &o, &figures(c, flags));
    }
    if !cmp.warnings.is_empty() {
        let o = if flags.strict {
            Outcome::Failure("not_comparable")
        } else {
            Outcome::Pass
        };
        count(&o);
        let list: Vec<String> = cmp.warnings.iter().map(|w| w.to_string()).collect();
        let message = format!("the runs may not be comparable: {}", list.join("; "));
        testcase(
            &mut cases,
            "nestbench.compare",
            "comparability",
            &o,
            &message,
        );
    }
    let totals = format!(
        "tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\""
    );
    let suite = format!(
        "nestbench compare: {} vs {}",
        cmp.baseline_label, cmp.current_label
    );
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"nestbench compare\" {totals}>");
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" {totals} time=\"0\">",
        escape(&suite)
    );
    out.push_str("    <properties>\n");
    let gate = cmp.gate(flags);
    let props: [(&str, String); 10] = [
        ("result", gate.word().to_string()),
        ("baseline", cmp.baseline_label.clone()),
        ("baseline_runs", cmp.runs.0.to_string()),
        ("current", cmp.current_label.clone()),
        ("current_runs", cmp.runs.1.to_string()),
        ("noise_threshold", cmp.options.noise_threshold.to_string()),
        ("significance", cmp.options.significance.to_string()),
        ("tested", cmp.tested.to_string()),
        ("interval_level", cmp.interval_level.to_string()),
        ("note", cmp.single_run_note.clone().unwrap_or_default()),
    ];
    for (k, v) in props {
        let _ = writeln!(
            out,
            "      <property name=\"{k}\" value=\"{}\"/>",
            escape(&v)
        );
    }
    out.push_str("    </properties>\n");
    out.push_str(&cases);
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_quotes_breaks_and_forbidden_characters() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        assert_eq!(escape("x\ny\tz\r"), "x&#10;y&#9;z&#13;");
        assert_eq!(escape("bell\u{7} nul\u{0}"), "bell\u{FFFD} nul\u{FFFD}");
        assert_eq!(escape("L2 → ünïcode"), "L2 → ünïcode");
    }
}
