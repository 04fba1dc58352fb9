//! Every workload, run for real with tiny sizes and a short budget: each yields exactly
//! the metrics the catalog declares, in its units and directions, with ≥ 5 positive
//! finite samples — or, for the probes whose applicability the machine decides, says
//! why it does not apply; disk workloads write in a real temp directory and leave
//! nothing behind.

use model::{Sizes, Suite};
use std::path::PathBuf;
use std::time::Duration;
use workloads::context::{Context, Limits, RunError};
use workloads::registry;

/// Workloads this machine may find not applicable, and whether it does here: port I/O
/// and hypercalls depend on the kernel and the hypervisor (the kernels' module
/// headers), a cross-vCPU wake-up only on having two CPUs.
fn may_not_apply(id: &str) -> bool {
    match id {
        "exit.pio" | "exit.hypercall" => true,
        "exit.ipi" => std::thread::available_parallelism().map_or(1, |n| n.get()) < 2,
        _ => false,
    }
}

/// A fresh directory per test (tests run in parallel), removed with whatever is left
/// in it when the test ends, also by a panic; a passing test first checks that the
/// kernels left it empty.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(test: &str) -> Scratch {
    let d = std::env::temp_dir().join(format!("nb-kernels-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    Scratch(d)
}

fn ctx(dir: PathBuf) -> Context {
    let sizes: Sizes = "stream=3,latency=4,pagefault=2,disk=2".parse().unwrap();
    let mut c = Context::new(Suite::Smoke, sizes, dir, Limits::default());
    c.timing = c.timing.with_budget(Duration::from_millis(10));
    c
}

#[test]
fn every_workload_yields_sane_figures_under_smoke() {
    let dir = scratch("all");
    let c = ctx(dir.to_path_buf());
    for w in registry::all() {
        let results = match w.run(&c) {
            Ok(r) => r,
            Err(RunError::NotApplicable(why)) if may_not_apply(w.id()) => {
                assert!(
                    !why.trim().is_empty(),
                    "{} not applicable without a reason",
                    w.id()
                );
                continue;
            }
            Err(e) => panic!("{} failed: {e}", w.id()),
        };
        let metrics: Vec<_> = results.iter().map(|r| r.id.metric.as_str()).collect();
        let declared: Vec<_> = w.def.metrics.iter().map(|m| m.name).collect();
        assert_eq!(metrics, declared, "{}", w.id());
        for (r, m) in results.iter().zip(w.def.metrics) {
            assert_eq!(r.id.workload, w.id());
            assert_eq!(r.id.unit, m.unit.as_str(), "{}", r.id);
            assert_eq!(r.id.higher_is_better, m.higher_is_better(), "{}", r.id);
            assert!(r.samples.len() >= 5, "{}", r.id.key());
            assert!(
                r.samples.iter().all(|s| s.is_finite() && *s > 0.0),
                "{}: {:?}",
                r.id.key(),
                r.samples
            );
            assert_eq!(r.params["budget_s"], 0.01, "{}", r.id.key());
        }
    }
    let left: Vec<_> = std::fs::read_dir(&*dir).unwrap().collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
    std::fs::remove_dir(&*dir).unwrap();
}

#[test]
fn disk_workloads_record_the_file_system_and_direct_io() {
    let dir = scratch("fs");
    let mut dirs = vec![dir.to_path_buf()];
    if std::fs::metadata("/dev/shm").is_ok_and(|m| m.is_dir()) {
        dirs.push("/dev/shm".into()); // tmpfs on most Linux systems
    }
    for d in dirs {
        let r = registry::find("disk.seq").unwrap().run(&ctx(d)).unwrap();
        let p = &r[0].params;
        assert!(p["o_direct"].is_boolean());
        assert!(p["fs"].is_string());
        if p["fs"] == "tmpfs" {
            // tmpfs accepts O_DIRECT only since Linux 6.6; either way it is RAM.
            assert!(p["note"].as_str().unwrap().contains("RAM"));
        }
    }
    std::fs::remove_dir(&*dir).unwrap();
}

/// The params that record a workload's setup, for the workloads that have one.
fn setup_of(r: &model::WorkloadResult) -> (f64, bool) {
    let p = &r.params;
    assert!(p["setup_s"].as_f64().unwrap() >= 0.0, "{}", r.id.key());
    assert!(p["setup_budget_s"].as_f64().is_some(), "{}", r.id.key());
    (
        p["prepared_mib"].as_f64().unwrap(),
        p["setup_truncated"].as_bool().unwrap(),
    )
}

#[test]
fn setup_is_recorded_and_a_spent_budget_measures_over_what_was_prepared() {
    let dir = scratch("setup");
    let ids = [
        "disk.seq",
        "disk.rand",
        "disk.fsync",
        "mem.stream",
        "mem.latency",
    ];
    let mut c = ctx(dir.to_path_buf());
    for id in ids {
        for r in registry::find(id).unwrap().run(&c).unwrap() {
            let (prepared, truncated) = setup_of(&r);
            assert!(
                !truncated && prepared > 0.0,
                "{}: {:?}",
                r.id.key(),
                r.params
            );
        }
    }
    // No time at all for setup: one piece each, flagged, and still sane figures.
    c.timing.setup = Duration::ZERO;
    let seq = registry::find("disk.seq").unwrap().run(&c).unwrap();
    assert_eq!(setup_of(&seq[0]), (0.25, true));
    assert_eq!(seq[0].params["file_mib"], 2.0);
    let lat = registry::find("mem.latency").unwrap().run(&c).unwrap();
    assert_eq!(setup_of(&lat[0]), (1.0, true));
    assert_eq!(lat[0].params["buffer_mib"], 4);
    for r in seq.iter().chain(&lat) {
        assert!(
            r.samples.iter().all(|s| s.is_finite() && *s > 0.0),
            "{}",
            r.id.key()
        );
    }
    // disk.seq left its file for a disk.rand that never came: it goes with the context.
    drop(c);
    std::fs::remove_dir(&*dir).unwrap();
}

#[test]
fn disk_rand_measures_over_the_file_disk_seq_prepared_and_removes_it() {
    let dir = scratch("handover");
    let c = ctx(dir.to_path_buf());
    let seq = registry::find("disk.seq").unwrap().run(&c).unwrap();
    assert!(seq[0].params.get("file_prepared_by").is_none());
    let left: Vec<_> = std::fs::read_dir(&*dir).unwrap().flatten().collect();
    assert_eq!(left.len(), 1, "disk.seq's file is left for disk.rand");
    let rand = registry::find("disk.rand").unwrap().run(&c).unwrap();
    for r in &rand {
        assert_eq!(r.params["file_prepared_by"], "disk.seq", "{}", r.id.key());
        assert_eq!(r.params["prepared_mib"], seq[0].params["prepared_mib"]);
        assert!(r.samples.iter().all(|s| s.is_finite() && *s > 0.0));
    }
    assert_eq!(
        std::fs::read_dir(&*dir).unwrap().count(),
        0,
        "disk.rand removed it"
    );
    // Alone, disk.rand prepares its own file.
    let own = registry::find("disk.rand").unwrap().run(&c).unwrap();
    assert!(own[0].params.get("file_prepared_by").is_none());
    drop(c);
    std::fs::remove_dir(&*dir).unwrap();
}

#[test]
fn memory_results_say_whether_they_got_past_the_cache() {
    let mut c = ctx(std::env::temp_dir());
    let stream = registry::find("mem.stream").unwrap();
    // The LLC unknown: nothing is claimed either way.
    let r = stream.run(&c).unwrap();
    assert!(r[0].params.get("cache_resident").is_none());
    // 1 MiB arrays under a 1 MiB LLC: cache-resident, with the LLC named.
    c.limits.llc_mib = Some(1);
    for r in stream.run(&c).unwrap() {
        assert_eq!(r.params["cache_resident"], true, "{:?}", r.params);
        assert_eq!(r.params["llc_mib"], 1);
    }
    c.sizes.latency_mib = 4;
    let r = registry::find("mem.latency").unwrap().run(&c).unwrap();
    assert_eq!(r[0].params["cache_resident"], false, "{:?}", r[0].params);
}

#[test]
fn disk_workloads_fail_cleanly_without_a_writable_directory() {
    let c = ctx("/nonexistent/nestbench".into());
    for id in ["disk.seq", "disk.rand", "disk.fsync"] {
        let e = registry::find(id).unwrap().run(&c).unwrap_err().to_string();
        assert!(e.contains("--dir"), "{id}: {e}");
    }
}

#[test]
fn ctxswitch_restores_the_threads_cpu_affinity() {
    let before = std::thread::available_parallelism().unwrap();
    registry::find("exit.ctxswitch")
        .unwrap()
        .run(&ctx(std::env::temp_dir()))
        .unwrap();
    assert_eq!(std::thread::available_parallelism().unwrap(), before);
}

#[test]
fn ipi_gives_a_figure_with_two_cpus_and_restores_the_affinity() {
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        return; // this machine decides: not applicable (checked below by pinning)
    }
    let before = std::thread::available_parallelism().unwrap();
    let r = registry::find("exit.ipi")
        .unwrap()
        .run(&ctx(std::env::temp_dir()))
        .unwrap_or_else(|e| panic!("exit.ipi with {before} CPUs: {e}"));
    assert!(
        r[0].samples.iter().all(|s| s.is_finite() && *s > 0.0),
        "{:?}",
        r[0].samples
    );
    assert!(r[0].params["cpuidle"].is_string());
    assert_eq!(std::thread::available_parallelism().unwrap(), before);
}

