//! run.json round trips, version 1 upgrades and the forward-compatibility rules.

use super::*;
use crate::{Accel, Level};

pub(super) const V1: &str = r#"{
  "schema_version": 1, "run_id": "r1", "tool_version": "0.1.0",
  "started_at": "2025-01-14T09:30:00Z", "finished_at": null, "status": "partial",
  "config": {"backend": "qemu", "levels": 2, "suite": "quick", "accel": "kvm",
             "memory_mib": 6144, "cpus": 2, "only": null, "keep": false,
             "sizes": {"stream_mib": 64, "latency_mib": 64, "pagefault_mib": 32, "disk_mib": 16},
             "qemu_args": ["2:-no-hpet"]},
  "levels": [
    {"level": 0, "name": "L0", "status": "ok", "error": null,
     "env": {"accel": "native", "cpu_model": "x"}, "timings": {"ready_s": 0.0},
     "results": [{"workload": "cpu.int", "metric": "ops", "unit": "Mops/s",
                  "higher_is_better": true, "params": {}, "samples": [1.0, 2.0]}]},
    {"level": 1, "name": "L1", "status": "failed", "error": "boom",
     "env": {"accel": "tcg"}, "timings": {}}
  ],
  "provenance": {"tool_commit": "abc", "host_vcpus": 2, "host_cpu": "EPYC",
                 "host_load_at_start": "0.50 0.40 0.30", "host_load_at_end": 3.5,
                 "image_digest": "sha256:1", "image_kernel": "linux-image-6.1",
                 "qemu_l1": "qemu-system-x86_64", "qemu_l1_version": "QEMU 7.2"}
}"#;

#[test]
fn version_1_is_upgraded_with_every_known_field_typed() {
    let d = RunDoc::from_json(V1, "v1.json").unwrap();
    assert_eq!(d.schema_version, SCHEMA_VERSION);
    assert_eq!(d.config.backend, BackendKind::Qemu);
    assert_eq!(d.config.suite, crate::Suite::Quick);
    assert_eq!(d.config.levels, 2);
    assert_eq!(d.config.sizes.disk_mib, Some(16));
    let q = d.config.qemu.as_ref().unwrap();
    assert_eq!(q.accel, crate::AccelChoice::Kvm);
    assert_eq!(q.qemu_args, ["2:-no-hpet"]);
    assert_eq!(d.provenance.host.vcpus, Some(2));
    assert_eq!(d.provenance.host_load.at_start.unwrap().five, Some(0.4));
    assert_eq!(d.provenance.host_load.peak_one_minute(), Some(3.5));
    assert_eq!(d.provenance.image.as_ref().unwrap().digest, "sha256:1");
    assert_eq!(d.levels[1].env.accel, Some(Accel::Tcg));
    assert_eq!(d.levels[1].outcome, None);
    // What was upgraded writes and reads back as version 2.
    let again = RunDoc::from_json(&d.to_json(), "v2.json").unwrap();
    assert_eq!(again, d);
}

