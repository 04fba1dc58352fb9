//! Parser tests on captured streams: a good one and every way one can break, in both
//! protocol versions the parser reads.

use super::*;

const BEGIN: &str = r#"{"type":"begin","protocol":1,"agent_version":"0.1.0","suite":"smoke","workloads":["cpu.int","disk.seq"],"info":{"cpu_model":"x","vcpus":2,"memory_mib":1024,"kernel":"6.1","hostname":"h","hypervisor":null,"virt_extensions":null,"kvm_usable":false}}"#;
const RESULT: &str = r#"{"type":"result","workload":"cpu.int","metric":"ops","unit":"Mops/s","higher_is_better":true,"params":{"budget_s":0.1},"samples":[1.0,2.0,3.0,4.0,5.0]}"#;
const ERROR: &str = r#"{"type":"error","workload":"disk.seq","message":"no space left on device"}"#;
const END: &str = r#"{"type":"end","elapsed_s":1.5}"#;
const NA: &str = r#"{"type":"not_applicable","workload":"exit.ipi","metric":"latency","unit":"ns","higher_is_better":false,"reason":"needs two online vCPUs; this level has 1"}"#;

/// BEGIN of a version 2 agent.
fn begin2() -> String {
    BEGIN.replace("\"protocol\":1", "\"protocol\":2")
}

fn stream(lines: &[&str]) -> String {
    lines.join("\n")
}

impl StreamOutcome {
    /// The same outcome as if `begin` had announced protocol `v`.
    fn with_protocol(mut self, v: u32) -> Self {
        if let Some(b) = &mut self.begin {
            b.protocol = v;
        }
        self
    }
}

