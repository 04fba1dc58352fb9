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
        self.create_edited(vm, parent, |s| s)
    }

    /// `hyperv_create_vm` with its script changed by `edit`.
    fn create_edited(
        &self,
        vm: &str,
        parent: &Path,
        edit: fn(String) -> String,
    ) -> (Option<i32>, Value) {
        let d = self.dir.path();
        let input = json!({
            "vm": vm, "parent": parent, "disk": d.join(format!("{vm}.vhdx")),
            "config_disk": d.join(format!("{vm}-config.vhdx")), "switch": "External",
            "memory_bytes": 4u64 << 30, "linux": false, "files": {"nestbench/authorized_keys": "k"},
        });
        let op = &scripts::HYPERV_CREATE_VM;
        self.call_edited(op, input, edit, Duration::from_secs(20))
    }

    /// The state file as it is now.
    fn doc(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(&self.state).unwrap()).unwrap()
    }

    /// Sets the host's `key` to `value` in the state file.
    fn set_host(&self, key: &str, value: Value) {
        let mut doc = self.doc();
        doc["host"][key] = value;
        std::fs::write(&self.state, doc.to_string()).unwrap();
    }

    fn log(&self) -> Vec<String> {
        self.doc()["log"]
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

/// The Guest Service Interface's Id ends in this on every host, in every language.
const GSI: &str = "6C09BB55-D683-4DA0-8931-C9BF705F6480";

/// The create script with the Guest Service Interface chosen by its English Name, as
/// it was before it was chosen by Id.
fn by_english_name(s: String) -> String {
    let (start, end) = ("$gsi = @(", "$gsi | Enable-VMIntegrationService");
    let (a, b) = (s.find(start).unwrap(), s.find(end).unwrap() + end.len());
    let by_name = "Enable-VMIntegrationService -VM $vm -Name 'Guest Service Interface'";
    format!("{}{by_name}{}", &s[..a], &s[b..])
}

#[test]
fn the_guest_service_interface_is_chosen_by_its_id_whatever_the_host_s_language() {
    if skip() {
        return;
    }
    // A host whose language names it otherwise (the Name is translated, the Id is not).
    let m = machine(plain());
    m.set_host(
        "integration_service_names",
        json!({ GSI: "Gastdienstschnittstelle" }),
    );
    // The script as sent: by Id, so Copy-VMFile works once the VM runs.
    assert_eq!(m.create("a", &m.base).0, Some(0));
    m.call(&scripts::HYPERV_START_VM, json!({"vm": "a"}));
    let copy = json!({"vm": "a", "source": m.base, "destination": m.dir.path().join("copy.vhdx")});
    assert_eq!(m.call(&scripts::HYPERV_COPY_FILE, copy).0, Some(0));
    // By its English Name: Hyper-V finds no such service here.
    let (code, out) = m.create_edited("b", &m.base, by_english_name);
    assert_eq!(code, Some(1));
    let err = out["error"].as_str().unwrap();
    assert!(
        err.contains("no integration service named 'Guest Service Interface'"),
        "{err}"
    );
    // The Id is 'Microsoft:<VMId>\<GUID>': equal to the bare GUID it never is.
    let bare = |s: String| s.replace("-like '*\\6C09BB55", "-eq '6C09BB55");
    let (code, out) = m.create_edited("c", &m.base, bare);
    assert_eq!(code, Some(1));
    let err = out["error"].as_str().unwrap();
    assert!(err.contains("0 integration services match"), "{err}");
    // New-VM had made both: they are there for teardown to remove, without the service.
    let doc = m.doc();
    let made: Vec<_> = doc["vms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap(),
                v["guest_service"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(made, [("a", true), ("b", false), ("c", false)]);
    assert!(
        doc["vms"][0]["id"]
            .as_str()
            .is_some_and(|id| id.len() == 36),
        "{doc}"
    );
    assert_eq!(
        m.log(),
        [
            "create_vm:a",
            "start_vm:a",
            "copy_file:a",
            "refused:create_vm:b",
            "refused:create_vm:c"
        ]
    );
    // On an English host the Name is found too: the refusal above is the language's.
    let en = machine(plain());
    assert_eq!(en.create_edited("a", &en.base, by_english_name).0, Some(0));
}
