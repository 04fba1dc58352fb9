//! `nestbench hyperv prepare` against a **Hyper-V simulator**, never a real Hyper-V
//! host: `hyperv_sim/simulator.py` is the ForceCommand of a real OpenSSH sshd in the
//! first namespace of the test chain (common/netns.rs). It answers the OS probe as
//! cmd.exe or PowerShell would, runs nestbench's PowerShell operations by their JSON
//! contract (inline `-EncodedCommand`, or `-File` after an SFTP upload), keeps the
//! VMs in a JSON file and enforces Hyper-V's documented rules — nesting settings
//! refused while a VM runs, a saved state that must be discarded, a Stop-VM without
//! -TurnOff that never returns on a hung guest — and logs every change in order, so
//! each test fails if prepare changes something in the wrong order.
//!
//! Needs root, sshd, ip, unshare and python3; skipped with a reason otherwise, failed
//! under `CI=true`.

mod common;

use common::netns::{chain, Chain};
use common::sim::{host, needs_everything, vm, Sim, SIMULATOR};
use common::testreq::require_tool;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn skip() -> bool {
    common::skip() || !require_tool("/usr/bin/python3", "python3")
}

/// `nestbench hyperv prepare VM --host root@L1 …` against `sim`.
fn prepare(sim: &Sim, c: &Chain, vm: &str, extra: &[&str]) -> Output {
    prepare_at(c, &c.addrs[0], sim.port, sim.dir.path(), vm, extra)
}

