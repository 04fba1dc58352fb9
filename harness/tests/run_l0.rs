//! `nestbench run --levels 0` end to end: the real controller deploys the real static
//! agent on this machine through the same path guests use, and writes a run directory
//! whose run.json matches the current schema with every workload of the suite.

mod common;

use model::rundoc::{LevelStatus, RunDoc, RunStatus, SCHEMA_VERSION};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

/// nestbench with a throwaway history (tests never touch a user's), removed after.
fn nestbench(args: &[&str]) -> Output {
    let h = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_nestbench"))
        .env("NESTBENCH_HISTORY", h.path().join("history.sqlite"))
        .args(args)
        .output()
        .expect("run nestbench")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every metric of the catalog with its unit: what an L0 run must report, exactly (as
/// a result, or as not applicable where the machine decides).
fn expected_metrics() -> BTreeMap<(&'static str, &'static str), &'static str> {
    model::catalog::WORKLOADS
        .iter()
        .flat_map(|w| {
            w.metrics
                .iter()
                .map(move |m| ((w.id, m.name), m.unit.as_str()))
        })
        .collect()
}

/// The static agent, a temp dir (kept alive by the caller), the run directory to
/// create in it, and an empty work dir to use as the run's TMPDIR — the agent and its
/// workload files go to TMPDIR at L0, so a test can check that nothing is left there.
fn isolated_run() -> (
    std::path::PathBuf,
    tempfile::TempDir,
    std::path::PathBuf,
    std::path::PathBuf,
) {
    let agent = common::static_agent();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).unwrap();
    (agent, tmp, out, work)
}

/// `nestbench run --levels 0` of `suite` into `out`, with `work` as its TMPDIR.
fn l0_run(suite: &str, agent: &Path, out: &Path, work: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nestbench"));
    c.args(["run", "--levels", "0", "--suite", suite, "--out"])
        .arg(out)
        .arg("--agent")
        .arg(agent)
        .env("TMPDIR", work)
        .env("NESTBENCH_HISTORY", out.with_extension("history.sqlite"));
    c
}

fn read_doc(dir: &Path) -> RunDoc {
    let text = std::fs::read_to_string(dir.join("run.json")).expect("run.json written");
    RunDoc::from_json(&text, "run.json").expect("run.json parses as schema 1")
}

