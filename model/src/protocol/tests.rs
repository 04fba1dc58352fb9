//! Parser tests on captured streams: a good one and every way one can break.

use super::*;

const BEGIN: &str = r#"{"type":"begin","protocol":1,"agent_version":"0.1.0","suite":"smoke","workloads":["cpu.int","disk.seq"],"info":{"cpu_model":"x","vcpus":2,"memory_mib":1024,"kernel":"6.1","hostname":"h","hypervisor":null,"virt_extensions":null,"kvm_usable":false}}"#;
const RESULT: &str = r#"{"type":"result","workload":"cpu.int","metric":"ops","unit":"Mops/s","higher_is_better":true,"params":{"budget_s":0.1},"samples":[1.0,2.0,3.0,4.0,5.0]}"#;
const ERROR: &str = r#"{"type":"error","workload":"disk.seq","message":"no space left on device"}"#;
const END: &str = r#"{"type":"end","elapsed_s":1.5}"#;

fn stream(lines: &[&str]) -> String {
    lines.join("\n")
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
fn other_protocol_version_is_refused() {
    let b = BEGIN.replace("\"protocol\":1", "\"protocol\":2");
    let out = parse_stream(&stream(&[&b, END]));
    assert!(out.failure.unwrap().contains("protocol 2"));
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
