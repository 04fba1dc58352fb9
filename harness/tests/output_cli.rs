//! What the commands print for programs and for quiet CI logs: `--json` on `history
//! list`, `calibrate` and `doctor` is one versioned document on stdout and nothing
//! else there; `--quiet` on `report`, `trend` and `calibrate` leaves stderr empty while
//! stdout, the files and the exit code stay as without it. Runs are the reports
//! crate's fixture, so no agent or guest is needed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../reports/tests/fixtures/complete.json")
}

/// `nestbench ARGS` with the history at `history`.
fn nb(history: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nestbench"))
        .env("NESTBENCH_HISTORY", history)
        .args(args)
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `n` run directories of the fixture under `dir`, each with its own run id and a
/// small deterministic drift, so a calibration has a spread to measure.
fn runs(dir: &Path, n: usize) -> PathBuf {
    let base: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture()).unwrap()).unwrap();
    for i in 0..n {
        let mut v = base.clone();
        v["run_id"] = format!("output-cli-{i}").into();
        for l in v["levels"].as_array_mut().unwrap() {
            for (m, r) in l["results"].as_array_mut().unwrap().iter_mut().enumerate() {
                let f = 1.0 + 0.01 * (((i * 31 + m * 17) % 7) as f64 - 3.0) / 3.0;
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

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(&out(o)).unwrap_or_else(|e| panic!("{e}: {}", out(o)))
}

#[test]
fn history_list_json_is_one_document_on_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let h = tmp.path().join("history.sqlite");
    let dir = runs(&tmp.path().join("runs"), 3);
    let o = nb(&h, &["history", "import", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let o = nb(&h, &["history", "list", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = json(&o);
    assert_eq!(v["format"], "nestbench-history");
    assert_eq!(v["version"], 1);
    assert_eq!(v["runs"].as_array().unwrap().len(), 3);
    assert_eq!(v["runs"][0]["run_id"], "output-cli-0");
}

#[test]
fn calibrate_json_keeps_its_fields_and_names_its_format() {
    let tmp = tempfile::tempdir().unwrap();
    let h = tmp.path().join("history.sqlite");
    let dir = runs(&tmp.path().join("runs"), 3);
    let o = nb(
        &h,
        &["calibrate", "--from", dir.to_str().unwrap(), "--json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = json(&o);
    assert_eq!(v["format"], "nestbench-calibrate");
    assert_eq!(v["version"], 1);
    assert_eq!(v["runs"], 3);
    assert!(v["alpha"].is_number() && v["family"].is_number());
    assert!(!v["rows"].as_array().unwrap().is_empty());
    // Progress stays on stderr; --quiet silences it and changes nothing else.
    assert!(err(&o).contains("noise profiles stored"), "{}", err(&o));
    let q = nb(
        &h,
        &[
            "calibrate",
            "--from",
            dir.to_str().unwrap(),
            "--json",
            "--quiet",
        ],
    );
    assert_eq!(q.status.code(), Some(0));
    assert_eq!(err(&q), "");
    assert_eq!(json(&q), v);
}

#[test]
fn doctor_json_reports_every_check_and_keeps_the_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let h = tmp.path().join("history.sqlite");
    let plain = nb(&h, &["doctor", "--levels", "2"]);
    let o = nb(&h, &["doctor", "--levels", "2", "--json"]);
    assert_eq!(o.status.code(), plain.status.code(), "{}", err(&o));
    let v = json(&o);
    assert_eq!(v["format"], "nestbench-doctor");
    assert_eq!(v["version"], 1);
    assert_eq!(v["levels"], 2);
    let checks = v["checks"].as_array().unwrap();
    // One entry per ✔/⚠/✘ line of the human form.
    let marks = out(&plain)
        .lines()
        .filter(|l| l.starts_with(['✔', '⚠', '✘']))
        .count();
    assert_eq!(checks.len(), marks, "{}", out(&plain));
    let names: Vec<&str> = checks.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"memory and vCPU budget"), "{names:?}");
    for c in checks {
        assert!(["pass", "warn", "fail"].contains(&c["status"].as_str().unwrap()));
    }
    assert_eq!(v["ok"], plain.status.success());
    // A depth that cannot fit: the document says so, the line and exit 6 (not ready) stay.
    let o = nb(&h, &["doctor", "--levels", "12", "--json"]);
    assert_eq!(o.status.code(), Some(6));
    let v = json(&o);
    assert_eq!(v["ok"], false);
    assert!(err(&o).contains("nestbench: not ready: a nested run would fail here"));
}

#[test]
fn report_and_trend_quiet_print_only_what_is_the_product() {
    let tmp = tempfile::tempdir().unwrap();
    let h = tmp.path().join("history.sqlite");
    let dir = runs(&tmp.path().join("runs"), 4);
    let run0 = dir.join("run0");
    let o = nb(&h, &["report", run0.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains("report.md"), "{}", out(&o));
    std::fs::remove_file(run0.join("report.md")).unwrap();
    let o = nb(&h, &["report", run0.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!((out(&o), err(&o)), (String::new(), String::new()));
    assert!(run0.join("report.md").is_file());

    std::fs::remove_dir_all(&run0).unwrap();
    let loud = nb(&h, &["trend", dir.to_str().unwrap()]);
    let quiet = nb(&h, &["trend", dir.to_str().unwrap(), "-q"]);
    assert_eq!(loud.status.code(), quiet.status.code());
    assert_eq!(out(&loud), out(&quiet));
    assert!(!out(&quiet).is_empty());
    assert_eq!(err(&quiet), "");
}
