//! The setup budget, proven on the real agent: the disk and memory workloads with the
//! smoke suite's timing run once unthrottled and once in a cgroup that makes the
//! machine about 100× slower (1 % of one CPU; the scratch directory's disk at 4 MiB/s
//! and 200 IOPS). The rates drop accordingly — that is what a slow level measures — but
//! the run must not take anywhere near 100× longer: each workload's untimed setup stops
//! at its budget and says so in its params, and the samples are time-budgeted anyway.
//! The files are 128 MiB, so writing them in full would take the throttled disk 32 s
//! each: the agent before the budget took 6.2 s unthrottled and 91 s throttled (15×)
//! here, past this test's 10× bound; with it, 6.7 s and 24 s.
//!
//! Needs root and cgroup throttling ([`common::cgroup`]); without them it skips, and
//! under CI it fails ([`common::testreq`]).

mod common;

use common::cgroup::{self, Limits, Throttle};
use common::testreq::{require, require_root};
use model::protocol::{parse_stream, StreamOutcome};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_nestbench-agent");
const WORKLOADS: &str = "mem.stream,mem.latency,disk.seq,disk.rand,disk.fsync";
/// Larger than smoke's, so that setup without a budget would dominate the throttled run.
const SIZES: &str = "stream=64,latency=64,disk=128";
/// About 100× slower than this machine unthrottled (see the module header).
const SLOW: Limits = Limits {
    cpu_quota_us: 1000,
    bps: 4 << 20,
    iops: 200,
};
/// Far beyond what a throttled run should take; a run past it is killed.
const LIMIT: Duration = Duration::from_secs(600);

/// A directory for the agent's files on a real disk, removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the agent's smoke suite over [`WORKLOADS`] at [`SIZES`] in `dir` through `cmd`;
/// returns the wall time and the parsed stream. Killed (and the test failed) past
/// [`LIMIT`].
fn run(mut cmd: Command, dir: &Path) -> (Duration, StreamOutcome) {
    cmd.args([
        "run", "--suite", "smoke", "--only", WORKLOADS, "--sizes", SIZES, "--dir",
    ])
    .arg(dir)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let t = Instant::now();
    let mut child = cmd.spawn().expect("the agent starts");
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).map(|_| s)
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the agent ran past {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let wall = t.elapsed();
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    assert!(status.success(), "agent failed: {status}\n{err}");
    let s = parse_stream(&reader.join().unwrap().unwrap());
    assert_eq!(s.failure, None, "{err}");
    assert!(s.errors.is_empty(), "{:?}\n{err}", s.errors);
    (wall, s)
}

/// The median sample of `key`'s result.
fn median(s: &StreamOutcome, key: &str) -> f64 {
    let r = s.results.iter().find(|r| r.id.key() == key).unwrap();
    let mut v = r.samples.clone();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn setup_stays_bounded_when_the_machine_is_100x_slower() {
    if !require_root("cgroup throttling") {
        return;
    }
    let hierarchy = cgroup::available();
    if !require(
        "cgroup CPU and block I/O throttling",
        hierarchy.is_ok(),
        &format!(
            "mount cgroup v2 with the cpu and io controllers, or v1 cpu and blkio ({})",
            hierarchy.as_ref().err().cloned().unwrap_or_default()
        ),
    ) {
        return;
    }
    let dir = Scratch(
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("throttle-{}", std::process::id())),
    );
    std::fs::create_dir_all(&dir.0).unwrap();
    let device = cgroup::block_device(&dir.0);
    if !require(
        "a block device under the target directory",
        device.is_some(),
        "build on a disk-backed file system (not tmpfs or overlayfs), as CI does",
    ) {
        return;
    }
    let (fast_wall, fast) = run(Command::new(BIN), &dir.0);
    let throttle = Throttle::create(
        &hierarchy.unwrap(),
        &format!("nestbench-throttle-{}", std::process::id()),
        device.unwrap(),
        SLOW,
    )
    .expect("create the throttled cgroup");
    let (slow_wall, slow) = run(throttle.command(BIN), &dir.0);
    drop(throttle);

    let slowdown = |key: &str| median(&fast, key) / median(&slow, key);
    let (triad, write) = (slowdown("mem.stream/triad"), slowdown("disk.seq/write"));
    eprintln!(
        "unthrottled {:.1} s, throttled {:.1} s ({:.1}×); rates slower by {triad:.0}× (triad), {write:.0}× (disk.seq write), {:.0}× (disk.rand read_iops)",
        fast_wall.as_secs_f64(),
        slow_wall.as_secs_f64(),
        slow_wall.as_secs_f64() / fast_wall.as_secs_f64(),
        slowdown("disk.rand/read_iops"),
    );
    for r in &slow.results {
        let p = &r.params;
        if let Some(setup) = p.get("setup_s").and_then(|v| v.as_f64()) {
            eprintln!(
                "  throttled {}: setup {setup} s, prepared {} MiB, truncated {}",
                r.id.key(),
                p["prepared_mib"],
                p["setup_truncated"]
            );
        }
    }
    // The throttle was real: this is a much slower machine.
    assert!(triad > 20.0 && write > 20.0, "throttle did not bite");
    // Setup stopped at its budget (plus the piece under way) and said so.
    for key in ["disk.seq/write", "disk.rand/read_iops", "mem.stream/triad"] {
        let p = &slow
            .results
            .iter()
            .find(|r| r.id.key() == key)
            .unwrap()
            .params;
        let budget = p["setup_budget_s"].as_f64().unwrap();
        assert!(
            p["setup_s"].as_f64().unwrap() < budget + 2.0,
            "{key}: {p:?}"
        );
    }
    let seq = &slow
        .results
        .iter()
        .find(|r| r.id.key() == "disk.seq/write")
        .unwrap();
    assert_eq!(seq.params["setup_truncated"], true, "{:?}", seq.params);
    // And the whole run is nowhere near 100× longer.
    assert!(
        slow_wall < fast_wall * 10,
        "throttled {slow_wall:?} against {fast_wall:?} unthrottled"
    );
}
