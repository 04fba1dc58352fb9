//! The QEMU backend against real QEMU: a three-level nested stack (L1 under TCG or
//! KVM as the host allows, L2 and L3 under KVM inside it) runs workloads of every
//! category, and afterwards no QEMU process, stack directory or forwarded port is
//! left; a four-level stack reaches L4 with the deep-level tuning exactly where the
//! host needs it (docs/qemu.md, "L4 boot tuning"); a run interrupted with SIGINT while L2 boots, or SIGTERM while L2's suite
//! runs, tears everything down too, keeps the finished levels in run.json and marks
//! the level never reached as skipped.
//! Needs qemu-system-x86, dropbear-bin, busybox-static, e2fsprogs, zstd, openssh-client
//! and apt access for the first image build (scripts/setup installs them); the image is
//! built once and cached (`nestbench image build`). Without the tools the tests skip,
//! saying which is missing; under `CI=true` they fail.

mod common;

use common::stack::*;
use model::rundoc::LevelStatus;
use std::path::PathBuf;

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
    } = run_stack(3, "cpu.int,mem.stream,disk.seq,exit.syscall,net.tcp");
    let net_ports = planned_net_ports(&stderr);
    assert_eq!(net_ports.len(), 3, "{stderr}");
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
        let console = run_dir.join(format!("logs/{}.console.log", l.level));
        let text = std::fs::read_to_string(&console).unwrap_or_default();
        assert!(
            text.contains("sshd on port"),
            "{}: {text}",
            console.display()
        );
        // net.tcp between the level and its parent, over the level's user networking.
        let net = l.results.iter().find(|r| r.id.key() == "net.tcp/send");
        let path = net
            .and_then(|r| r.params.get("path"))
            .and_then(|p| p.as_str());
        assert!(
            path.is_some_and(|p| p.starts_with("to the parent over QEMU user networking")),
            "L{}: {path:?} {:?}",
            l.level,
            l.errors
        );
        assert!(l
            .env
            .network
            .as_deref()
            .is_some_and(|n| n.contains("restrict=on")));
        let workloads: Vec<_> = l.results.iter().map(|r| r.id.workload.as_str()).collect();
        for w in [
            "cpu.int",
            "mem.stream",
            "disk.seq",
            "exit.syscall",
            "net.tcp",
        ] {
            assert!(
                workloads.contains(&w),
                "{} lacks {w}: {:?}",
                l.level,
                l.errors
            );
        }
    }
    assert!(doc.provenance.image.is_some());
    let json = std::fs::read_to_string(run_dir.join("run.json")).unwrap();
    assert!(!json.contains("PRIVATE KEY") && !json.contains("id_ed25519\""));
    let l0_net = doc.levels[0]
        .results
        .iter()
        .find(|r| r.id.key() == "net.tcp/send");
    let l0_path = l0_net
        .and_then(|r| r.params.get("path"))
        .and_then(|p| p.as_str());
    assert_eq!(l0_path, Some("loopback, no parent"));
    let mut ports = planned_ports(&stderr);
    ports.extend(net_ports);
    assert_gone(scratch.path(), &ports);
}

#[test]
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
        assert!(tuning(3).contains("nohz_full=1"), "L3: {}", tuning(3));
        assert!(tuning(3).contains("maxcpus=1"), "L3: {}", tuning(3));
        // L2, KVM on emulated SVM, keeps one vCPU: with two the stack was lost.
        assert!(!tuning(2).contains("nohz_full"), "L2: {}", tuning(2));
        assert!(!tuning(3).contains("pinned"), "L3: {}", tuning(3));
        let smp = |n: usize| {
            let argv = &doc.levels[n].env.qemu_argv;
            let at = argv.iter().position(|a| a == "-smp").expect("-smp");
            argv[at + 1].clone()
        };
        assert_eq!(smp(2), "1");
        for n in 1..=3 {
            assert!(!tuning(n).contains("nohz=off"), "L{n}: {}", tuning(n));
        }
        assert!(
            !tuning(1).contains("nohz_full"),
            "L1 (TCG) is not in the column"
        );
        assert_eq!(smp(3), "2");
    } else {
        // Hardware nesting: none of the deep-level tuning.
        for n in 1..=4 {
            assert!(!tuning(n).contains("nohz"), "L{n}: {}", tuning(n));
        }
    }
    assert_gone(scratch.path(), &planned_ports(&stderr));
}

/// Start a three-level run, send `signal` once a stderr line matches `when`, and check
/// that the stack is gone and the finished levels are kept.
fn interrupt(signal: i32, when: &dyn Fn(&str) -> bool, ok_levels: usize) {
    if skip() {
        return;
    }
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let scratch = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let run_dir: PathBuf = out.path().join("run");
    // Three levels planned, so one is never reached: it must end up skipped.
    let (status, sent, seen) = run_acting(
        scratch.path(),
        &run_dir,
        3,
        "cpu.int,disk.seq",
        when,
        // SAFETY: kill(2) on the child we started.
        &mut |pid, _| unsafe {
            libc::kill(pid as i32, signal);
        },
    );
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
