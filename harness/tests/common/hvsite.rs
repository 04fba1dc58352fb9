//! A simulated Hyper-V site for `run --backend hyperv` tests (hyperv_backend.rs): the
//! Hyper-V **simulator** (never a real host) at L1 of the namespace chain, one guest
//! stand-in per level in the namespace below its parent (see hyperv_sim/simulator.py:
//! an sshd started on Start-VM with the VM's config-disk keys), the user's images, and
//! the checks that a run left nothing and made its operations in Hyper-V's order.

use super::netns::Chain;
use super::sim::{host, Sim};
use model::rundoc::RunDoc;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A simulated Hyper-V host with guest stand-ins for `levels` levels.
pub struct Site {
    pub sim: Sim,
    /// The user's images (never to be written).
    pub images: tempfile::TempDir,
    pub base: PathBuf,
    pub leaf: Option<PathBuf>,
    /// Per level: its guest's directory and, for a Windows level, its state file.
    pub guests: Vec<(tempfile::TempDir, Option<PathBuf>)>,
    pub out: tempfile::TempDir,
}

pub const BASE: &[u8] = b"simulated Windows Server 2022 VHDX with the Hyper-V role";

/// `edit(level, entry)` changes a level's pool entry (its address delay, a hung guest).
pub fn site(
    c: &Chain,
    port: u16,
    slot: u32,
    levels: usize,
    linux_leaf: bool,
    edit: &dyn Fn(usize, &mut Value),
) -> Site {
    let images = super::scenario_dir();
    let base = images.path().join("base.vhdx");
    std::fs::write(&base, BASE).unwrap();
    // The user's own VM, running on the host: nothing of it may be touched.
    let theirs = images.path().join("theirs.vhdx");
    std::fs::write(&theirs, b"the user's VM").unwrap();
    let mut users_vm = super::sim::vm("theirs");
    users_vm["state"] = json!("Running");
    users_vm["disks"] = json!([theirs]);
    let sim = Sim::start(
        c,
        port,
        host("cmd", "GenuineIntel", 20348, "10.0"),
        vec![users_vm],
    );
    let leaf = linux_leaf.then(|| {
        let p = images.path().join("leaf.vhdx");
        std::fs::write(&p, b"simulated Debian VHDX").unwrap();
        p
    });
    let mut guests = vec![];
    for k in 1..=levels {
        let dir = super::scenario_dir();
        let windows = !(linux_leaf && k == levels);
        let state = windows.then(|| dir.path().join("state.json"));
        guests.push((dir, state));
    }
    let entry = |k: usize| {
        let (dir, state) = &guests[k - 1];
        let mut e = json!({
            "netns": c.netns(k + 1), "addr": c.guest_address(k + 1, slot),
            "state": state, "dir": dir.path(), "address_delay_s": 1.5, "hung": false,
        });
        edit(k, &mut e);
        e
    };
    let mut doc = sim.doc();
    doc["guests"] = json!([entry(1)]);
    std::fs::write(&sim.state, doc.to_string()).unwrap();
    for k in 1..=levels {
        if let (dir, Some(state)) = &guests[k - 1] {
            let mut h = host("cmd", "GenuineIntel", 20348, "10.0");
            h["computer"] = json!(format!("L{k}-SIM"));
            h["temp"] = json!(dir.path());
            h["linux_agent"] = json!(super::static_agent());
            let pool = if k < levels {
                json!([entry(k + 1)])
            } else {
                json!([])
            };
            let doc = json!({"host": h, "vms": [], "log": [], "guests": pool});
            std::fs::write(state, doc.to_string()).unwrap();
        }
    }
    Site {
        sim,
        images,
        base,
        leaf,
        guests,
        out: super::scenario_dir(),
    }
}

impl Site {
    pub fn command(&self, c: &Chain, levels: u32, extra: &[&str]) -> Command {
        let agent = super::static_agent();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nestbench"));
        cmd.env("NESTBENCH_HISTORY", self.out.path().join("history.sqlite"))
            .args([
                "run",
                "--backend",
                "hyperv",
                "--levels",
                &levels.to_string(),
            ])
            .args(["--hyperv-host", &format!("root@{}", c.addrs[0])])
            .args([
                "--hyperv-port",
                &self.sim.port.to_string(),
                "--hyperv-accept-new",
            ])
            .arg("--hyperv-key")
            .arg(&c.client_key)
            .arg("--hyperv-known-hosts")
            .arg(self.out.path().join("known_hosts"))
            .arg("--base-vhdx")
            .arg(&self.base)
            .args([
                "--switch",
                "External",
                "--guest-user",
                "root",
                "--connect-timeout",
                "10",
            ])
            .args(["--suite", "smoke", "--only", "cpu.int"])
            .arg("--out")
            .arg(self.out.path().join("run"))
            .arg("--agent")
            .arg(&agent)
            .arg("--agent-windows")
            .arg(super::windows_agent().unwrap())
            .args(extra);
        if let Some(leaf) = &self.leaf {
            cmd.arg("--leaf-vhdx").arg(leaf);
        }
        cmd
    }

