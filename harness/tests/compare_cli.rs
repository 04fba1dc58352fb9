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

/// Level × metric rows of the fixture: what a compare of two sets of it has.
fn fixture_rows() -> usize {
    let v = scaled(0, "", "", 1.0);
    v["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["results"].as_array().unwrap().len())
        .sum()
}

/// As [`set`], with `edit` told which run it edits.
fn set_by_run(
    dir: &std::path::Path,
    n: usize,
    edit: &dyn Fn(usize, &mut serde_json::Value),
) -> PathBuf {
    set(dir, n, &same);
    for i in 0..n {
        let path = dir.join(format!("run{i}/run.json"));
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        edit(i, &mut v);
        std::fs::write(&path, v.to_string()).unwrap();
    }
    dir.to_path_buf()
}

/// Scale every sample of `workload/metric` at `level` in `v` by `factor`.
fn scale_in(v: &mut serde_json::Value, level: u64, workload: &str, metric: &str, factor: f64) {
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
}

/// Noise of ±30 % from run to run on L0 mem.latency: no 5 vs 5 compare can see 5 % there.
fn noisy(i: usize, v: &mut serde_json::Value) {
    let f = [0.7, 1.3, 0.8, 1.25, 1.0][i % 5];
    scale_in(v, 0, "mem.latency", "latency", f);
}

/// Baseline and current sets with one known regression (L2 mem.stream/triad 20 %
/// slower), one metric missing from the current runs (L1 cpu.int/ops) and one
/// inconclusive row (L0 mem.latency/latency, too noisy), in directories whose names
/// need XML escaping.
fn three_kinds(tmp: &std::path::Path) -> (PathBuf, PathBuf) {
    let a = set_by_run(&tmp.join("base & <old> \"A\""), 5, &noisy);
    let b = set_by_run(&tmp.join("cur 'B'"), 5, &|i, v| {
        noisy((i + 2) % 5, v);
        scale_in(v, 2, "mem.stream", "triad", 0.8);
        for l in v["levels"].as_array_mut().unwrap() {
            if l["level"] == 1 {
                l["results"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|r| !(r["workload"] == "cpu.int" && r["metric"] == "ops"));
            }
        }
    });
    (a, b)
}

#[test]
fn junit_has_a_testcase_per_row_a_failure_an_error_and_a_skip() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = three_kinds(tmp.path());
    let summary = tmp.path().join("summary.md");
    let o = compare(&[
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--format",
        "junit",
        "--summary",
        summary.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    let xml = String::from_utf8(o.stdout).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suite = root
        .children()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let with = |tag: &str| {
        cases
            .iter()
            .filter(|c| c.children().any(|n| n.has_tag_name(tag)))
            .collect::<Vec<_>>()
    };
    let attr = |n: &roxmltree::Node, a: &str| n.attribute(a).unwrap().to_string();
    let id = |c: &roxmltree::Node| format!("{}/{}", attr(c, "classname"), attr(c, "name"));
    // Every level × metric a testcase (84 in the fixture today).
    let rows = fixture_rows();
    assert_eq!(cases.len(), rows, "{xml}");
    for n in [&root, &suite] {
        assert_eq!(attr(n, "tests"), rows.to_string());
        assert_eq!(attr(n, "failures"), "1");
        assert_eq!(attr(n, "errors"), "1");
        assert_eq!(attr(n, "skipped"), "1");
    }
    let ids = |v: Vec<&roxmltree::Node>| v.into_iter().map(id).collect::<Vec<_>>();
    assert_eq!(ids(with("failure")), ["L2.mem.stream/triad"]);
    assert_eq!(ids(with("error")), ["L1.cpu.int/ops"]);
    assert_eq!(ids(with("skipped")), ["L0.mem.latency/latency"]);
    let failure = with("failure")[0]
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(attr(&failure, "message").contains("REGRESSED"));
    // Labels with & < > " ' survive escaping.
    assert!(attr(&suite, "name").contains("base & <old> \"A\""), "{xml}");
    assert!(attr(&suite, "name").contains("cur 'B'"), "{xml}");
    // --summary is still Markdown.
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("## nestbench compare: ❌ regression"),
        "{md}"
    );
}

#[test]
fn json_is_one_versioned_document_with_every_row() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = three_kinds(tmp.path());
    let o = compare(&[a.to_str().unwrap(), b.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["format"], "nestbench-compare");
    assert_eq!(v["version"], 1);
    assert_eq!(v["result"], "regression");
    assert_eq!(v["fails"], true);
    assert_eq!(v["settings"]["noise_threshold"], 0.05);
    assert_eq!(v["settings"]["correction"], "holm");
    assert_eq!(
        (v["baseline"]["runs"].clone(), v["current"]["runs"].clone()),
        (5.into(), 5.into())
    );
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), fixture_rows());
    let row = |level: u64, w: &str, m: &str| {
        rows.iter()
            .find(|r| r["level"] == level && r["workload"] == w && r["metric"] == m)
            .unwrap()
    };
    let triad = row(2, "mem.stream", "triad");
    assert_eq!(triad["verdict"], "regressed");
    assert_eq!(triad["direction"], "higher_is_better");
    assert_eq!(triad["unit"], "GB/s");
    assert_eq!(triad["baseline"]["runs"], 5);
    let r = &triad["ratio"];
    assert!(
        r["low"].as_f64().unwrap() < 0.85 && r["high"].as_f64().unwrap() < 0.95,
        "{r}"
    );
    assert!(r["level"].as_f64().unwrap() > 0.99);
    for k in ["p", "p_adjusted", "mde", "change"] {
        assert!(triad[k].is_number(), "{k}: {triad}");
    }
    let missing = row(1, "cpu.int", "ops");
    assert_eq!(missing["verdict"], "missing");
    assert!(missing["current"].is_null() && missing["note"].is_string());
    let noisy = row(0, "mem.latency", "latency");
    assert_eq!(noisy["verdict"], "inconclusive");
    assert_eq!(noisy["reason"], "underpowered");
    assert_eq!(v["counts"]["regressed"], 1);
    assert_eq!(v["counts"]["missing"], 1);
    assert_eq!(v["counts"]["inconclusive"], 1);
}