#[test]
fn levels_0_smoke_writes_a_complete_run_directory() {
    let (agent, _tmp, out, work) = isolated_run();
    let o = l0_run("smoke", &agent, &out, &work).output().unwrap();
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        stderr(&o)
    );

    let doc = read_doc(&out);
    assert_eq!(doc.schema_version, SCHEMA_VERSION);
    assert_eq!(doc.status, RunStatus::Complete);
    assert!(doc.finished_at.is_some());
    assert_eq!(doc.config.suite, model::Suite::Smoke);
    assert_eq!(doc.levels.len(), 1);
    let l0 = &doc.levels[0];
    assert_eq!(l0.status, LevelStatus::Ok, "{:?}", l0.error);
    assert_eq!(l0.env.accel, Some(model::Accel::Native));
    assert_eq!(l0.outcome, Some(model::rundoc::LevelOutcome::Measured));
    assert!(
        l0.env
            .disk
            .as_deref()
            .unwrap_or("")
            .contains("on the host's"),
        "{:?}",
        l0.env.disk
    );
    assert!(l0.env.vcpus.unwrap_or(0) >= 1 && l0.env.memory_mib.unwrap_or(0) > 0);
    assert!(l0.timings.suite_s.unwrap() > 0.0 && l0.timings.deploy_s.unwrap() > 0.0);
    assert!(
        l0.errors.is_empty(),
        "workloads failed at L0: {:?}",
        l0.errors
    );

    let want = expected_metrics();
    for r in &l0.results {
        let unit = want.get(&(r.id.workload.as_str(), r.id.metric.as_str()));
        assert_eq!(
            unit,
            Some(&r.id.unit.as_str()),
            "unexpected result {}/{} ({})",
            r.id.workload,
            r.id.metric,
            r.id.unit
        );
        assert!(
            r.samples.len() >= 5,
            "{} has {} samples",
            r.id.key(),
            r.samples.len()
        );
        assert!(
            r.samples.iter().all(|s| s.is_finite() && *s >= 0.0),
            "{}: {:?}",
            r.id.key(),
            r.samples
        );
    }
    // Every metric is measured or, where this machine decides, not applicable with
    // its reason — never both, never neither.
    for n in &l0.not_applicable {
        assert_eq!(
            want.get(&(n.id.workload.as_str(), n.id.metric.as_str())),
            Some(&n.id.unit.as_str()),
            "{}",
            n.id
        );
        assert!(
            ["exit.pio", "exit.hypercall", "exit.ipi"].contains(&n.id.workload.as_str()),
            "{} not applicable at L0: {}",
            n.id,
            n.reason
        );
        assert!(!n.reason.is_empty(), "{}", n.id);
    }
    for (w, m) in want.keys() {
        let measured = l0
            .results
            .iter()
            .any(|r| r.id.workload == *w && r.id.metric == *m);
        let na = l0
            .not_applicable
            .iter()
            .any(|n| n.id.workload == *w && n.id.metric == *m);
        assert!(
            measured != na,
            "{w}/{m}: measured {measured}, not applicable {na}"
        );
    }
    assert!(doc.config.sizes.stream_mib.is_some() && doc.config.sizes.disk_mib.is_some());
    // The report is generated at the end of every run.
    for f in ["results.csv", "report.md", "report.html"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let pngs = std::fs::read_dir(out.join("charts"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
        .count();
    assert!(pngs >= 4, "only {pngs} charts");
    assert!(doc.provenance.agent_sha256.is_some() && doc.provenance.host_load.at_end.is_some());
    // Neither the agent nor any workload file is left where it was deployed.
    let leftovers: Vec<_> = std::fs::read_dir(&work)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

#[test]
fn quiet_prints_nothing_and_writes_the_same_run_directory() {
    let (agent, _tmp, out, work) = isolated_run();
    let o = l0_run("smoke", &agent, &out, &work)
        .args(["--only", "cpu.int", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "--quiet printed on stderr");
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let doc = read_doc(&out);
    assert_eq!(doc.status, RunStatus::Complete);
    assert!(out.join("report.md").is_file() && out.join("results.csv").is_file());
    // The run is recorded as without --quiet.
    assert!(out.with_extension("history.sqlite").is_file());
    // An error still gets its line.
    let o = l0_run("smoke", &agent, &out, &work)
        .arg("--quiet")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("nestbench: error: run directory"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_flags_are_usage_errors_with_one_line() {
    for args in [
        &["run", "--levels", "0", "--suite", "huge"][..],
        &["run", "--levels", "0", "--only", "cpu.nope"][..],
        &["run", "--levels", "0", "--sizes", "stream=0"][..],
        &["run", "--levels", "-1"][..],
        &["run", "--backend", "inventory"][..],
    ] {
        let o = nestbench(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert_eq!(
            stderr(&o).trim().lines().count(),
            1,
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("panicked"), "{args:?}");
    }
}

#[test]
fn a_non_empty_out_dir_is_refused() {
    let agent = common::static_agent();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("precious"), "x").unwrap();
    let o = nestbench(&[
        "run",
        "--levels",
        "0",
        "--suite",
        "smoke",
        "--out",
        tmp.path().to_str().unwrap(),
        "--agent",
        agent.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not empty"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("precious")).unwrap(),
        "x"
    );
}

#[test]
fn a_dynamic_agent_is_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = nestbench(&[
        "run",
        "--levels",
        "0",
        "--out",
        out.to_str().unwrap(),
        "--agent",
        "/bin/sh",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("dynamically linked"), "{}", stderr(&o));
    assert!(stderr(&o).contains("scripts/build-agent"));
    assert!(!out.exists());
}

#[test]
fn sigint_during_l0_leaves_no_process_or_file_and_keeps_run_json() {
    let (agent, _tmp, out, work) = isolated_run();
    let mut child = l0_run("quick", &agent, &out, &work)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the agent is running (its copy is in the work dir), then interrupt.
    let t0 = std::time::Instant::now();
    while std::fs::read_dir(&work).unwrap().count() == 0 {
        assert!(t0.elapsed().as_secs() < 30, "agent never started");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    // SAFETY: signalling the child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "exit status {status:?}");
    let leftovers: Vec<_> = std::fs::read_dir(&work)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
    // The deployed copy runs from the work dir; nothing else names that path.
    let agents = Command::new("pgrep")
        .args(["-f", work.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        agents.stdout.is_empty(),
        "agent still running: {}",
        String::from_utf8_lossy(&agents.stdout)
    );
    let doc = read_doc(&out);
    assert_ne!(doc.status, RunStatus::Running, "interruption not recorded");
    assert!(doc.finished_at.is_some());
    let temporary: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(temporary.is_empty(), "temporary files left: {temporary:?}");
}