    pub fn run(&self, c: &Chain, levels: u32, extra: &[&str]) -> (Output, RunDoc) {
        let o = self.command(c, levels, extra).output().unwrap();
        eprintln!("{}", String::from_utf8_lossy(&o.stderr));
        (o, self.doc())
    }

    pub fn doc(&self) -> RunDoc {
        let text = std::fs::read_to_string(self.out.path().join("run/run.json")).expect("run.json");
        RunDoc::from_json(&text, "run.json").unwrap()
    }

    /// The state of the machine hosting level `k` (0: the host).
    pub fn state(&self, k: usize) -> Value {
        let path = if k == 0 {
            self.sim.state.clone()
        } else {
            self.guests[k - 1].1.clone().unwrap()
        };
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// Sets `key` of the host record of the machine hosting level `k` (0: the host).
    pub fn set_host(&self, k: usize, key: &str, value: Value) {
        let path = if k == 0 {
            self.sim.state.clone()
        } else {
            self.guests[k - 1].1.clone().unwrap()
        };
        let mut doc = self.state(k);
        doc["host"][key] = value;
        std::fs::write(path, doc.to_string()).unwrap();
    }

    pub fn log(&self, k: usize) -> Vec<String> {
        self.state(k)["log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    }

    /// Nothing left: no VM anywhere, no disk but the user's (unchanged), no guest sshd.
    pub fn assert_clean(&self) {
        let host_vms = self.state(0)["vms"].clone();
        assert_eq!(
            host_vms.as_array().unwrap().len(),
            1,
            "VMs left on the host: {host_vms}"
        );
        assert_eq!(host_vms[0]["name"], "theirs");
        assert_eq!(host_vms[0]["state"], "Running", "the user's VM was touched");
        for k in 1..self.guests.len() {
            if self.guests[k - 1].1.is_some() {
                assert_eq!(self.state(k)["vms"], json!([]), "VMs left on L{k}");
            }
        }
        let mut dirs: Vec<&Path> = vec![self.sim.dir.path()];
        dirs.extend(self.guests.iter().map(|g| g.0.path()));
        for d in dirs {
            let left: Vec<_> = std::fs::read_dir(d)
                .unwrap()
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    n.ends_with(".vhdx") || n.ends_with(".ps1") || n.starts_with("nestbench-agent")
                })
                .collect();
            assert!(left.is_empty(), "left in {}: {left:?}", d.display());
        }
        assert_eq!(
            std::fs::read(&self.base).unwrap(),
            BASE,
            "the base VHDX was written"
        );
        let imgs: Vec<_> = std::fs::read_dir(self.images.path()).unwrap().collect();
        assert_eq!(imgs.len(), 2 + usize::from(self.leaf.is_some()));
        let theirs = self.images.path().join("theirs.vhdx");
        assert_eq!(std::fs::read(theirs).unwrap(), b"the user's VM");
        for (dir, _) in &self.guests {
            let conf = dir.path().join("sshd.conf");
            let running = Command::new("pgrep")
                .arg("-f")
                .arg(conf.display().to_string())
                .output()
                .unwrap();
            assert!(
                running.stdout.is_empty(),
                "a guest sshd still runs: {}",
                conf.display()
            );
        }
        assert!(!self.out.path().join("run/hyperv-stack.json").exists());
    }
}

pub fn position(log: &[String], what: &str) -> usize {
    log.iter()
        .position(|l| l.starts_with(what))
        .unwrap_or_else(|| panic!("no {what} in {log:?}"))
}

/// What the host's (or a parent's) log must show for one level, in this order.
pub fn assert_level_order(log: &[String], vm_level: u32) {
    let vm = format!("-L{vm_level}");
    let create = position(log, "create_vm:");
    assert!(log[create].ends_with(&vm), "{log:?}");
    let start = position(log, "start_vm:");
    // Every nesting setting while the VM was off: between its creation and its start.
    for s in [
        "expose_virtualization_extensions",
        "processor_count",
        "dynamic_memory_off",
        "startup_memory",
        "checkpoints_off",
    ] {
        let at = position(log, s);
        assert!(
            create < at && at < start,
            "{s} not between create and start: {log:?}"
        );
    }
    // Off at once, then removed, then the disks Remove-VM leaves.
    let off = position(log, "turn_off:");
    let removed = position(log, "remove_vm:");
    let disk = position(log, "remove_file:");
    assert!(start < off && off < removed && removed < disk, "{log:?}");
    assert_eq!(
        log.iter().filter(|l| l.starts_with("remove_file:")).count(),
        2,
        "{log:?}"
    );
    assert!(!log.iter().any(|l| l.starts_with("refused:")), "{log:?}");
}

impl Site {
    /// Change the state of the machine hosting level `k`'s children (1: L1's Hyper-V).
    pub fn edit_guest_state(&self, k: usize, edit: impl FnOnce(&mut Value)) {
        let path = self.guests[k - 1].1.clone().unwrap();
        let mut doc: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        edit(&mut doc);
        std::fs::write(path, doc.to_string()).unwrap();
    }
}
