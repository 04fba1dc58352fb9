//! A stack that loses a level while a deeper one runs (seen on TCG-at-L1 hosts: L2's
//! QEMU exiting inside L1 while L4 booted or ran). The failure must name the level
//! that was really lost, with what its QEMU said (`-D` keeps a daemonized QEMU's
//! stderr), keep every level measured before, bring the lost level back up and
//! measure the level it took along again (`--relaunch`, default 1), keeping the lost
//! attempt, and leave nothing behind. The loss is
//! real: L2's QEMU is sent SIGTERM inside L1 over SSH, with the stack's own key.
//! A level that stops answering without exiting (its QEMU stopped with SIGSTOP inside
//! its parent) must fail within the deploy's silence limit, not hold the run for the
//! suite's. Needs what the qemu_stack tests need (scripts/setup).

mod common;

use common::stack::*;
use model::rundoc::{LevelStatus, RunStatus};

#[test]
fn a_parent_lost_under_a_running_level_is_named_relaunched_and_the_level_measured_again() {
    if skip() {
        return;
    }
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let scratch = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let run_dir = out.path().join("run");
    let mut killed = String::new();
    // net.tcp: the relaunched L2 was never deployed to, so L3's peer there must come
    // off L2's agent drive.
    let (status, acted, seen) = run_acting(
        scratch.path(),
        &run_dir,
        3,
        "cpu.int,net.tcp",
        &|l| l.contains("L3") && l.contains("workload 1/"),
        &mut |_, so_far| {
            let l1_port = planned_ports(so_far)[0];
            let o = ssh_into(
                scratch.path(),
                1,
                l1_port,
                "kill $(cat /run/nestbench/L2.pid) && echo killed",
            );
            killed = String::from_utf8_lossy(&o.stdout).into_owned()
                + &String::from_utf8_lossy(&o.stderr);
        },
    );
    assert!(acted, "L3's suite never started:\n{seen}");
    assert!(
        killed.contains("killed"),
        "could not kill L2's QEMU: {killed}"
    );
    assert!(seen.contains("L3: the stack lost L2"), "{seen}");
    assert!(
        seen.contains("L3: relaunching L2, then L3 and measuring L3 again (attempt 2"),
        "{seen}"
    );
    assert_eq!(
        status.code(),
        Some(0),
        "complete after the relaunch: {seen}"
    );
    let doc = read_doc(&run_dir);
    assert_eq!(doc.status, RunStatus::Complete);
    for l in &doc.levels {
        assert_eq!(l.status, LevelStatus::Ok, "{}: {:?}", l.name, l.error);
        assert!(!l.results.is_empty(), "{} has no results", l.name);
        assert!(l.errors.is_empty(), "{}: {:?}", l.name, l.errors);
    }
    let l3 = &doc.levels[3];
    assert!(
        l3.results.iter().any(|r| r.id.workload == "net.tcp"),
        "L3's net.tcp after the relaunch: {:?}",
        l3.results.iter().map(|r| r.id.key()).collect::<Vec<_>>()
    );
    assert_eq!(l3.retries.len(), 1, "{:?}", l3.retries);
    let lost = &l3.retries[0];
    assert_eq!(lost.relaunched_from.0, 2);
    let why = lost.attempt.error.clone().unwrap_or_default();
    assert!(why.contains("the stack lost L2"), "{why}");
    assert!(why.contains("terminating on signal 15"), "{why}");
    assert!(doc.levels[..3].iter().all(|l| l.retries.is_empty()));
    // The lost L2's QEMU log is kept apart from the relaunched one's.
    let log = std::fs::read_to_string(run_dir.join("logs/L2.qemu.lost1.log")).unwrap_or_default();
    assert!(
        log.contains("terminating on signal 15"),
        "logs/L2.qemu.lost1.log: {log}"
    );
    assert_gone(scratch.path(), &planned_ports(&seen));
}

#[test]
fn a_level_that_stops_answering_fails_within_the_silence_limit() {
    if skip() {
        return;
    }
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let scratch = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let run_dir = out.path().join("run");
    let mut stopped = String::new();
    let mut at = None;
    let (status, acted, seen) = run_acting_with(
        scratch.path(),
        &run_dir,
        2,
        "cpu.int,cpu.fp,cpu.mt,exit.syscall",
        &[("NESTBENCH_SILENCE_S", "20")],
        &|l| l.contains("L2") && l.contains("workload 1/"),
        &mut |_, so_far| {
            let l1_port = planned_ports(so_far)[0];
            let o = ssh_into(
                scratch.path(),
                1,
                l1_port,
                "kill -STOP $(cat /run/nestbench/L2.pid) && echo stopped",
            );
            at = Some(std::time::Instant::now());
            stopped = String::from_utf8_lossy(&o.stdout).into_owned()
                + &String::from_utf8_lossy(&o.stderr);
        },
    );
    assert!(acted, "L2's suite never started:\n{seen}");
    assert!(
        stopped.contains("stopped"),
        "could not stop L2's QEMU: {stopped}"
    );
    // The silence (20 s), the post-mortem's question to L1 and the teardown; the
    // smoke suite's own limit is 15 minutes.
    let took = at.unwrap().elapsed();
    assert!(
        took < std::time::Duration::from_secs(150),
        "{took:?}:\n{seen}"
    );
    assert_eq!(status.code(), Some(4), "a partial run: {seen}");
    let doc = read_doc(&run_dir);
    for l in &doc.levels[..2] {
        assert_eq!(l.status, LevelStatus::Ok, "{}: {:?}", l.name, l.error);
    }
    let l2 = &doc.levels[2];
    assert_eq!(l2.status, LevelStatus::Failed);
    let why = l2.error.clone().unwrap_or_default();
    assert!(why.contains("went silent"), "{why}");
    assert_gone(scratch.path(), &planned_ports(&seen));
}
