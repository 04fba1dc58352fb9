//! `nestbench run --backend hyperv` against the **Hyper-V simulator**, never a real
//! Hyper-V host: `hyperv_sim/simulator.py` behind a real sshd in the first namespace
//! of the test chain is the host. Each VM it starts is a guest stand-in in the next
//! namespace down — a real sshd with the host key and authorized key from the VM's
//! config disk, reachable only through its parent — which for a Windows level runs
//! the simulator again on its own state (the nested Hyper-V), and for a Linux leaf
//! runs commands itself. The real Windows agent (scripts/build-agent-windows) is
//! deployed to every Windows level and verified there (size, SHA-256); nothing here
//! runs Windows programs, so the simulator then runs the Linux agent in its place.
//!
//! Each run must provision, measure, and leave nothing: no VM in any simulated
//! machine but the user's own (running, untouched), no disk but the user's base VHDX
//! and their VM's (unchanged), no guest sshd running — on
//! success, on a failure at L2 and on SIGINT. The logs show the order of every
//! operation, which the simulator's rules make matter (hyperv_sim_rules.rs shows each
//! rule refusing the wrong order).
//!
//! Needs root, sshd, ip, unshare and python3; skipped with a reason otherwise, failed
//! under `CI=true`.

mod common;

use common::hvsite::{assert_level_order, position, site};
use common::netns::chain;
use common::testreq::require_tool;
use model::rundoc::{LevelOutcome, LevelStatus};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn skip() -> bool {
    common::skip()
        || !require_tool("/usr/bin/python3", "python3")
        || common::windows_agent().is_none()
}
#[test]
fn a_two_level_run_provisions_measures_and_leaves_nothing() {
    if skip() {
        return;
    }
    let c = chain();
    // L1's guest hangs on a shutdown request: only a turn-off removes it in time.
    let s = site(c, 2240, 0, 2, true, &|k, e| {
        if k == 1 {
            e["hung"] = json!(true);
        }
    });
    let t0 = Instant::now();
    let (o, doc) = s.run(c, 2, &[]);
    assert_eq!(o.status.code(), Some(0), "{:?}", doc.levels);
    assert!(t0.elapsed() < Duration::from_secs(240));
    for l in &doc.levels {
        assert_eq!(l.status, LevelStatus::Ok, "{l:?}");
        assert!(
            l.results.iter().any(|r| r.id.workload == "cpu.int"),
            "{:?}",
            l.level
        );
    }
    let l1 = &doc.levels[1].env;
    let hv = l1.hyperv.as_ref().expect("L1's Hyper-V record");
    assert_eq!(
        (hv.host.as_str(), hv.config_version.as_str()),
        ("HV-SIM", "10.0")
    );
    assert!(hv.hyperv_version.starts_with("10.0.20348"), "{hv:?}");
    assert!(hv
        .settings
        .contains(&"expose_virtualization_extensions".to_string()));
    assert_eq!(l1.platform.as_ref().unwrap().os, "windows");
    assert_eq!(doc.levels[2].env.platform.as_ref().unwrap().os, "linux");
    assert_eq!(doc.levels[2].env.hyperv.as_ref().unwrap().host, "L1");
    assert_eq!(doc.config.hyperv.as_ref().unwrap().switch, "External");
    assert_level_order(&s.log(0), 1);
    assert_level_order(&s.log(1), 2);
    // L2's parent VHDX reached L1 (Copy-VMFile) before L2 was created on it.
    let host = s.log(0);
    assert!(
        position(&host, "copy_file:") < position(&host, "turn_off:"),
        "{host:?}"
    );
    // Deepest first: L2 was removed inside L1 before L1 was turned off (its own log
    // shows the removal; a turned-off parent would have left it Off, not gone).
    s.assert_clean();
}

