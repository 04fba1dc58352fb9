//! `nestbench compare` exit codes and messages, on the reports crate's fixture runs
//! (the verdict logic itself is tested in reports/tests).

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../reports/tests/fixtures/complete.json")
}

fn compare(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nestbench"))
        .arg("compare")
        .args(args)
        .output()
        .unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The fixture with every sample of `workload/metric` at `level` scaled by `factor`.
fn scaled(level: u64, workload: &str, metric: &str, factor: f64) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture()).unwrap()).unwrap();
    for l in v["levels"].as_array_mut().unwrap() {
        if l["level"] != level {
            continue;
        }
        for r in l["results"].as_array_mut().unwrap() {
            if r["workload"] == workload && r["metric"] == metric {
                for s in r["samples"].as_array_mut().unwrap() {
                    *s = (s.as_f64().unwrap() * factor).into();
                }
            }
        }
    }
    v
}

#[test]
fn identical_runs_pass_and_write_a_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let summary = tmp.path().join("summary.md");
    let f = fixture();
    let o = compare(&[
        f.to_str().unwrap(),
        f.to_str().unwrap(),
        "--summary",
        summary.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(std::fs::read_to_string(&summary)
        .unwrap()
        .contains("no regression"));
}

#[test]
fn a_slower_metric_exits_3() {
    let tmp = tempfile::tempdir().unwrap();
    let cur = tmp.path().join("run.json");
    // mem.stream triad is a rate: 20% lower is a regression.
    std::fs::write(&cur, scaled(2, "mem.stream", "triad", 0.8).to_string()).unwrap();
    let o = compare(&[fixture().to_str().unwrap(), cur.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    let regressed: Vec<&str> = table
        .lines()
        .filter(|l| l.contains("Regressed") || l.contains("REGRESSED"))
        .collect();
    assert_eq!(regressed.len(), 1, "{table}");
    assert!(regressed[0].contains("triad"), "{table}");
}

#[test]
fn corrupt_and_newer_inputs_exit_1_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, "{ not json").unwrap();
    let newer = tmp.path().join("newer.json");
    let mut v = scaled(0, "", "", 1.0);
    v["schema_version"] = 99.into();
    std::fs::write(&newer, v.to_string()).unwrap();
    for (path, word) in [(&bad, "not a valid"), (&newer, "upgrade")] {
        let o = compare(&[path.to_str().unwrap(), fixture().to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{}", err(&o));
        assert_eq!(err(&o).trim().lines().count(), 1, "{}", err(&o));
        assert!(err(&o).contains(word), "{}", err(&o));
    }
}

#[test]
fn bad_thresholds_are_usage_errors() {
    let f = fixture();
    let o = compare(&[
        f.to_str().unwrap(),
        f.to_str().unwrap(),
        "--noise-threshold",
        "3",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
}