fn prepare_at(c: &Chain, addr: &str, port: u16, dir: &Path, vm: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nestbench"))
        .args(["hyperv", "prepare", vm, "--host", &format!("root@{addr}")])
        .args([
            "--port",
            &port.to_string(),
            "--accept-new",
            "--connect-timeout",
            "5",
        ])
        .arg("--key")
        .arg(&c.client_key)
        .arg("--known-hosts")
        .arg(dir.join("known_hosts"))
        .args(extra)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The one line on stderr.
fn error_line(o: &Output) -> String {
    let e = String::from_utf8_lossy(&o.stderr).trim().to_string();
    assert_eq!(e.lines().count(), 1, "not one line: {e}");
    eprintln!("{e}");
    e
}

#[test]
fn a_ready_vm_is_ready_and_nothing_changes() {
    if skip() {
        return;
    }
    let c = chain();
    // PowerShell as the account's default shell, an AMD host new enough.
    let sim = Sim::start(
        c,
        2230,
        host("powershell", "AuthenticAMD", 20348, "10.0"),
        vec![vm("nb1")],
    );
    let o = prepare(&sim, c, "nb1", &[]);
    let out = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.contains('✘'), "{out}");
    assert!(
        out.contains("✔ host: Microsoft Windows Server (simulated), build 20348 on AMD-V"),
        "{out}"
    );
    assert!(
        out.contains("ready for nesting; nothing to change"),
        "{out}"
    );
    assert!(sim.log().is_empty(), "{:?}", sim.log());
    // The facts went inline; the long inspect script was uploaded over SFTP (a
    // Windows level has no other way) and run with -File, and deleted itself.
    let ops = sim.doc()["ops"].clone();
    assert_eq!(ops, json!(["os_facts (inline)", "hyperv_inspect (file)"]));
    let left: Vec<_> = std::fs::read_dir(sim.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".ps1"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_vm_that_needs_every_fix_is_fixed_in_order_and_a_second_apply_changes_nothing() {
    if skip() {
        return;
    }
    let c = chain();
    let sim = Sim::start(
        c,
        2231,
        host("cmd", "GenuineIntel", 20348, "10.0"),
        vec![needs_everything("nb 2")],
    );
    // Checking only: exit 6, every ✘ with its fix, nothing changed.
    let o = prepare(&sim, c, "nb 2", &[]);
    assert_eq!(o.status.code(), Some(6));
    let out = stdout(&o);
    assert_eq!(out.matches('✘').count(), 10, "{out}");
    assert!(
        out.contains("fix: Set-VMProcessor -VMName 'nb 2' -ExposeVirtualizationExtensions $true"),
        "{out}"
    );
    assert!(
        out.contains("fix: Stop-VM -Name 'nb 2' -TurnOff -Force"),
        "{out}"
    );
    let e = error_line(&o);
    assert!(
        e.starts_with(
            "nestbench: not ready: VM nb 2 is not set up for nesting: configuration version"
        ),
        "{e}"
    );
    // --apply without --turn-off: the VM runs, so nothing changes.
    let o = prepare(&sim, c, "nb 2", &["--apply"]);
    assert_eq!(o.status.code(), Some(6));
    assert!(error_line(&o)
        .contains("nothing changed on VM nb 2: the VM is not off: --turn-off turns it off first"));
    assert!(sim.log().is_empty(), "{:?}", sim.log());
    // --apply --turn-off: every change, in Hyper-V's order, then ready.
    let t0 = Instant::now();
    let o = prepare(&sim, c, "nb 2", &["--apply", "--turn-off"]);
    let out = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        t0.elapsed() < Duration::from_secs(60),
        "the hung guest was waited on"
    );
    assert_eq!(
        sim.log(),
        [
            "turn_off",
            "update_version",
            "expose_virtualization_extensions",
            "processor_count",
            "dynamic_memory_off",
            "startup_memory",
            "mac_spoofing_on",
            "checkpoints_off",
            "automatic_checkpoints_off",
        ]
    );
    assert!(
        out.contains("changed: Stop-VM -Name 'nb 2' -TurnOff -Force"),
        "{out}"
    );
    assert!(
        out.contains("changed: Set-VMMemory -VMName 'nb 2' -StartupBytes 4GB"),
        "{out}"
    );
    assert!(
        out.contains("is ready for nesting: start it with Start-VM -Name 'nb 2'"),
        "{out}"
    );
    let v = &sim.doc()["vms"][0];
    assert_eq!(
        (v["state"].as_str(), v["count"].as_u64()),
        (Some("Off"), Some(2))
    );
    // Idempotent: a second --apply finds nothing to do and changes nothing.
    let o = prepare(&sim, c, "nb 2", &["--apply", "--turn-off"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("nothing to change"));
    assert_eq!(sim.log().len(), 9, "{:?}", sim.log());
}

#[test]
fn a_saved_vm_has_its_saved_state_discarded_before_anything_else() {
    if skip() {
        return;
    }
    let c = chain();
    let mut saved = vm("nb3");
    saved["state"] = json!("Saved");
    saved["expose"] = json!(false);
    let sim = Sim::start(
        c,
        2232,
        host("cmd", "GenuineIntel", 17763, "9.0"),
        vec![saved],
    );
    let o = prepare(&sim, c, "nb3", &[]);
    assert_eq!(o.status.code(), Some(6));
    assert!(stdout(&o).contains("fix: Remove-VMSavedState -VMName 'nb3'"));
    let o = prepare(
        &sim,
        c,
        "nb3",
        &["--apply", "--turn-off", "--memory-gb", "8"],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        sim.log(),
        ["discard_saved_state", "expose_virtualization_extensions"]
    );
}

#[test]
fn an_amd_host_on_a_build_too_old_is_not_ready_and_apply_changes_nothing() {
    if skip() {
        return;
    }
    let c = chain();
    let mut v = vm("nb4");
    v["version"] = json!("9.0");
    let sim = Sim::start(c, 2233, host("cmd", "AuthenticAMD", 17763, "9.0"), vec![v]);
    let o = prepare(&sim, c, "nb4", &["--apply", "--turn-off"]);
    assert_eq!(o.status.code(), Some(6));
    let out = stdout(&o);
    assert!(out.contains("✘ host: Microsoft Windows Server (simulated), build 17763 on AMD-V: nesting needs Windows Server 2022 / Windows 11 (build 20348 / 22000) or later"), "{out}");
    assert!(out.contains("✘ configuration version: 9.0: nesting on AMD-V needs 9.3 or later, and this host supports at most 9.0"), "{out}");
    let e = error_line(&o);
    assert!(
        e.contains("cannot be set up for nesting on this host, nothing changed: host:"),
        "{e}"
    );
    assert!(sim.log().is_empty());
}

#[test]
fn what_could_not_be_checked_is_exit_1_in_one_line() {
    if skip() {
        return;
    }
    let c = chain();
    let sim = Sim::start(
        c,
        2234,
        host("cmd", "GenuineIntel", 20348, "10.0"),
        vec![vm("nb5")],
    );
    let o = prepare(&sim, c, "missing", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(error_line(&o).contains("no VM named 'missing' on HV-SIM"));
    // L2's address from here: the `unreachable` route refuses it at once.
    let t0 = Instant::now();
    let o = prepare_at(c, &c.addrs[1], 22, sim.dir.path(), "nb5", &[]);
    assert_eq!(o.status.code(), Some(1));
    let e = error_line(&o);
    assert!(
        e.starts_with("nestbench: error: cannot reach Hyper-V host (root@"),
        "{e}"
    );
    assert!(t0.elapsed() < Duration::from_secs(30));
    // A Linux machine is not a Hyper-V host.
    let o = prepare_at(c, &c.addrs[0], 22, sim.dir.path(), "nb5", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(error_line(&o).contains("is not Windows (Linux"));
}

/// The simulator alone, fed `steps` for `state` through the real -EncodedCommand, with
/// `edit` applied to the script; returns its exit code, or `None` when it was still
/// running after `limit`.
fn simulate(
    dir: &Path,
    state: Value,
    steps: Value,
    edit: fn(String) -> String,
    limit: Duration,
) -> (Option<i32>, Value) {
    use nestbench::powershell::{self, scripts};
    let path = dir.join("state.json");
    std::fs::write(&path, state.to_string()).unwrap();
    let script = edit(scripts::assemble(
        &scripts::HYPERV_APPLY,
        &json!({"vm": "nb", "steps": steps}),
    ));
    let cmd = format!(
        "{} -EncodedCommand {}",
        powershell::POWERSHELL,
        powershell::encode(&script)
    );
    let mut child = Command::new("/usr/bin/python3")
        .arg(SIMULATOR)
        .arg(&path)
        .env("SSH_ORIGINAL_COMMAND", cmd)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        if t0.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (
        code,
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap(),
    )
}

#[test]
fn the_simulator_enforces_hyperv_s_rules() {
    if !require_tool("/usr/bin/python3", "python3") {
        return;
    }
    let dir = common::scenario_dir();
    let mut running = needs_everything("nb");
    running["guest_hung"] = json!(true);
    let state = json!({"host": host("cmd", "GenuineIntel", 20348, "10.0"), "vms": [running]});
    let keep = |s: String| s;
    let limit = Duration::from_secs(10);
    // The wrong order: extensions while the VM runs are refused.
    let (code, doc) = simulate(
        dir.path(),
        state.clone(),
        json!([{"op": "expose_virtualization_extensions"}, {"op": "turn_off"}]),
        keep,
        limit,
    );
    assert_eq!(code, Some(1));
    assert_eq!(
        doc["log"],
        json!(["refused:expose_virtualization_extensions"])
    );
    // A Stop-VM without -TurnOff on a hung guest never returns.
    let graceful = |s: String| s.replace("Stop-VM -VM $vm -TurnOff -Force", "Stop-VM -VM $vm");
    let (code, doc) = simulate(
        dir.path(),
        state.clone(),
        json!([{"op": "turn_off"}]),
        graceful,
        Duration::from_secs(3),
    );
    assert_eq!(code, None, "a graceful Stop-VM returned: {doc}");
    assert_eq!(doc["log"], json!(["stop-vm waiting on a hung guest"]));
    // The script as nestbench sends it turns it off at once.
    let (code, doc) = simulate(
        dir.path(),
        state.clone(),
        json!([{"op": "turn_off"}, {"op": "expose_virtualization_extensions"}]),
        keep,
        limit,
    );
    assert_eq!(code, Some(0));
    assert_eq!(
        doc["log"],
        json!(["turn_off", "expose_virtualization_extensions"])
    );
    // A saved VM: nothing but discarding its state.
    let mut saved = state.clone();
    saved["vms"][0]["state"] = json!("Saved");
    let (code, doc) = simulate(
        dir.path(),
        saved,
        json!([{"op": "mac_spoofing_on"}]),
        keep,
        limit,
    );
    assert_eq!(
        (code, doc["log"].clone()),
        (Some(1), json!(["refused:mac_spoofing_on"]))
    );
}
