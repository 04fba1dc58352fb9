//! Property tests of the stream parser on what a broken or hostile agent may print:
//! random text, and valid streams with bytes, lines or records flipped, cut, inserted
//! or repeated. Whatever arrives, the parser must not panic, must keep what it parsed
//! before the first bad line, and must say what went wrong in one line.

use super::*;
use crate::testing::{edits, is_one_line, mutate};
use crate::MetricId;
use proptest::prelude::*;

fn begin() -> Record {
    Record::Begin {
        protocol: PROTOCOL_VERSION,
        agent_version: "0.1.0".into(),
        suite: "smoke".into(),
        workloads: vec!["cpu.int".into(), "mem.stream".into()],
        info: HostInfo {
            cpu_model: "x".into(),
            vcpus: 2,
            memory_mib: 1024,
            ..HostInfo::default()
        },
    }
}

fn result() -> impl Strategy<Value = Record> {
    (
        "[a-z]{1,6}\\.[a-z]{1,6}",
        "[a-z_]{1,8}",
        prop::collection::vec(-1e12f64..1e12, 1..6),
    )
        .prop_map(|(workload, metric, samples)| {
            Record::Result(WorkloadResult {
                id: MetricId {
                    workload,
                    metric,
                    unit: "ops".into(),
                    higher_is_better: true,
                },
                params: serde_json::Map::new(),
                samples,
            })
        })
}

/// A not-applicable record; its workload has a digit, which results' never have, so a
/// valid stream never reports one metric both ways.
fn not_applicable() -> impl Strategy<Value = Record> {
    (
        "[a-z]{1,4}[0-9]\\.[a-z]{1,6}",
        "[a-z_]{1,8}",
        "[a-z][a-z ;]{0,30}",
    )
        .prop_map(|(workload, metric, reason)| {
            Record::NotApplicable(NotApplicable {
                id: MetricId {
                    workload,
                    metric,
                    unit: "ns".into(),
                    higher_is_better: false,
                },
                reason,
            })
        })
}

fn body_record() -> impl Strategy<Value = Record> {
    prop_oneof![
        4 => result(),
        1 => not_applicable(),
        1 => ("[a-z.]{1,10}", ".{0,20}").prop_map(|(workload, message)| {
            Record::Error(WorkloadError { workload, message })
        }),
    ]
}

/// The lines of a valid stream: begin, some results and errors, end.
fn valid_lines() -> impl Strategy<Value = Vec<String>> {
    (prop::collection::vec(body_record(), 0..8), 0.0f64..1e4).prop_map(|(body, elapsed_s)| {
        std::iter::once(begin())
            .chain(body)
            .chain(std::iter::once(Record::End { elapsed_s }))
            .map(|r| r.to_line())
            .collect()
    })
}

/// What the parser promises about any outcome.
fn check_promises(out: &StreamOutcome) -> Result<(), TestCaseError> {
    for r in &out.results {
        prop_assert!(!r.samples.is_empty() && r.samples.iter().all(|s| s.is_finite()));
    }
    for n in &out.not_applicable {
        prop_assert!(!n.reason.trim().is_empty(), "{n:?}");
        prop_assert!(
            !out.results.iter().any(|r| r.id.same(&n.id)),
            "{n:?} also measured"
        );
    }
    let kept = !out.results.is_empty() || !out.not_applicable.is_empty() || !out.errors.is_empty();
    if kept || out.end_elapsed_s.is_some() {
        prop_assert!(out.begin.is_some(), "records kept without a begin");
    }
    match &out.failure {
        Some(f) => prop_assert!(is_one_line(f), "{f:?}"),
        None => prop_assert!(out.begin.is_some() && out.end_elapsed_s.is_some()),
    }
    for w in &out.warnings {
        prop_assert!(is_one_line(w), "{w:?}");
    }
    Ok(())
}

fn results_of(lines: &[String]) -> Vec<WorkloadResult> {
    let mut p = StreamParser::new();
    for l in lines {
        p.feed(l);
    }
    p.outcome().results.clone()
}

proptest! {
    #[test]
    fn valid_streams_parse_fully(lines in valid_lines()) {
        let out = parse_stream(&lines.join("\n"));
        prop_assert_eq!(&out.failure, &None);
        prop_assert_eq!(out.results.len(), lines.iter().filter(|l| l.contains(r#""type":"result""#)).count());
        prop_assert_eq!(out.not_applicable.len(), lines.iter().filter(|l| l.contains(r#""type":"not_applicable""#)).count());
        check_promises(&out)?;
    }

    #[test]
    fn version_1_streams_skip_not_applicable_and_keep_the_rest(lines in valid_lines()) {
        // A version 1 agent never sends not_applicable; a version 1 stream that has it
        // reads as before: an unknown type, skipped with a warning.
        let mut v1 = lines.clone();
        v1[0] = v1[0].replace(&format!("\"protocol\":{PROTOCOL_VERSION}"), "\"protocol\":1");
        let v2 = parse_stream(&lines.join("\n"));
        let out = parse_stream(&v1.join("\n"));
        prop_assert_eq!(&out.failure, &None);
        prop_assert!(out.not_applicable.is_empty());
        prop_assert_eq!(out.warnings.len(), v2.not_applicable.len());
        prop_assert_eq!(&out.results, &v2.results);
        prop_assert_eq!(&out.errors, &v2.errors);
        check_promises(&out)?;
    }

    #[test]
    fn random_text_never_panics(text in any::<String>()) {
        check_promises(&parse_stream(&text))?;
    }

    #[test]
    fn random_json_lines_never_panic(lines in prop::collection::vec(
        r#"\{("[a-z_]{1,9}":("[a-z.]{0,8}"|-?[0-9]{1,3}|\[[0-9.,]{0,8}\]|null|true),?){0,5}\}"#, 0..8)
    ) {
        let text = std::iter::once(begin().to_line()).chain(lines).collect::<Vec<_>>().join("\n");
        check_promises(&parse_stream(&text))?;
    }

    #[test]
    fn mutated_streams_keep_their_promises(lines in valid_lines(), edits in edits(), cut in any::<usize>()) {
        let text = mutate(&lines.join("\n"), &edits);
        let out = parse_stream(&text);
        check_promises(&out)?;
        // Whatever came later, what a prefix of the stream gave is kept, in order.
        let got: Vec<String> = text.lines().map(str::to_string).collect();
        let prefix = results_of(&got[..cut % (got.len() + 1)]);
        prop_assert!(out.results.starts_with(&prefix));
    }

    #[test]
    fn results_before_a_broken_line_are_kept(
        lines in valid_lines(),
        at in any::<usize>(),
        cut in any::<usize>(),
        garbage in "[^{}\n\r]{0,30}",
    ) {
        // Break a line after begin: cut it short (an agent killed mid-write) or print
        // something that is not JSON at all (a crash message).
        let i = 1 + at % (lines.len() - 1);
        let mut broken = lines.clone();
        broken[i] = if cut % 2 == 0 {
            let line = &lines[i];
            let mut end = 1 + cut % (line.len() - 1);
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            line[..end].to_string()
        } else {
            format!("{garbage}x")
        };
        let out = parse_stream(&broken.join("\n"));
        check_promises(&out)?;
        prop_assert!(out.failure.is_some());
        prop_assert_eq!(out.results, results_of(&lines[..i]));
        prop_assert_eq!(out.end_elapsed_s, None);
    }
}
