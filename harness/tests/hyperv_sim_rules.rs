//! The **Hyper-V simulator**'s rules, one test each, run on the simulator alone (no
//! sshd, no namespace: the script goes in as `SSH_ORIGINAL_COMMAND`, exactly as sshd
//! would hand it over). Each shows the wrong order refused, or hanging, where
//! Hyper-V's documentation says it is — so hyperv_backend.rs's runs, which pass only
//! in the right order, show that the backend keeps it. Never a real Hyper-V host.
//!
//! Needs python3; skipped with a reason otherwise, failed under `CI=true`.

mod common;

use common::sim::{host, SIMULATOR};
use common::testreq::require_tool;
use nestbench::powershell::{self, scripts};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Machine {
    dir: tempfile::TempDir,
    state: PathBuf,
    base: PathBuf,
}

/// A simulated host with one guest stand-in that only reports its address.
fn machine(guest: Value) -> Machine {
    let dir = common::scenario_dir();
    let state = dir.path().join("state.json");
    let mut h = host("powershell", "GenuineIntel", 20348, "10.0");
    h["temp"] = json!(dir.path());
    let pool = json!([guest, guest, guest]);
    std::fs::write(
        &state,
        json!({"host": h, "vms": [], "log": [], "guests": pool}).to_string(),
    )
    .unwrap();
    let base = dir.path().join("base.vhdx");
    std::fs::write(&base, b"base").unwrap();
    Machine { dir, state, base }
}

fn plain() -> Value {
    json!({"netns": null, "addr": "10.214.255.9", "state": null, "dir": "/nonexistent", "address_delay_s": 0.0, "hung": false})
}

impl Machine {
    /// Run `op` with `input` (the script changed by `edit`): exit code (None: still
    /// running after `limit`, then killed) and the JSON it printed.
    fn call_edited(
        &self,
        op: &scripts::Op,
        input: Value,
        edit: fn(String) -> String,
        limit: Duration,
    ) -> (Option<i32>, Value) {
        let script = edit(scripts::assemble(op, &input));
        let cmd = format!(
            "{} -EncodedCommand {}",
            powershell::POWERSHELL,
            powershell::encode(&script)
        );
        let mut child = Command::new("/usr/bin/python3")
            .arg(SIMULATOR)
            .arg(&self.state)
            .env("SSH_ORIGINAL_COMMAND", cmd)
            .stdout(Stdio::piped())
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
        let mut out = String::new();
        if code.is_some() {
            use std::io::Read;
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
        }
        (code, powershell::reply(&out).unwrap_or(Value::Null))
    }

    fn call(&self, op: &scripts::Op, input: Value) -> (Option<i32>, Value) {
        self.call_edited(op, input, |s| s, Duration::from_secs(20))
    }

    fn create(&self, vm: &str, parent: &Path) -> (Option<i32>, Value) {
        let d = self.dir.path();
        self.call(&scripts::HYPERV_CREATE_VM, json!({
            "vm": vm, "parent": parent, "disk": d.join(format!("{vm}.vhdx")),
            "config_disk": d.join(format!("{vm}-config.vhdx")), "switch": "External",
            "memory_bytes": 4u64 << 30, "linux": false, "files": {"nestbench/authorized_keys": "k"},
        }))
    }