#[test]
fn ipi_on_one_allowed_cpu_is_not_applicable_with_the_reason() {
    // SAFETY: sets and restores this test thread's own affinity.
    unsafe {
        let mut saved: libc::cpu_set_t = std::mem::zeroed();
        let size = std::mem::size_of::<libc::cpu_set_t>();
        assert_eq!(libc::sched_getaffinity(0, size, &mut saved), 0);
        let mut one: libc::cpu_set_t = std::mem::zeroed();
        let first = (0..libc::CPU_SETSIZE as usize)
            .find(|&c| libc::CPU_ISSET(c, &saved))
            .unwrap();
        libc::CPU_SET(first, &mut one);
        assert_eq!(libc::sched_setaffinity(0, size, &one), 0);
        let outcome = registry::find("exit.ipi")
            .unwrap()
            .run(&ctx(std::env::temp_dir()));
        libc::sched_setaffinity(0, size, &saved);
        match outcome {
            Err(RunError::NotApplicable(why)) => {
                assert!(why.starts_with("needs two"), "{why}");
                assert!(why.contains("1"), "{why}");
            }
            other => panic!("exit.ipi on one CPU: {other:?}"),
        }
    }
}

#[test]
fn hypercall_and_pio_give_a_figure_or_say_why_not() {
    for id in ["exit.hypercall", "exit.pio"] {
        match registry::find(id).unwrap().run(&ctx(std::env::temp_dir())) {
            Ok(r) => {
                assert!(
                    r[0].samples.iter().all(|s| s.is_finite() && *s > 0.0),
                    "{id}: {:?}",
                    r[0].samples
                );
                let p = &r[0].params;
                match id {
                    "exit.hypercall" => {
                        assert!(
                            matches!(p["instruction"].as_str(), Some("vmcall" | "vmmcall")),
                            "{p:?}"
                        );
                        assert!(p["returned"].is_i64(), "{p:?}");
                    }
                    _ => assert!(
                        matches!(p["method"].as_str(), Some("ioperm" | "/dev/port")),
                        "{p:?}"
                    ),
                }
            }
            Err(RunError::NotApplicable(why)) => match id {
                "exit.hypercall" => {
                    assert!(why.contains("vmcall") || why.contains("vmmcall"), "{why}")
                }
                _ => assert!(why.contains("ioperm") && why.contains("/dev/port"), "{why}"),
            },
            Err(e) => panic!("{id} failed: {e}"),
        }
    }
}
