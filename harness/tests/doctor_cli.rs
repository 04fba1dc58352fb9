//! `nestbench doctor` on this machine and on simulated conditions (a PATH without
//! qemu, a depth that cannot fit), each with its fix line and exit code.

mod common;

use std::process::{Command, Output};

fn doctor(args: &[&str], path: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nestbench"));
    c.arg("doctor").args(args);
    if let Some(p) = path {
        c.env("PATH", p);
    }
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn host_has_virt_extensions() -> bool {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    info.lines()
        .filter(|l| l.starts_with("flags"))
        .any(|l| l.split_whitespace().any(|f| f == "svm" || f == "vmx"))
}

#[test]
fn this_machine_is_explained() {
    let o = doctor(&["--levels", "2"], None);
    let t = text(&o);
    assert!(t.contains("qemu-system-x86_64"), "{t}");
    assert!(t.contains("memory and vCPU budget"), "{t}");
    if !host_has_virt_extensions() {
        // The machines this project runs on: PVM /dev/kvm, no svm/vmx.
        assert!(t.contains("cannot run a stock guest"), "{t}");
        assert!(t.contains("TCG with -cpu max"), "{t}");
    }
    // With QEMU installed the doctor passes here (under CI it must be installed).
    if common::testreq::require_tool("/usr/bin/qemu-system-x86_64", "qemu-system-x86") {
        assert!(o.status.success(), "{t}");
    }
}

#[test]
fn missing_qemu_names_the_package() {
    let o = doctor(&["--levels", "2"], Some("/nonexistent"));
    assert_eq!(o.status.code(), Some(6), "checks failed: not ready");
    let t = text(&o);
    assert!(t.contains("✘ qemu-system-x86_64: not found on PATH"), "{t}");
    assert!(
        t.contains("fix: apt-get install --no-install-recommends qemu-system-x86"),
        "{t}"
    );
}

#[test]
fn a_depth_that_cannot_fit_names_the_flags() {
    let o = doctor(&["--levels", "12"], None);
    assert_eq!(o.status.code(), Some(6), "checks failed: not ready");
    let t = text(&o);
    assert!(t.contains("✘ memory and vCPU budget"), "{t}");
    assert!(t.contains("--memory"), "{t}");
}

#[test]
fn run_refuses_early_in_the_doctors_words() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = Command::new(env!("CARGO_BIN_EXE_nestbench"))
        .args([
            "run",
            "--levels",
            "2",
            "--suite",
            "smoke",
            "--agent",
            "/bin/true",
            "--out",
        ])
        .arg(&out)
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("not found on PATH") && err.contains("fix: apt-get install"),
        "{err}"
    );
    assert!(!out.exists(), "nothing may start before the checks pass");
}