    fn log(&self) -> Vec<String> {
        let doc: Value =
            serde_json::from_str(&std::fs::read_to_string(&self.state).unwrap()).unwrap();
        doc["log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    }

    fn disk(&self, vm: &str) -> PathBuf {
        self.dir.path().join(format!("{vm}.vhdx"))
    }
}

fn skip() -> bool {
    !require_tool("/usr/bin/python3", "python3")
}

#[test]
fn nesting_settings_are_refused_once_the_vm_runs() {
    if skip() {
        return;
    }
    let m = machine(plain());
    assert_eq!(m.create("a", &m.base).0, Some(0));
    let expose = json!({"vm": "a", "steps": [{"op": "expose_virtualization_extensions"}, {"op": "processor_count", "count": 2}]});
    // The backend's order: settings while Off, then start.
    assert_eq!(m.call(&scripts::HYPERV_APPLY, expose.clone()).0, Some(0));
    assert_eq!(
        m.call(&scripts::HYPERV_START_VM, json!({"vm": "a"})).0,
        Some(0)
    );
    // The wrong order: the same settings on the running VM are refused.
    let (code, out) = m.call(&scripts::HYPERV_APPLY, expose);
    assert_eq!(code, Some(1));
    assert!(
        out["failed"]["error"]
            .as_str()
            .unwrap()
            .contains("cannot be performed while the virtual machine is in its current state"),
        "{out}"
    );
    assert_eq!(
        m.log(),
        [
            "create_vm:a",
            "expose_virtualization_extensions",
            "processor_count",
            "start_vm:a",
            "refused:expose_virtualization_extensions"
        ]
    );
}

#[test]
fn remove_vm_leaves_the_disks_and_a_running_vm_s_disks_cannot_be_removed() {
    if skip() {
        return;
    }
    let m = machine(plain());
    m.create("a", &m.base);
    m.call(&scripts::HYPERV_START_VM, json!({"vm": "a"}));
    let disks = json!({"paths": [m.disk("a"), m.dir.path().join("a-config.vhdx")]});
    // Disks first, while the VM runs: refused, in use.
    let (code, out) = m.call(&scripts::REMOVE_FILES, disks.clone());
    assert_eq!(code, Some(1));
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("being used by another process"),
        "{out}"
    );
    // Remove-VM: the VM goes, its disks stay.
    let (code, out) = m.call(&scripts::HYPERV_REMOVE_VM, json!({"vm": "a"}));
    assert_eq!((code, out["removed"].as_bool()), (Some(0), Some(true)));
    assert!(m.disk("a").is_file(), "Remove-VM removed the disk");
    assert_eq!(m.call(&scripts::REMOVE_FILES, disks).0, Some(0));
    assert!(!m.disk("a").exists());
    assert!(m.base.is_file());
    // A VM already gone is not an error: teardown can run again.
    let (code, out) = m.call(&scripts::HYPERV_REMOVE_VM, json!({"vm": "a"}));
    assert_eq!((code, out["removed"].as_bool()), (Some(0), Some(false)));
}

#[test]
fn the_address_appears_only_after_the_guest_s_delay() {
    if skip() {
        return;
    }
    let mut g = plain();
    g["address_delay_s"] = json!(1.5);
    let m = machine(g);
    m.create("a", &m.base);
    let addr = |m: &Machine| {
        m.call(&scripts::HYPERV_VM_ADDRESS, json!({"vm": "a"})).1["addresses"].clone()
    };
    assert_eq!(addr(&m), json!([]), "an Off VM has no address");
    m.call(&scripts::HYPERV_START_VM, json!({"vm": "a"}));
    assert_eq!(addr(&m), json!([]), "the address came at once");
    std::thread::sleep(Duration::from_millis(1600));
    assert_eq!(addr(&m), json!(["10.214.255.9"]));
}

#[test]
fn a_stop_without_turn_off_hangs_on_a_hung_guest() {
    if skip() {
        return;
    }
    let mut g = plain();
    g["hung"] = json!(true);
    let m = machine(g);
    m.create("a", &m.base);
    m.call(&scripts::HYPERV_START_VM, json!({"vm": "a"}));
    let graceful = |s: String| s.replace("Stop-VM -VM $vm -TurnOff -Force", "Stop-VM -VM $vm");
    let (code, _) = m.call_edited(
        &scripts::HYPERV_REMOVE_VM,
        json!({"vm": "a"}),
        graceful,
        Duration::from_secs(3),
    );
    assert_eq!(code, None, "a graceful Stop-VM returned on a hung guest");
    // The script as the backend sends it turns the VM off at once.
    let (code, _) = m.call(&scripts::HYPERV_REMOVE_VM, json!({"vm": "a"}));
    assert_eq!(code, Some(0));
    assert_eq!(
        m.log()[2..],
        [
            "stop-vm waiting on a hung guest",
            "turn_off:a",
            "remove_vm:a"
        ]
    );
}

#[test]
fn a_differencing_disk_on_a_missing_or_busy_parent_is_refused() {
    if skip() {
        return;
    }
    let m = machine(plain());
    // The parent not there yet (a child VHDX not copied in first).
    let missing = m.dir.path().join("not-copied.vhdx");
    let (code, out) = m.create("early", &missing);
    assert_eq!(code, Some(1));
    assert!(
        out["error"].as_str().unwrap().contains("cannot be found"),
        "{out}"
    );
    // The parent attached to a running VM.
    m.create("a", &m.base);
    m.call(&scripts::HYPERV_START_VM, json!({"vm": "a"}));
    let (code, out) = m.create("b", &m.disk("a"));
    assert_eq!(code, Some(1));
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("being used by another process"),
        "{out}"
    );
    assert!(!m.disk("b").exists() && !m.disk("early").exists());
    // Copy-VMFile into an Off VM is refused; into a running one it copies.
    m.create("c", &m.base);
    let copy = json!({"vm": "c", "source": m.base, "destination": m.dir.path().join("copy.vhdx")});
    assert_eq!(m.call(&scripts::HYPERV_COPY_FILE, copy.clone()).0, Some(1));
    m.call(&scripts::HYPERV_START_VM, json!({"vm": "c"}));
    assert_eq!(m.call(&scripts::HYPERV_COPY_FILE, copy).0, Some(0));
    assert!(m.dir.path().join("copy.vhdx").is_file());
    assert_eq!(
        m.log(),
        [
            "refused:create_vm:early",
            "create_vm:a",
            "start_vm:a",
            "refused:create_vm:b",
            "create_vm:c",
            "refused:copy_file:c",
            "start_vm:c",
            "copy_file:c"
        ]
    );
}