#[test]
fn a_three_level_run_copies_each_parent_disk_hop_by_hop() {
    if skip() {
        return;
    }
    let c = chain();
    let s = site(c, 2241, 1, 3, false, &|_, _| {});
    // Inside L1 the switch for L2 has a name of its own: the host's "External" would be
    // refused there, so L2 is made only with its own --switch.
    s.set_host(1, "switches", json!(["Internal"]));
    let (o, doc) = s.run(c, 3, &["--memory", "8192", "--switch", "L2=Internal"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", doc.levels);
    let networks: Vec<_> = doc.levels[1..]
        .iter()
        .map(|l| l.env.network.clone().unwrap())
        .collect();
    assert_eq!(
        networks,
        [
            "Hyper-V switch External",
            "Hyper-V switch Internal",
            "Hyper-V switch External"
        ]
    );
    let hv = doc.config.hyperv.as_ref().unwrap();
    assert_eq!(
        (
            hv.switch.as_str(),
            hv.switch_levels.get(&2).map(String::as_str)
        ),
        ("External", Some("Internal"))
    );
    // What each VM was given (the agent's memory_mib is what the stand-in has).
    let planned: Vec<(u64, u32)> = doc.levels[1..]
        .iter()
        .map(|l| {
            l.env
                .hyperv
                .as_ref()
                .map(|h| (h.memory_mib, h.processors))
                .unwrap()
        })
        .collect();
    assert_eq!(planned, [(8192, 2), (6144, 2), (4096, 2)]);
    for l in &doc.levels {
        assert_eq!(l.status, LevelStatus::Ok, "{l:?}");
    }
    assert_level_order(&s.log(0), 1);
    assert_level_order(&s.log(1), 2);
    assert_level_order(&s.log(2), 3);
    // L3's VHDX went host → L1 → L2: one copy on the host for L2's, one for L3's.
    assert_eq!(
        s.log(0)
            .iter()
            .filter(|l| l.starts_with("copy_file:"))
            .count(),
        2
    );
    assert_eq!(
        s.log(1)
            .iter()
            .filter(|l| l.starts_with("copy_file:"))
            .count(),
        1
    );
    s.assert_clean();
}

#[test]
fn a_level_that_never_reports_an_address_fails_and_everything_is_still_removed() {
    if skip() {
        return;
    }
    let c = chain();
    let s = site(c, 2242, 2, 2, true, &|k, e| {
        if k == 2 {
            e["address_delay_s"] = Value::Null;
        }
    });
    let (o, doc) = s.run(c, 2, &["--boot-timeout", "4"]);
    assert_eq!(o.status.code(), Some(4), "partial");
    assert_eq!(doc.levels[1].status, LevelStatus::Ok);
    assert!(!doc.levels[1].results.is_empty(), "L1's results kept");
    assert_eq!(doc.levels[2].status, LevelStatus::Failed);
    let e = doc.levels[2].error.clone().unwrap();
    assert!(
        e.contains("reported no IPv4 address") && e.contains("within 4 s"),
        "{e}"
    );
    // L2 was created and removed inside L1, then L1 on the host.
    let l1 = s.log(1);
    assert!(
        position(&l1, "remove_vm:") > position(&l1, "start_vm:"),
        "{l1:?}"
    );
    assert_level_order(&s.log(0), 1);
    s.assert_clean();
}

#[test]
fn sigint_while_l2_boots_tears_everything_down() {
    if skip() {
        return;
    }
    let c = chain();
    let s = site(c, 2243, 3, 2, true, &|k, e| {
        if k == 2 {
            e["address_delay_s"] = Value::Null;
        }
    });
    let mut child = s
        .command(c, 2, &["--boot-timeout", "120"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !s.log(1).iter().any(|l| l.starts_with("start_vm:")) {
        assert!(t0.elapsed() < Duration::from_secs(180), "L2 never started");
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(200));
    }
    // SAFETY: a plain kill(2) of our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let st = child.wait().unwrap();
    assert_eq!(st.code(), Some(130));
    let doc = s.doc();
    assert_eq!(doc.levels[1].status, LevelStatus::Ok, "L1's results kept");
    assert_ne!(doc.levels[2].status, LevelStatus::Ok);
    let l1 = s.log(1);
    assert!(
        position(&l1, "remove_vm:") > position(&l1, "start_vm:"),
        "{l1:?}"
    );
    assert_level_order(&s.log(0), 1);
    s.assert_clean();
}

#[test]
fn keep_leaves_the_stack_and_down_removes_it() {
    if skip() {
        return;
    }
    let c = chain();
    let s = site(c, 2244, 4, 1, false, &|_, _| {});
    let (o, _) = s.run(c, 1, &["--keep"]);
    assert_eq!(o.status.code(), Some(0));
    let run = s.out.path().join("run");
    assert!(run.join("hyperv-stack.json").is_file());
    assert_eq!(s.state(0)["vms"][1]["state"], "Running", "the kept L1");
    let o = Command::new(env!("CARGO_BIN_EXE_nestbench"))
        .arg("down")
        .arg(&run)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    s.assert_clean();
    // Idempotent from the user's side: a second down has nothing left to read.
    let o = Command::new(env!("CARGO_BIN_EXE_nestbench"))
        .arg("down")
        .arg(&run)
        .output()
        .unwrap();
    assert!(!o.status.success());
}

#[test]
fn a_plan_that_cannot_fit_is_refused_before_anything_is_created() {
    if skip() {
        return;
    }
    let c = chain();
    let s = site(c, 2245, 5, 3, false, &|_, _| {});
    let o = s.command(c, 3, &["--memory", "5000"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("L3 would get 904 MiB") && e.contains("needs 2048 MiB"),
        "{e}"
    );
    assert!(s.log(0).is_empty(), "{:?}", s.log(0));
    assert_eq!(
        s.state(0)["vms"].as_array().unwrap().len(),
        1,
        "only the user's VM"
    );
}

#[test]
fn a_level_turned_off_outside_nestbench_is_diagnosed_as_lost() {
    if skip() {
        return;
    }
    let c = chain();
    let s = site(c, 2246, 6, 2, true, &|_, _| {});
    // L1's VM is turned off on the host while its agent starts.
    let host_state = s.sim.state.clone();
    s.edit_guest_state(1, |d| {
        d["host"]["turned_off_during_agent"] = json!(host_state)
    });
    let (o, doc) = s.run(c, 2, &[]);
    assert_eq!(o.status.code(), Some(4), "partial");
    match &doc.levels[1].outcome {
        Some(LevelOutcome::Lost { lost, reason }) => {
            assert_eq!(lost.0, 1);
            assert!(reason.contains("is Off on Hyper-V host"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(doc.levels[2].status, LevelStatus::Skipped);
    let host = s.log(0);
    assert!(
        position(&host, "turned off outside nestbench:") < position(&host, "remove_vm:"),
        "{host:?}"
    );
    s.assert_clean();
}

#[test]
fn a_base_without_the_hyper_v_role_is_measured_and_its_child_skipped_with_the_fix() {
    if skip() {
        return;
    }
    let c = chain();
    let s = site(c, 2247, 7, 2, true, &|_, _| {});
    s.edit_guest_state(1, |d| d["host"]["hyperv"] = json!(false));
    let (o, doc) = s.run(c, 2, &[]);
    assert_eq!(o.status.code(), Some(4), "partial");
    assert_eq!(doc.levels[1].status, LevelStatus::Ok);
    let h = doc.levels[1].hosting.clone().unwrap();
    assert!(
        !h.can_host && h.detail.contains("Enable-WindowsOptionalFeature"),
        "{h:?}"
    );
    assert_eq!(doc.levels[2].status, LevelStatus::Skipped);
    // Nothing was made inside L1.
    assert!(s.log(1).is_empty(), "{:?}", s.log(1));
    s.assert_clean();
}
