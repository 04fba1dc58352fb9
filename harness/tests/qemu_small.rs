//! The agent in the smallest guest a plan allows: one 256 MiB level of the busybox
//! image, where the exit probes and net.tcp must each yield a figure or a
//! not-applicable record with its reason — never a workload error — and nothing may
//! be left behind. Needs what `qemu_stack` needs (scripts/setup installs it); without
//! the tools the test skips, saying which is missing; under `CI=true` it fails.

mod common;

use common::stack::*;
use model::rundoc::LevelStatus;

#[test]
fn a_256_mib_guest_runs_the_exit_probes_and_net_tcp() {
    if skip() {
        return;
    }
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let only = "exit.cpuid,exit.pio,exit.ipi,exit.hypercall,net.tcp";
    let StackRun {
        scratch,
        _out,
        stderr,
        doc,
        ..
    } = run_stack_with(1, only, &["--memory", "256"]);
    let l1 = &doc.levels[1];
    assert_eq!(l1.status, LevelStatus::Ok, "{:?}: {stderr}", l1.error);
    let argv = &l1.env.qemu_argv;
    let m = argv
        .iter()
        .position(|a| a == "-m")
        .map(|i| argv[i + 1].as_str());
    assert_eq!(m, Some("256"), "{argv:?}");
    assert!(
        l1.env.memory_mib.is_some_and(|m| m <= 256),
        "{:?}",
        l1.env.memory_mib
    );
    assert!(l1.errors.is_empty(), "workload errors: {:?}", l1.errors);
    for w in [
        "exit.cpuid",
        "exit.pio",
        "exit.ipi",
        "exit.hypercall",
        "net.tcp",
    ] {
        let figures = l1
            .results
            .iter()
            .filter(|r| r.id.workload == w)
            .inspect(|r| assert!(!r.samples.is_empty(), "{}", r.id.key()))
            .count();
        let not_applicable: Vec<_> = l1
            .not_applicable
            .iter()
            .filter(|n| n.id.workload == w)
            .collect();
        assert!(
            figures + not_applicable.len() > 0,
            "{w} yielded nothing at L1: {stderr}"
        );
        for n in not_applicable {
            assert!(
                !n.reason.trim().is_empty(),
                "{} without a reason",
                n.id.key()
            );
        }
    }
    let net: Vec<_> = l1
        .results
        .iter()
        .filter(|r| r.id.workload == "net.tcp")
        .map(|r| r.id.metric.as_str())
        .collect();
    for metric in ["send", "receive", "rr_p50", "rr_p99"] {
        assert!(net.contains(&metric), "net.tcp lacks {metric}: {net:?}");
    }
    let mut ports = planned_ports(&stderr);
    ports.extend(planned_net_ports(&stderr));
    assert_gone(scratch.path(), &ports);
}
