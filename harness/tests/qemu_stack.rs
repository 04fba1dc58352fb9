//! The QEMU backend against real QEMU: a three-level nested stack (L1 under TCG or
//! KVM as the host allows, L2 and L3 under KVM inside it) runs workloads of every
//! category, and afterwards no QEMU process, stack directory or forwarded port is
//! left; a four-level stack reaches L4 with the deep-level tuning exactly where the
//! host needs it (docs/qemu.md, "L4 boot tuning"); a run interrupted with SIGINT while L2 boots, or SIGTERM while L2's suite
//! runs, tears everything down too and keeps the finished levels in run.json.
//! Needs qemu-system-x86, dropbear-bin, busybox-static, e2fsprogs, zstd, openssh-client
//! and apt access for the first image build (scripts/setup installs them); the image is
//! built once and cached (`nestbench image build`).

mod common;

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use workloads::rundoc::{LevelStatus, RunDoc};

/// Nested stacks on a small CI machine must not run side by side.
static SERIAL: Mutex<()> = Mutex::new(());

fn skip() -> bool {
    let missing = [
        "qemu-system-x86_64",
        "dropbearkey",
        "mke2fs",
        "zstd",
        "ssh-keygen",
    ]
    .into_iter()
    .find(|t| Command::new(t).arg("--version").output().is_err());
    if let Some(t) = missing {
        eprintln!("skipped: {t} is not installed (run scripts/setup)");
        return true;
    }
    false
}

fn nestbench(scratch: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nestbench"));
    c.env("NESTBENCH_SCRATCH_DIR", scratch)
        .env("NESTBENCH_AGENT", common::static_agent());
    c
}

fn read_doc(dir: &Path) -> RunDoc {
    let text = std::fs::read_to_string(dir.join("run.json")).expect("run.json");
    serde_json::from_str(&text).expect("run.json parses")
}

/// A finished `nestbench run --levels N --suite smoke --only ONLY` (exit 0 asserted).
struct StackRun {
    /// NESTBENCH_SCRATCH_DIR of the run (where its stack lived).
    scratch: tempfile::TempDir,
    /// Holds the run directory.
    _out: tempfile::TempDir,
    run_dir: PathBuf,
    stderr: String,
    doc: RunDoc,
}

fn run_stack(levels: u32, only: &str) -> StackRun {
    let scratch = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let run_dir = out.path().join("run");
    let o = nestbench(scratch.path())
        .args(["run", "--levels", &levels.to_string(), "--suite", "smoke"])
        .args(["--only", only, "--out"])
        .arg(&run_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let doc = read_doc(&run_dir);
    StackRun {
        scratch,
        _out: out,
        run_dir,
        stderr,
        doc,
    }
}

/// `env.accel` of every level, L0 first.
fn accels(doc: &RunDoc) -> Vec<String> {
    doc.levels
        .iter()
        .map(|l| l.env.accel.clone().unwrap_or_default())
        .collect()
}

/// Ports of the plan lines (`ssh 127.0.0.1:PORT`) in nestbench's stderr.
fn planned_ports(stderr: &str) -> Vec<u16> {
    stderr
        .lines()
        .filter_map(|l| l.rsplit_once("ssh 127.0.0.1:"))
        .filter_map(|(_, p)| p.trim().parse().ok())
        .collect()
}

/// Nothing of the stack may remain: no QEMU using `scratch`, nothing in it, no port
/// still bound.
fn assert_gone(scratch: &Path, ports: &[u16]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let marker = scratch.display().to_string();
    loop {
        let out = Command::new("pgrep")
            .args(["-af", "qemu-system"])
            .output()
            .unwrap();
        let ours: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains(&marker))
            .map(str::to_string)
            .collect();
        if ours.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "qemu survived: {ours:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let left: Vec<_> = std::fs::read_dir(scratch).unwrap().collect();
    assert!(left.is_empty(), "left in {}: {left:?}", scratch.display());
    for &p in ports {
        assert!(
            TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok(),
            "port {p} still bound"
        );
    }
}

fn host_accel() -> &'static str {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let virt = cpuinfo.split_whitespace().any(|w| w == "svm" || w == "vmx");
    let kvm = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok();
    if virt && kvm {
        "kvm"
    } else {
        "tcg"
    }
}

#[test]
fn three_level_stack_runs_every_category_and_leaves_nothing_behind() {
    if skip() {
        return;
    }
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let StackRun {
        scratch,
        _out,
        run_dir,
        stderr,
        doc,
    } = run_stack(3, "cpu.int,mem.stream,disk.seq,exit.syscall");
    assert_eq!(
        accels(&doc),
        ["native", host_accel(), "kvm", "kvm"],
        "{stderr}"
    );
    for l in &doc.levels {
        assert_eq!(l.status, LevelStatus::Ok, "{}: {:?}", l.name, l.error);
        if l.level == 0 {
            continue;
        }
        assert!(
            l.env
                .disk
                .as_deref()
                .is_some_and(|d| d.contains("cache=none")),
            "{:?}",
            l.env.disk
        );
        assert!(l.env.qemu_argv.iter().any(|a| a == "-kernel"));
        // The deep-level tuning (periodic tick, CPU column) is for stacks with a level
        // 3+ KVM levels above TCG only (docs/qemu.md, "L4 boot tuning"): not 3 levels.
        assert!(
            !l.env.tuning.iter().any(|t| t.contains("nohz")),
            "{:?}",
            l.env.tuning
        );
        assert!(l
            .env
            .qemu_version
            .as_deref()
            .is_some_and(|v| v.contains("QEMU")));
        assert!(l.timings.provision_s.is_some_and(|s| s > 0.0));
        let console = run_dir.join(format!("logs/L{}.console.log", l.level));
        let text = std::fs::read_to_string(&console).unwrap_or_default();
        assert!(
            text.contains("sshd on port"),
            "{}: {text}",
            console.display()
        );
        let workloads: Vec<_> = l.results.iter().map(|r| r.workload.as_str()).collect();
        for w in ["cpu.int", "mem.stream", "disk.seq", "exit.syscall"] {
            assert!(
                workloads.contains(&w),
                "L{} lacks {w}: {:?}",
                l.level,
                l.errors
            );
        }
    }
    assert!(doc.provenance.get("image_digest").is_some());
    let json = std::fs::read_to_string(run_dir.join("run.json")).unwrap();
    assert!(!json.contains("PRIVATE KEY") && !json.contains("id_ed25519\""));
    assert_gone(scratch.path(), &planned_ports(&stderr));
}

