//! `nestbench compare` exit codes and messages, on run sets made from the reports
//! crate's fixture runs (the verdict logic itself is tested in reports/tests).

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../reports/tests/fixtures/complete.json")
}

/// `nestbench compare` with a throwaway history (tests never touch a user's).
fn compare(args: &[&str]) -> Output {
    let h = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_nestbench"))
        .env("NESTBENCH_HISTORY", h.path().join("history.sqlite"))
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

/// A directory of `n` run directories: the fixture with `edit` applied, each run's
/// results scaled by a small deterministic per-run factor (run-to-run drift of ~0.5 %).
fn set(dir: &std::path::Path, n: usize, edit: &dyn Fn(&mut serde_json::Value)) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..n {
        let mut v = scaled(0, "", "", 1.0);
        edit(&mut v);
        v["run_id"] = format!("{}-{i}", dir.display()).into();
        for (k, l) in v["levels"].as_array_mut().unwrap().iter_mut().enumerate() {
            for (m, r) in l["results"].as_array_mut().unwrap().iter_mut().enumerate() {
                // A fixed pseudo-random factor in [0.99, 1.01] per run × result.
                let x = ((i * 7919 + k * 104_729 + m * 1_299_709) % 1000) as f64 / 1000.0;
                let f = 0.99 + 0.02 * x;
                for s in r["samples"].as_array_mut().unwrap() {
                    *s = (s.as_f64().unwrap() * f).into();
                }
            }
        }
        let d = dir.join(format!("run{i}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("run.json"), v.to_string()).unwrap();
    }
    dir.to_path_buf()
}

fn same(_: &mut serde_json::Value) {}

#[test]
fn identical_sets_pass_and_write_a_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let summary = tmp.path().join("summary.md");
    let a = set(&tmp.path().join("a"), 5, &same);
    let b = set(&tmp.path().join("b"), 5, &same);
    let o = compare(&[
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--summary",
        summary.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("no regression") && md.contains("MDE"), "{md}");
}

#[test]
fn a_slower_metric_exits_3() {
    let tmp = tempfile::tempdir().unwrap();
    let a = set(&tmp.path().join("a"), 5, &same);
    // mem.stream triad is a rate: 20% lower is a regression.
    let slower = |v: &mut serde_json::Value| *v = scaled(2, "mem.stream", "triad", 0.8);
    let b = set(&tmp.path().join("b"), 5, &slower);
    let o = compare(&[a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    let regressed: Vec<&str> = table.lines().filter(|l| l.contains("REGRESSED")).collect();
    assert_eq!(regressed.len(), 1, "{table}");
    assert!(regressed[0].contains("triad"), "{table}");
}

#[test]
fn single_runs_are_inconclusive_and_can_fail_the_gate() {
    let f = fixture();
    let o = compare(&[f.to_str().unwrap(), f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("one run per side cannot separate"));
    assert!(err(&o).contains("inconclusive"), "{}", err(&o));
    let o = compare(&[
        f.to_str().unwrap(),
        f.to_str().unwrap(),
        "--fail-on-inconclusive",
    ]);
    assert_eq!(o.status.code(), Some(5), "{}", err(&o));
}

#[test]
fn a_set_of_mixed_configurations_is_refused_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let a = set(&tmp.path().join("a"), 3, &same);
    let mut v = scaled(0, "", "", 1.0);
    v["config"]["suite"] = "smoke".into();
    v["run_id"] = "odd".into();
    std::fs::create_dir_all(a.join("odd")).unwrap();
    std::fs::write(a.join("odd/run.json"), v.to_string()).unwrap();
    let o = compare(&[a.to_str().unwrap(), fixture().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(err(&o).trim().lines().count(), 1, "{}", err(&o));
    assert!(
        err(&o).contains("mixes configurations") && err(&o).contains("suite"),
        "{}",
        err(&o)
    );
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
