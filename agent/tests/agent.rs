//! The real agent binary, run as the controller runs it: its stdout must parse as a
//! complete protocol stream, bad arguments must exit 2 with one line, failures of the
//! scratch directory must become error records, and it must leave no files behind —
//! not even when it is killed.

use model::protocol::{parse_stream, StreamOutcome, PROTOCOL_VERSION};
use model::HostInfo;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_nestbench-agent");

/// The agent's stream for `args`: it exited 0 and the stream parsed to its `end`.
fn stream(args: &[&str]) -> StreamOutcome {
    let out = agent(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = parse_stream(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(s.failure, None);
    s
}

fn agent(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("agent runs")
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn smoke_run_streams_a_complete_protocol() {
    let s = stream(&["run", "--suite", "smoke", "--only", "cpu.int,exit.syscall"]);
    let begin = s.begin.unwrap();
    assert_eq!(begin.suite, "smoke");
    assert_eq!(begin.workloads, ["cpu.int", "exit.syscall"]);
    let keys: Vec<_> = s.results.iter().map(|r| r.id.key()).collect();
    assert_eq!(keys, ["cpu.int/ops", "exit.syscall/latency"]);
    assert!(s
        .results
        .iter()
        .all(|r| r.samples.len() >= 5 && r.samples.iter().all(|v| *v > 0.0)));
    assert!(s.errors.is_empty());
    assert!(s.end_elapsed_s.unwrap() > 0.0);
}

#[test]
fn a_heartbeat_run_writes_nul_bytes_on_stderr_and_none_in_the_stream() {
    let quiet = agent(&["run", "--suite", "smoke", "--only", "cpu.int"]);
    assert!(!quiet.stderr.contains(&0), "no heartbeat unless asked");
    // Three samples of a second each: two or three heartbeats.
    let o = agent(&[
        "run",
        "--suite",
        "smoke",
        "--only",
        "cpu.int",
        "--budget-ms",
        "1000",
        "--heartbeat-s",
        "1",
    ]);
    assert!(o.status.success());
    let beats = o.stderr.iter().filter(|&&b| b == 0).count();
    assert!(
        beats >= 2,
        "{beats} heartbeats in {:?}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!o.stdout.contains(&0));
    let s = stream(&[
        "run",
        "--suite",
        "smoke",
        "--only",
        "cpu.int",
        "--heartbeat-s",
        "1",
    ]);
    assert!(s.failure.is_none() && s.results.len() == 1);
}

#[test]
fn whole_smoke_suite_accounts_for_every_metric_and_the_new_probes_say_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let s = stream(&[
        "run",
        "--suite",
        "smoke",
        "--dir",
        dir.path().to_str().unwrap(),
        "--sizes",
        "stream=3,latency=4,pagefault=2,disk=2",
        "--budget-ms",
        "10",
    ]);
    assert_eq!(s.begin.as_ref().unwrap().protocol, PROTOCOL_VERSION);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    for w in model::catalog::WORKLOADS {
        for m in w.metrics {
            let id = model::MetricId::of(w, m);
            let measured = s.results.iter().any(|r| r.id == id);
            let na = s.not_applicable.iter().find(|n| n.id == id);
            assert!(
                measured != na.is_some(),
                "{id}: measured {measured}, not applicable {na:?}"
            );
            if let Some(n) = na {
                assert!(
                    ["exit.pio", "exit.hypercall", "exit.ipi"].contains(&w.id),
                    "{id} not applicable: {}",
                    n.reason
                );
                assert!(!n.reason.trim().is_empty());
            }
        }
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ipi = s.results.iter().any(|r| r.id.key() == "exit.ipi/latency");
    assert_eq!(ipi, cpus >= 2, "exit.ipi with {cpus} CPUs");
    if !ipi {
        let n = s
            .not_applicable
            .iter()
            .find(|n| n.id.workload == "exit.ipi");
        assert!(n.unwrap().reason.starts_with("needs two"), "{n:?}");
    }
    assert!(
        entries(dir.path()).is_empty(),
        "left behind: {:?}",
        entries(dir.path())
    );
}

#[test]
fn new_exit_probes_are_results_or_not_applicable_records() {
    let s = stream(&[
        "run",
        "--suite",
        "smoke",
        "--only",
        "exit.pio,exit.ipi,exit.hypercall",
    ]);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert_eq!(
        s.begin.unwrap().workloads,
        ["exit.pio", "exit.hypercall", "exit.ipi"]
    );
    let mut seen: Vec<String> = s.results.iter().map(|r| r.id.workload.clone()).collect();
    seen.extend(s.not_applicable.iter().map(|n| n.id.workload.clone()));
    seen.sort();
    assert_eq!(seen, ["exit.hypercall", "exit.ipi", "exit.pio"]);
    for r in &s.results {
        assert!(
            r.samples.len() >= 5 && r.samples.iter().all(|v| v.is_finite() && *v > 0.0),
            "{}: {:?}",
            r.id,
            r.samples
        );
        assert_eq!(r.id.unit, "ns");
    }
}

#[test]
fn info_is_one_host_info_object() {
    let out = agent(&["info"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1);
    let info: HostInfo = serde_json::from_str(&text).unwrap();
    assert!(info.vcpus >= 1 && info.memory_mib > 0 && !info.kernel.is_empty());
    if Path::new(model::info::SYSFS_CACHE_DIR)
        .join("index0/size")
        .exists()
    {
        assert!(info.llc_mib.is_some_and(|l| l > 0), "{text}");
    }
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    for args in [
        &[][..],
        &["frobnicate"],
        &["run"],
        &["run", "--suite", "huge"],
        &["run", "--suite", "smoke", "--sizes", "stream=0"],
        &["run", "--suite", "smoke", "--dir"],
        &["run", "--suite", "smoke", "--only", "cpu.int,nope"],
    ] {
        let out = agent(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
    let err =
        String::from_utf8(agent(&["run", "--suite", "smoke", "--only", "nope"]).stderr).unwrap();
    assert!(err.contains("nope") && err.contains("exit.timer"), "{err}");
    assert!(agent(&["--version"]).status.success());
}

#[test]
fn unusable_dir_gives_error_records_and_still_an_end() {
    let s = stream(&[
        "run",
        "--suite",
        "smoke",
        "--only",
        "disk.fsync,exit.syscall",
        "--dir",
        "/nonexistent/nestbench",
        "--budget-ms",
        "10",
    ]);
    assert_eq!(s.errors.len(), 1);
    assert_eq!(s.errors[0].workload, "disk.fsync");
    assert!(
        s.errors[0].message.contains("--dir"),
        "{}",
        s.errors[0].message
    );
    assert_eq!(s.results[0].id.key(), "exit.syscall/latency");
    assert!(s.end_elapsed_s.is_some());
}

#[test]
fn disk_workloads_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let s = stream(&[
        "run",
        "--suite",
        "smoke",
        "--only",
        "disk.seq,disk.rand,disk.fsync",
        "--dir",
        d,
        "--sizes",
        "disk=2",
        "--budget-ms",
        "10",
    ]);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert_eq!(s.results.len(), 6);
    let bad_size = |r: &&model::WorkloadResult| matches!(r.params.get("file_mib"), Some(v) if v.as_f64() != Some(2.0));
    assert!(!s.results.iter().any(|r| bad_size(&r)));
    assert!(
        entries(dir.path()).is_empty(),
        "left behind: {:?}",
        entries(dir.path())
    );
}

#[test]
fn sigterm_mid_run_still_removes_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args([
            "run",
            "--suite",
            "standard",
            "--only",
            "disk.fsync",
            "--dir",
        ])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let data_exists = || {
        entries(dir.path())
            .iter()
            .any(|w| dir.path().join(w).join("disk.fsync").join("data").exists())
    };
    while !data_exists() {
        assert!(Instant::now() < deadline, "the agent never wrote its file");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signals the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(128 + libc::SIGTERM));
    assert!(
        entries(dir.path()).is_empty(),
        "left behind: {:?}",
        entries(dir.path())
    );
}