#[test]
fn every_format_gives_the_same_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = three_kinds(tmp.path());
    for format in ["text", "markdown", "json", "junit"] {
        let o = compare(&[a.to_str().unwrap(), b.to_str().unwrap(), "--format", format]);
        assert_eq!(o.status.code(), Some(3), "{format}: {}", err(&o));
        // With the missing metric allowed and the regression still there: 3.
        let o = compare(&[
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--format",
            format,
            "--allow-missing",
        ]);
        assert_eq!(o.status.code(), Some(3), "{format}");
    }
    // No regression but an inconclusive row: 0, or 5 with --fail-on-inconclusive.
    let c = set_by_run(&tmp.path().join("c"), 5, &|i, v| noisy((i + 1) % 5, v));
    for format in ["text", "json", "junit"] {
        let o = compare(&[a.to_str().unwrap(), c.to_str().unwrap(), "--format", format]);
        assert_eq!(o.status.code(), Some(0), "{format}: {}", err(&o));
        let o = compare(&[
            a.to_str().unwrap(),
            c.to_str().unwrap(),
            "--format",
            format,
            "--fail-on-inconclusive",
        ]);
        assert_eq!(o.status.code(), Some(5), "{format}");
    }
}

#[test]
fn quiet_keeps_the_table_and_drops_the_notes() {
    let f = fixture();
    let loud = compare(&[f.to_str().unwrap(), f.to_str().unwrap()]);
    let quiet = compare(&[f.to_str().unwrap(), f.to_str().unwrap(), "--quiet"]);
    assert_eq!(loud.status.code(), quiet.status.code());
    assert_eq!(loud.stdout, quiet.stdout);
    assert!(!err(&loud).is_empty());
    assert_eq!(err(&quiet), "");
}
