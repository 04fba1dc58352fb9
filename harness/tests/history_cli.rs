//! The run history through the CLI, on a real SQLite file in a temporary directory
//! (tests never touch a user's history): `run` records itself, `history list/import/
//! prune`, `compare` and `calibrate` on `history:` selections, a calibrated noise
//! profile used by a single-run compare, and a corrupt history — one line and exit 1
//! for `history`, a warning and the measurement's exit code for `run`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn nb(history: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nestbench"))
        .env("NESTBENCH_HISTORY", history)
        .args(args)
        .output()
        .expect("run nestbench")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A quick L0 run recorded in `history`, with tag `n=<i>`.
fn run(history: &Path, dir: &Path, i: usize) -> Output {
    let agent = common::static_agent();
    let out_dir = dir.join(format!("run{i}"));
    let tag = format!("n={i}");
    nb(
        history,
        &[
            "run",
            "--levels",
            "0",
            "--suite",
            "smoke",
            "--only",
            "cpu.int,exit.syscall",
            "--agent",
            agent.to_str().unwrap(),
            "--tag",
            &tag,
            "--out",
            out_dir.to_str().unwrap(),
        ],
    )
}

#[test]
fn runs_record_themselves_and_are_selected_compared_calibrated_and_pruned() {
    let tmp = tempfile::tempdir().unwrap();
    let h = tmp.path().join("h/history.sqlite");
    for i in 0..3 {
        let o = run(&h, tmp.path(), i);
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        assert!(!err(&o).contains("not recorded"), "{}", err(&o));
    }
    let o = nb(&h, &["history", "list"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o).lines().count(), 1 + 3, "{}", out(&o));
    let o = nb(&h, &["history", "list", "tag=n=1", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["runs"].as_array().unwrap().len(), 1);
    assert_eq!(v["runs"][0]["tags"]["n"], "1");

    // Before calibration, a single-run compare cannot tell.
    let run2 = tmp.path().join("run2");
    let o = nb(&h, &["compare", "history:tag=n=0", run2.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(
        out(&o).contains("one run per side cannot separate"),
        "{}",
        out(&o)
    );

    let o = nb(&h, &["calibrate", "--from", "history:last=3"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(
        out(&o).contains("cpu.int/ops") && out(&o).contains("k=10"),
        "{}",
        out(&o)
    );
    assert!(err(&o).contains("noise profiles stored"), "{}", err(&o));

    // After it, the same compare borrows the host's run-to-run noise.
    let o = nb(&h, &["compare", "history:tag=n=0", run2.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(
        !out(&o).contains("one run per side cannot separate"),
        "{}",
        out(&o)
    );
    assert!(!out(&o).contains("too few runs"), "{}", out(&o));

    // Sets from the history compare like directories.
    let o = nb(&h, &["compare", "history:last=3", "history:last=3"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let o = nb(&h, &["trend", "history:last=3", "--recent", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));

    let o = nb(&h, &["history", "prune", "--keep-last", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains("2 runs pruned"), "{}", out(&o));
    let o = nb(&h, &["history", "import", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(
        out(&o).contains("2 recorded, 1 already there"),
        "{}",
        out(&o)
    );

    let o = nb(&h, &["history", "list", "bogus=1"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains("bogus") && err(&o).contains("last"),
        "{}",
        err(&o)
    );
}

#[test]
fn a_corrupt_history_fails_history_commands_but_not_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let h = tmp.path().join("history.sqlite");
    std::fs::write(&h, vec![0x5a; 65536]).unwrap();
    let o = nb(&h, &["history", "list"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(err(&o).trim().lines().count(), 1, "{}", err(&o));
    let o = run(&h, tmp.path(), 0);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(err(&o).contains("warning: run not recorded"), "{}", err(&o));
    assert!(tmp.path().join("run0/run.json").is_file());
    let o = nb(&h, &["compare", "history:last=1", "history:last=1"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    // --no-history leaves the history alone.
    let before = std::fs::read(&h).unwrap();
    let agent = common::static_agent();
    let o = nb(
        &h,
        &[
            "run",
            "--levels",
            "0",
            "--suite",
            "smoke",
            "--only",
            "cpu.int",
            "--no-history",
            "--agent",
            agent.to_str().unwrap(),
            "--out",
            tmp.path().join("x").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(!err(&o).contains("not recorded"), "{}", err(&o));
    assert_eq!(std::fs::read(&h).unwrap(), before);
}