#[test]
fn version_1_without_a_suite_is_refused_in_one_line() {
    let bad = V1.replace(r#""suite": "quick","#, "");
    let e = RunDoc::from_json(&bad, "x.json").unwrap_err().to_string();
    assert!(e.contains("version 1") && e.contains("suite"), "{e}");
}

#[test]
fn newer_versions_and_garbage_are_refused() {
    let newer = V1.replace(r#""schema_version": 1"#, r#""schema_version": 3"#);
    assert!(matches!(
        RunDoc::from_json(&newer, "n.json"),
        Err(RunDocError::TooNew { found: 3, .. })
    ));
    assert!(matches!(
        RunDoc::from_json("{", "g.json"),
        Err(RunDocError::Corrupt { .. })
    ));
}

#[test]
fn unknown_fields_and_values_from_a_newer_writer_are_tolerated() {
    let mut d = RunDoc::from_json(V1, "v1.json").unwrap();
    d.levels[1].conclude(LevelOutcome::Lost {
        lost: Level(1),
        reason: "gone".into(),
    });
    let mut v: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
    v["config"]["tags"] = serde_json::json!({"qemu": "abc123"});
    v["config"]["backend"] = "vmware".into();
    v["levels"][1]["outcome"] = serde_json::json!({"kind": "teleported"});
    v["levels"][0]["env"]["accel"] = "whpx".into();
    v["levels"][0]["env"]["os"] = "windows".into();
    let d2 = RunDoc::from_json(&v.to_string(), "future.json").unwrap();
    assert_eq!(d2.config.backend, BackendKind::Other("vmware".into()));
    assert_eq!(d2.levels[1].outcome, None);
    assert_eq!(d2.levels[1].status, LevelStatus::Failed);
    assert_eq!(d2.levels[0].env.accel, None);
}

#[test]
fn outcomes_derive_status_and_error_and_round_trip() {
    let cases = [
        (LevelOutcome::Measured, LevelStatus::Ok),
        (
            LevelOutcome::AgentFailed {
                reason: "cut off".into(),
                results_kept: 3,
            },
            LevelStatus::Failed,
        ),
        (
            LevelOutcome::Unreachable {
                reason: "no sshd".into(),
            },
            LevelStatus::Failed,
        ),
        (
            LevelOutcome::Skipped {
                reason: SkipReason::CannotHost {
                    parent: Level(2),
                    detail: "no svm".into(),
                },
            },
            LevelStatus::Skipped,
        ),
        (
            LevelOutcome::Skipped {
                reason: SkipReason::DependsOn { level: Level(1) },
            },
            LevelStatus::Skipped,
        ),
    ];
    for (o, status) in cases {
        let mut r = LevelRecord::pending(Level(3));
        r.conclude(o.clone());
        assert_eq!(r.status, status);
        assert_eq!(r.error.is_some(), status != LevelStatus::Ok);
        let back: LevelRecord = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back.outcome, Some(o));
    }
}

#[test]
fn load_averages_parse_from_proc_text_only() {
    let l: LoadAvg = "0.52 0.31 0.20 1/123 456".parse().unwrap();
    assert_eq!((l.one, l.five, l.fifteen), (0.52, Some(0.31), Some(0.2)));
    assert!("0.5 x 0.2".parse::<LoadAvg>().is_err());
    assert!("".parse::<LoadAvg>().is_err());
    assert!("-1 0 0".parse::<LoadAvg>().is_err());
}

#[test]
fn unknown_value_with_control_characters_is_refused_in_one_line() {
    // Found by the rundoc fuzz target: serde quotes an unknown enum value as it was
    // written, so a level status holding a DEL (or a newline) made the error span lines.
    let bad = V1.replace(r#""status": "failed""#, r#""status": "fa\u007f\niled""#);
    let e = RunDoc::from_json(&bad, "x.json").unwrap_err().to_string();
    assert!(e.contains("unknown variant `fa\\u{7f}\\niled`"), "{e:?}");
    assert!(!e.chars().any(char::is_control), "{e:?}");
}

#[test]
fn numbers_read_back_exactly_after_to_json() {
    // Found by the round-trip property test and the rundoc fuzz target: serde_json's default float reader is not
    // correctly rounded, so a sample or timing written by `to_json` (shortest exact
    // form) could read back one unit in the last place off, and a stored run changed
    // when it was read and written again.
    let mut d = RunDoc::from_json(V1, "v1.json").unwrap();
    let values = [
        1.0209382373953911e151,
        4.2775796690888004e244,
        5.0313355852931226e141,
        -9.41611018569294e-61,
    ];
    d.levels[0].results[0].samples = values.to_vec();
    d.levels[0].timings.suite_s = Some(values[0]);
    let back = RunDoc::from_json(&d.to_json(), "again.json").unwrap();
    assert_eq!(back.levels[0].results[0].samples, values);
    assert_eq!(back.levels[0].timings.suite_s, Some(values[0]));
    // The rundoc fuzz target's case: a sample as a file may spell it.
    let text = V1.replace("[1.0, 2.0]", "[12.22222222222222]");
    let d = RunDoc::from_json(&text, "v1.json").unwrap();
    assert_eq!(RunDoc::from_json(&d.to_json(), "again.json").unwrap(), d);
}

#[test]
fn not_applicable_is_optional_kept_per_level_and_omitted_when_empty() {
    // A file written before the field existed reads with none, and writes none back.
    let d = RunDoc::from_json(V1, "v1.json").unwrap();
    assert!(d.levels.iter().all(|l| l.not_applicable.is_empty()));
    assert!(!d.to_json().contains("not_applicable"));
    let mut d = d;
    let id = crate::MetricId {
        workload: "exit.ipi".into(),
        metric: "latency".into(),
        unit: "ns".into(),
        higher_is_better: false,
    };
    d.levels[0].not_applicable.push(crate::NotApplicable {
        id: id.clone(),
        reason: "needs two online vCPUs; this level has 1".into(),
    });
    let back = RunDoc::from_json(&d.to_json(), "v2.json").unwrap();
    assert_eq!(back, d);
    let n = back.levels[0].not_applicable(&id).unwrap();
    assert_eq!(n.reason, "needs two online vCPUs; this level has 1");
    assert!(back.levels[0].result(&id).is_none());
    assert!(back.levels[1].not_applicable(&id).is_none());
}

#[test]
fn a_not_applicable_entry_without_a_reason_or_not_a_list_is_refused_in_one_line() {
    let d = RunDoc::from_json(V1, "v1.json").unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
    v["levels"][0]["not_applicable"] = serde_json::json!([{"workload": "exit.ipi",
        "metric": "latency", "unit": "ns", "higher_is_better": false}]);
    let e = RunDoc::from_json(&v.to_string(), "x.json").unwrap_err();
    assert!(matches!(e, RunDocError::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains("reason"), "{e}");
    v["levels"][0]["not_applicable"] = "n/a".into();
    let e = RunDoc::from_json(&v.to_string(), "x.json")
        .unwrap_err()
        .to_string();
    assert!(!e.contains('\n'), "{e}");
}
