//! The Hyper-V simulator of the tests (`hyperv_sim/simulator.py`, its header says what
//! it enforces) behind a real sshd at L1 of the namespace chain: never a real Hyper-V
//! host. It is also the tests' Windows level: it answers as cmd.exe or PowerShell and
//! runs nestbench's PowerShell operations by their JSON contract.

use super::netns::{Chain, ExtraSshd};
use serde_json::{json, Value};
use std::path::PathBuf;

/// The simulator script.
pub const SIMULATOR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hyperv_sim/simulator.py");

/// A simulated Hyper-V host: its sshd, state file and directory.
pub struct Sim {
    /// Its sshd.
    pub sshd: ExtraSshd,
    /// Its directory (the state file; its `temp`, where scripts and agents go).
    pub dir: tempfile::TempDir,
    /// The state file.
    pub state: PathBuf,
    /// The sshd's port at L1.
    pub port: u16,
}

/// A VM set up for nesting.
pub fn vm(name: &str) -> Value {
    json!({
        "name": name, "state": "Off", "version": "10.0", "expose": true, "count": 4,
        "dynamic": false, "startup_bytes": 8u64 << 30, "checkpoint_type": "Disabled",
        "automatic_checkpoints": false, "guest_os": "Microsoft Windows Server 2022 Standard",
        "adapters": [{"name": "Network Adapter", "mac_spoofing": "On", "switch": "External"}],
    })
}

/// A running VM that needs every fix (its guest hung: only a turn-off stops it).
pub fn needs_everything(name: &str) -> Value {
    let mut v = vm(name);
    for (k, x) in [
        ("state", json!("Running")),
        ("version", json!("7.1")),
        ("expose", json!(false)),
        ("count", json!(1)),
        ("dynamic", json!(true)),
        ("startup_bytes", json!(1u64 << 30)),
        ("checkpoint_type", json!("Production")),
        ("automatic_checkpoints", json!(true)),
        // Turned off, never asked to shut down: a hung guest must not matter.
        ("guest_hung", json!(true)),
        (
            "adapters",
            json!([
                {"name": "Network Adapter", "mac_spoofing": "Off", "switch": "External"},
                {"name": "NAT", "mac_spoofing": "Off", "switch": "Internal"},
            ]),
        ),
    ] {
        v[k] = x;
    }
    v
}

/// A simulated host.
pub fn host(shell: &str, vendor: &str, build: u32, max_version: &str) -> Value {
    json!({
        "computer": "HV-SIM", "caption": "Microsoft Windows Server (simulated)", "build": build,
        "cpu_vendor": vendor, "cpu_name": "simulated CPU", "max_config_version": max_version,
        "shell": shell, "admin": true, "hyperv": true,
    })
}

impl Sim {
    /// A simulator behind an extra sshd at L1 on `port`, with `host` and `vms`.
    pub fn start(c: &Chain, port: u16, host: Value, vms: Vec<Value>) -> Sim {
        let dir = super::scenario_dir();
        let state = dir.path().join("state.json");
        let mut host = host;
        host["temp"] = json!(dir.path().display().to_string());
        std::fs::write(
            &state,
            json!({"host": host, "vms": vms, "log": []}).to_string(),
        )
        .unwrap();
        let force = format!(
            "ForceCommand /usr/bin/python3 {SIMULATOR} {}",
            state.display()
        );
        Sim {
            sshd: c.extra_sshd(1, port, &force, ""),
            dir,
            state,
            port,
        }
    }

    /// The state as it is now.
    pub fn doc(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(&self.state).unwrap()).unwrap()
    }

    /// Every change made, in order.
    pub fn log(&self) -> Vec<String> {
        let d = self.doc();
        d["log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    }
}