/// Ignored in the default suite: on TCG-at-L1 hosts about one 4-level run in three
/// loses L2 while L4 runs (L2's QEMU exits inside L1 as on a guest reset; issue 6 and
/// docs/qemu.md, "L4 boot tuning"), so it cannot gate CI yet. Run it with
/// `cargo test --release --test qemu_stack -- --ignored`.
#[test]
#[ignore = "L2 is lost in about one 4-level run in three on TCG-at-L1 hosts (docs/qemu.md)"]
fn four_level_stack_reaches_l4_with_the_deep_level_tuning_only_where_needed() {
    if skip() {
        return;
    }
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let StackRun {
        scratch,
        _out,
        stderr,
        doc,
        ..
    } = run_stack(4, "exit.cpuid");
    assert_eq!(
        accels(&doc),
        ["native", host_accel(), "kvm", "kvm", "kvm"],
        "{stderr}"
    );
    for l in &doc.levels {
        assert_eq!(l.status, LevelStatus::Ok, "{}: {:?}", l.name, l.error);
        assert_eq!(l.results.len(), 1, "{}: {:?}", l.name, l.errors);
    }
    let tuning = |n: usize| doc.levels[n].env.tuning.join(" ");
    if host_accel() == "tcg" {
        // L4 is the third KVM level above TCG: periodic 50 Hz tick, on a CPU column.
        for t in [
            "nohz=off",
            "lapic=notscdeadline",
            "min_timer_period_us",
            "pinned to L3 CPU 1",
        ] {
            assert!(tuning(4).contains(t), "L4 lacks {t}: {}", tuning(4));
        }
        for n in 2..=3 {
            assert!(tuning(n).contains("nohz_full=1"), "L{n}: {}", tuning(n));
            assert!(tuning(n).contains("maxcpus=1"), "L{n}: {}", tuning(n));
        }
        for n in 1..=3 {
            assert!(!tuning(n).contains("nohz=off"), "L{n}: {}", tuning(n));
        }
        assert!(
            !tuning(1).contains("nohz_full"),
            "L1 (TCG) is not in the column"
        );
        let argv = &doc.levels[3].env.qemu_argv;
        assert!(
            argv.windows(2).any(|w| w[0] == "-smp" && w[1] == "2"),
            "{argv:?}"
        );
    } else {
        // Hardware nesting: none of the deep-level tuning.
        for n in 1..=4 {
            assert!(!tuning(n).contains("nohz"), "L{n}: {}", tuning(n));
        }
    }
    assert_gone(scratch.path(), &planned_ports(&stderr));
}

/// Start a two-level run, send `signal` once a stderr line matches `when`, and check
/// that the stack is gone and the finished levels are kept.
fn interrupt(signal: i32, when: &dyn Fn(&str) -> bool, ok_levels: usize) {
    if skip() {
        return;
    }
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let scratch = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let run_dir: PathBuf = out.path().join("run");
    let mut child = nestbench(scratch.path())
        .args([
            "run",
            "--levels",
            "2",
            "--suite",
            "smoke",
            "--only",
            "cpu.int,disk.seq",
            "--out",
        ])
        .arg(&run_dir)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut seen = String::new();
    let mut sent = false;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap_or_default();
        seen.push_str(&line);
        seen.push('\n');
        if !sent && when(&line) {
            // SAFETY: kill(2) on the child we started.
            unsafe { libc::kill(child.id() as i32, signal) };
            sent = true;
        }
    }
    let status = child.wait().unwrap();
    assert!(sent, "never reached the interruption point:\n{seen}");
    assert_ne!(status.code(), Some(0), "{seen}");
    let doc = read_doc(&run_dir);
    let ok = doc
        .levels
        .iter()
        .filter(|l| l.status == LevelStatus::Ok)
        .count();
    assert_eq!(ok, ok_levels, "{seen}");
    assert!(doc.levels.iter().all(|l| l.status != LevelStatus::Pending));
    assert_gone(scratch.path(), &planned_ports(&seen));
}

#[test]
fn sigint_while_l2_boots_tears_the_stack_down() {
    interrupt(
        libc::SIGINT,
        &|l| l.contains("L2") && l.contains("boot ("),
        2,
    );
}

#[test]
fn sigterm_while_l2_runs_its_suite_tears_the_stack_down() {
    interrupt(
        libc::SIGTERM,
        &|l| l.contains("L2") && l.contains("workload 2/"),
        2,
    );
}
