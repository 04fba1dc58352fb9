//! Arbitrary bytes, read as text the way the controller reads an agent's stdout, fed
//! line by line to `model::protocol::StreamParser`, checking after every line what the
//! parser promises: it never panics, a failure once set stays (and later lines change
//! nothing), results and not-applicable records are kept in order and never lost, every
//! kept result has finite, non-empty samples, every not-applicable record a reason and
//! no metric is both, nothing counts before `begin`, and `parse_stream` agrees with
//! feeding the lines one at a time.

#![no_main]

use libfuzzer_sys::fuzz_target;
use model::protocol::{parse_stream, LineEvent, StreamOutcome, StreamParser};
use nestbench_fuzz::assert_one_line;

fn check_kept(out: &StreamOutcome) {
    for r in &out.results {
        assert!(!r.samples.is_empty(), "kept a result without samples");
        assert!(
            r.samples.iter().all(|s| s.is_finite()),
            "kept a non-finite sample: {:?}",
            r.samples
        );
    }
    for n in &out.not_applicable {
        assert!(!n.reason.trim().is_empty(), "kept a not-applicable without a reason");
        assert!(
            !out.results.iter().any(|r| r.id.same(&n.id)),
            "kept {} both measured and not applicable",
            n.id
        );
    }
    if let Some(e) = out.end_elapsed_s {
        assert!(e.is_finite(), "kept a non-finite elapsed_s: {e}");
    }
    let kept = !out.results.is_empty() || !out.not_applicable.is_empty() || !out.errors.is_empty();
    if kept || out.end_elapsed_s.is_some() {
        assert!(out.begin.is_some(), "kept records without a begin");
    }
    if let Some(f) = &out.failure {
        assert_one_line("failure", f);
    }
    for w in &out.warnings {
        assert_one_line("warning", w);
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut p = StreamParser::new();
    for line in text.lines() {
        let before = p.outcome().clone();
        let ev = p.feed(line);
        let after = p.outcome();
        check_kept(after);
        // What was received is never taken back.
        assert!(after.results.starts_with(&before.results));
        assert!(after.not_applicable.starts_with(&before.not_applicable));
        assert!(after.errors.starts_with(&before.errors));
        assert!(after.warnings.starts_with(&before.warnings));
        if before.begin.is_some() {
            assert_eq!(after.begin, before.begin, "begin changed");
        }
        if before.failure.is_some() {
            assert_eq!(ev, LineEvent::Broken, "a broken stream took another line");
            assert_eq!(
                after, &before,
                "a line after the failure changed the outcome"
            );
            continue;
        }
        // Each event changes exactly what it says.
        let grew = |a: usize, b: usize| assert_eq!(a, b, "{ev:?} on {line:?}");
        match &ev {
            LineEvent::Blank => assert_eq!(after, &before),
            LineEvent::Begin => assert!(before.begin.is_none() && after.begin.is_some()),
            LineEvent::Result(w) => {
                grew(after.results.len(), before.results.len() + 1);
                assert_eq!(&after.results.last().unwrap().id.workload, w);
            }
            LineEvent::NotApplicable(w) => {
                grew(after.not_applicable.len(), before.not_applicable.len() + 1);
                assert_eq!(&after.not_applicable.last().unwrap().id.workload, w);
            }
            LineEvent::Error(w) => {
                grew(after.errors.len(), before.errors.len() + 1);
                assert_eq!(&after.errors.last().unwrap().workload, w);
            }
            LineEvent::End => {
                assert!(before.end_elapsed_s.is_none() && after.end_elapsed_s.is_some())
            }
            LineEvent::Skipped => grew(after.warnings.len(), before.warnings.len() + 1),
            LineEvent::Broken => assert!(after.failure.is_some(), "Broken without a failure"),
        }
        if !matches!(ev, LineEvent::Broken) {
            assert!(after.failure.is_none());
        }
        if before.end_elapsed_s.is_some() && !matches!(ev, LineEvent::Blank) {
            assert!(after.failure.is_some(), "data after end was accepted");
        }
    }
    let fed = p.finish();
    check_kept(&fed);
    if fed.failure.is_none() {
        assert!(fed.begin.is_some() && fed.end_elapsed_s.is_some());
    }
    if fed.end_elapsed_s.is_none() {
        assert!(
            fed.failure.is_some(),
            "a stream without end was not a failure"
        );
    }
    assert_eq!(parse_stream(&text), fed, "parse_stream disagrees with feed");
});