#[test]
fn good_stream_parses_fully() {
    let out = parse_stream(&stream(&[BEGIN, RESULT, ERROR, END]));
    assert_eq!(out.failure, None);
    assert_eq!(out.begin.unwrap().workloads, vec!["cpu.int", "disk.seq"]);
    assert_eq!(out.results.len(), 1);
    assert_eq!(out.results[0].samples, vec![1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!(out.errors[0].workload, "disk.seq");
    assert_eq!(out.end_elapsed_s, Some(1.5));
}

#[test]
fn truncated_line_is_a_failure_but_keeps_earlier_results() {
    let out = parse_stream(&stream(&[BEGIN, RESULT, &RESULT[..40]]));
    assert_eq!(out.results.len(), 1);
    let why = out.failure.unwrap();
    assert!(why.contains("not protocol JSON"), "{why}");
}

#[test]
fn garbage_line_is_a_failure() {
    let out = parse_stream(&stream(&[BEGIN, "Segmentation fault (core dumped)", END]));
    assert!(out.failure.unwrap().contains("Segmentation fault"));
    assert_eq!(out.end_elapsed_s, None);
}

#[test]
fn error_record_is_kept_and_not_a_failure() {
    let out = parse_stream(&stream(&[BEGIN, ERROR, END]));
    assert_eq!(out.failure, None);
    assert_eq!(out.errors[0].message, "no space left on device");
}

#[test]
fn missing_end_is_a_failure() {
    let out = parse_stream(&stream(&[BEGIN, RESULT]));
    assert_eq!(out.results.len(), 1);
    assert!(out.failure.unwrap().contains("without an end record"));
}

#[test]
fn empty_stream_is_a_failure() {
    let out = parse_stream("");
    assert!(out.failure.unwrap().contains("after nothing"));
}

#[test]
fn unknown_record_type_is_skipped_with_a_warning() {
    let out = parse_stream(&stream(&[
        BEGIN,
        r#"{"type":"progress","pct":50}"#,
        RESULT,
        END,
    ]));
    assert_eq!(out.failure, None);
    assert_eq!(out.results.len(), 1);
    assert_eq!(out.warnings.len(), 1);
}

#[test]
fn result_before_begin_is_a_failure() {
    let out = parse_stream(&stream(&[RESULT, END]));
    assert!(out.failure.unwrap().contains("begin"));
}

#[test]
fn other_protocol_versions_are_refused() {
    for v in [0, PROTOCOL_VERSION + 1] {
        let b = BEGIN.replace("\"protocol\":1", &format!("\"protocol\":{v}"));
        let why = parse_stream(&stream(&[&b, END])).failure.unwrap();
        assert!(why.contains(&format!("protocol {v}")), "{why}");
        assert!(why.contains("reads 1 to 2"), "{why}");
    }
}

#[test]
fn version_2_keeps_not_applicable_records_apart_from_results_and_errors() {
    let b = begin2();
    let mut p = StreamParser::new();
    assert_eq!(p.feed(&b), LineEvent::Begin);
    assert_eq!(p.feed(RESULT), LineEvent::Result("cpu.int".into()));
    assert_eq!(p.feed(NA), LineEvent::NotApplicable("exit.ipi".into()));
    assert_eq!(p.feed(END), LineEvent::End);
    let out = p.finish();
    assert_eq!(out.failure, None);
    assert_eq!(out.begin.unwrap().protocol, 2);
    assert_eq!(out.results.len(), 1);
    assert!(out.errors.is_empty() && out.warnings.is_empty());
    let n = &out.not_applicable[0];
    assert_eq!(n.id.key(), "exit.ipi/latency");
    assert_eq!(n.reason, "needs two online vCPUs; this level has 1");
    let back: Record = serde_json::from_str(NA).unwrap();
    assert_eq!(back.to_line(), NA);
}

#[test]
fn version_1_streams_read_as_before_and_skip_not_applicable_as_unknown() {
    let v1 = parse_stream(&stream(&[BEGIN, RESULT, ERROR, END]));
    assert_eq!(
        v1,
        parse_stream(&stream(&[&begin2(), RESULT, ERROR, END])).with_protocol(1)
    );
    let out = parse_stream(&stream(&[BEGIN, RESULT, NA, END]));
    assert_eq!(out.failure, None);
    assert!(out.not_applicable.is_empty());
    assert_eq!(
        out.warnings,
        ["skipped agent record of unknown type \"not_applicable\""]
    );
}

#[test]
fn not_applicable_without_a_reason_is_refused() {
    let empty = NA.replace("needs two online vCPUs; this level has 1", " ");
    let why = parse_stream(&stream(&[&begin2(), RESULT, &empty, END]))
        .failure
        .unwrap();
    assert!(why.contains("exit.ipi/latency without a reason"), "{why}");
    let missing = NA.replace(
        r#","reason":"needs two online vCPUs; this level has 1""#,
        "",
    );
    let out = parse_stream(&stream(&[&begin2(), RESULT, &missing, END]));
    assert!(out
        .failure
        .unwrap()
        .contains("malformed not_applicable record"));
    assert_eq!(out.results.len(), 1, "what came before is kept");
}

#[test]
fn a_metric_both_measured_and_not_applicable_is_a_lie() {
    let r = RESULT
        .replace("cpu.int", "exit.ipi")
        .replace("\"ops\"", "\"latency\"");
    for (first, second) in [(r.as_str(), NA), (NA, r.as_str())] {
        let out = parse_stream(&stream(&[&begin2(), first, second, END]));
        let why = out.failure.unwrap();
        assert!(why.contains("exit.ipi/latency both"), "{why}");
        assert_eq!(out.results.len() + out.not_applicable.len(), 1);
    }
}

#[test]
fn not_applicable_before_begin_is_a_failure() {
    let why = parse_stream(&stream(&[NA, &begin2(), END]))
        .failure
        .unwrap();
    assert!(why.contains("did not start with a begin record"), "{why}");
}

#[test]
fn lying_result_without_samples_is_refused() {
    let r = RESULT.replace("[1.0,2.0,3.0,4.0,5.0]", "[]");
    let out = parse_stream(&stream(&[BEGIN, &r, END]));
    assert!(out.failure.unwrap().contains("no or non-finite samples"));
}

#[test]
fn records_round_trip() {
    let r = Record::End { elapsed_s: 2.0 };
    assert_eq!(r.to_line(), r#"{"type":"end","elapsed_s":2.0}"#);
}

#[test]
fn control_characters_the_agent_printed_are_escaped_in_the_failure() {
    // Found by the protocol_stream fuzz target: a form feed in a broken begin line was
    // copied into the failure, which must stay one printable line (it is shown in the
    // progress display and kept in run.json). A workload name is quoted the same way.
    let out = parse_stream(&stream(&["{\"type\":\"begin\"\u{c}\"protocol\":1", END]));
    let why = out.failure.unwrap();
    assert!(why.contains("\\u{c}"), "{why:?}");
    assert!(!why.chars().any(char::is_control), "{why:?}");
    let r = RESULT
        .replace("cpu.int", "cpu\\u001b[2Jint")
        .replace("[1.0,2.0,3.0,4.0,5.0]", "[]");
    let why = parse_stream(&stream(&[BEGIN, &r, END])).failure.unwrap();
    assert!(why.contains("\\u{1b}[2J"), "{why:?}");
    assert!(!why.chars().any(char::is_control), "{why:?}");
}
