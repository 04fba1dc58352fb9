//! The QEMU backend (docs/qemu.md): L1 started by nestbench on the host, each deeper
//! level started by the controller over SSH inside its parent, from the same image,
//! which reaches every level on the read-only chain disk. docs/qemu.md describes the
//! whole stack: image, disks, networking, acceleration and tuning.

pub mod agentdrive;
pub mod argv;
mod bringup;
pub mod disk;
pub mod error;
pub mod hosting;
pub mod keys;
pub mod launch;
pub mod nesting;
pub mod netpeer;
pub mod postmortem;
pub mod ready;
pub mod relaunch;
pub mod spec;
pub mod stack;
pub mod state;

use super::{Backend, BackendError, Capacity, Provisioned};
use crate::config::QemuOptions;
use crate::image::Image;
use crate::plan::{self, Machine, Plan};
use argv::Accel;
use error::SetupError;
use launch::Chosen;
use model::rundoc::{Hosting, ImageRecord, Provenance, QemuRecord};
use model::{HostInfo, Level};
use stack::Stack;
use std::path::{Path, PathBuf};

/// Where guests keep per-level files (tmpfs): child keys, consoles, pid files.
pub const GUEST_RUN: &str = "/run/nestbench";

/// Level `n`'s QEMU output in its parent (n ≥ 2): the launch's redirect and `-D`.
pub fn guest_qemu_log(n: u32) -> String {
    format!("{GUEST_RUN}/L{n}.qemu.log")
}

/// Provisions QEMU levels, one inside the other.
pub struct QemuBackend {
    plan: Plan,
    opts: QemuOptions,
    image: Image,
    run_dir: PathBuf,
    qemu: String,
    qemu_version: String,
    ports: Vec<u16>,
    /// Every level's net.tcp port (index 0 = L1), forwarded by its QEMU.
    net_ports: Vec<u16>,
    scratch_base: PathBuf,
    stack: Option<Stack>,
    keep: bool,
    /// L1's acceleration, decided from this host when the backend was made.
    l1: Chosen,
    /// Acceleration of each level provisioned so far (index 0 = L1).
    accels: Vec<Accel>,
    /// Version of the image's QEMU, asked once in L1: every guest runs the same one.
    guest_qemu_version: Option<String>,
    /// Relaunches so far (`relaunch`): names the logs each one kept.
    relaunches: u32,
    /// While a relaunch brings levels back up that are not measured again.
    relaunching: bool,
}

impl QemuBackend {
    /// Plan `depth` levels on this host, refusing (one line) what doesn't fit, then get
    /// the guest image from `image` (built only when the plan stands).
    pub fn new(
        depth: u32,
        opts: &QemuOptions,
        run_dir: &Path,
        keep: bool,
        image: impl FnOnce() -> anyhow::Result<Image>,
    ) -> Result<Self, SetupError> {
        let qemu = opts.qemu.as_ref().map_or_else(
            || "qemu-system-x86_64".to_string(),
            |p| p.display().to_string(),
        );
        let qemu_version = launch::qemu_version(&qemu)?;
        let scratch_base = std::env::var_os("NESTBENCH_SCRATCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let host = plan::HostResources::probe(&scratch_base);
        let plan = plan::make(depth, opts.memory_mib, opts.cpus, opts.accel, &host)?;
        let l1 = launch::host_accel(opts.accel)?;
        let mut ports = ready::free_ports(2 * depth as usize).map_err(SetupError::Ports)?;
        let net_ports = ports.split_off(depth as usize);
        let image = image().map_err(SetupError::Image)?;
        Ok(QemuBackend {
            plan,
            opts: opts.clone(),
            image,
            run_dir: run_dir.to_path_buf(),
            qemu,
            qemu_version,
            ports,
            net_ports,
            scratch_base,
            stack: None,
            keep,
            l1,
            accels: vec![],
            guest_qemu_version: None,
            relaunches: 0,
            relaunching: false,
        })
    }

    fn port(&self, n: u32) -> u16 {
        self.ports[n as usize - 1]
    }

    /// The net.tcp ports when this run measures net.tcp, else none.
    fn net_ports(&self) -> &[u16] {
        if self.opts.net_peer.is_some() {
            &self.net_ports
        } else {
            &[]
        }
    }
}

/// The plan, one line per level (vCPUs, memory, machine, accel, scratch, ssh port),
/// printed before a run starts and by `run --dry-run`; `l1` is L1's acceleration as
/// decided on this host, `ports` every level's sshd port (index 0 = L1), `net_ports`
/// their net.tcp ports (empty when net.tcp is not run).
pub fn plan_lines(plan: &Plan, l1: &Chosen, ports: &[u16], net_ports: &[u16]) -> Vec<String> {
    let Chosen { accel: a1, why } = l1;
    let depth = plan.levels.len() as u32;
    let tcg_forced = plan.accel == crate::cli::AccelArg::Tcg;
    let column = nesting::expected_column(*a1, tcg_forced, depth);
    plan.levels
        .iter()
        .map(|l| {
            let column = column[l.level as usize - 1];
            let vcpus = if column && l.vcpus == 1 {
                "2 vCPUs (the second online once its child starts)".to_string()
            } else {
                format!("{} vCPUs", l.vcpus)
            };
            let accel = match (l.level, plan.accel) {
                (1, _) => format!("{} ({why})", a1.as_str()),
                (_, crate::cli::AccelArg::Auto) => "kvm if its parent shows svm/vmx, else tcg".into(),
                (_, a) => format!("{a:?}").to_lowercase(),
            };
            let machine = match l.machine {
                Machine::Pc => "pc+qboot",
                Machine::Microvm => "microvm",
            };
            let net = net_ports
                .get(l.level as usize - 1)
                .map_or(String::new(), |p| format!(", net.tcp port {p}"));
            format!(
                "L{}: {vcpus}, {} MiB, {machine}{}, accel {accel}, scratch ext4 {} MiB{net}, ssh 127.0.0.1:{}",
                l.level, l.memory_mib, if l.leaf { ", leaf image" } else { "" }, l.fs_mib, ports[l.level as usize - 1]
            )
        })
        .collect()
}

impl Backend for QemuBackend {
    fn name(&self) -> &'static str {
        "qemu"
    }

    fn depth(&self) -> u32 {
        self.plan.levels.len() as u32
    }

    fn capacity(&self) -> Option<Capacity> {
        let l = self.plan.levels.last()?;
        Some(Capacity {
            memory_mib: l.memory_mib,
            disk_mib: l.fs_mib,
        })
    }

    fn describe_plan(&self) -> Vec<String> {
        plan_lines(&self.plan, &self.l1, &self.ports, self.net_ports())
    }

    fn record_provenance(&self, p: &mut Provenance) {
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        p.image = Some(ImageRecord {
            digest: self.image.digest.clone(),
            kernel_package: Some(self.image.kernel_package.clone()),
        });
        p.qemu = Some(QemuRecord {
            l1_binary: self.qemu.clone(),
            l1_version: Some(self.qemu_version.clone()),
            kernel_override: path(&self.opts.kernel),
            initrd_override: path(&self.opts.initrd),
        });
    }

    fn provision(
        &mut self,
        level: Level,
        say: &mut dyn FnMut(&str),
    ) -> Result<Provisioned, BackendError> {
        if level.is_host() {
            return Ok(super::host::local_level());
        }
        self.bring_up(level.0, say)
    }

    fn hosting(&self, level: Level, info: &HostInfo) -> Option<Hosting> {
        (level.0 < self.depth()).then(|| hosting::verdict(self.plan.accel, level, info))
    }

    fn relaunch_budget(&self) -> u32 {
        self.opts.relaunch
    }

    fn relaunch(
        &mut self,
        from: Level,
        to: Level,
        say: &mut dyn FnMut(&str),
    ) -> Result<(), BackendError> {
        self.relaunch_levels(from.0, to.0, say)
    }

    fn diagnose(&mut self, level: Level) -> Option<(Level, String)> {
        let loss = self.first_gone(level.0)?;
        Some((Level(loss.level), loss.full()))
    }

    fn keep(&mut self, run_dir: &Path) -> anyhow::Result<Vec<String>> {
        let up = self.stack.as_ref().map_or(0, |s| s.up);
        for n in 2..=up {
            self.console(n);
        }
        let Some(mut stack) = self.stack.take() else {
            return Ok(vec![]);
        };
        let up = stack.up;
        stack.ctl.clear();
        let Some((child, guard)) = stack.l1.take() else {
            return Ok(vec![]);
        };
        let known_hosts = stack.dir.path().join("known_hosts");
        let mut kh = String::new();
        for n in 1..=up {
            kh.push_str(&format!(
                "[127.0.0.1]:{} {}\n",
                self.port(n),
                stack.keys.host_keys[n as usize - 1].public_line
            ));
        }
        std::fs::write(&known_hosts, kh)?;
        let st = state::StackState {
            pid: child.id() as i32,
            dir: stack.dir.path().to_path_buf(),
            key: stack.keys.client_key.clone(),
            known_hosts,
            levels: (1..=up)
                .map(|n| state::KeptLevel {
                    level: n,
                    port: self.port(n),
                })
                .collect(),
        };
        st.write(run_dir)?;
        guard.release();
        stack.dir.release();
        let mut lines: Vec<String> = st
            .levels
            .iter()
            .map(|l| format!("L{}: {}", l.level, st.ssh_command(l)))
            .collect();
        lines.push(format!(
            "stack kept; remove it with: nestbench down {}",
            run_dir.display()
        ));
        Ok(lines)
    }

    fn teardown(&mut self) -> anyhow::Result<()> {
        let up = self.stack.as_ref().map_or(0, |s| s.up);
        for n in (2..=up).rev() {
            self.console(n);
        }
        if let Some(mut stack) = self.stack.take() {
            stack.ctl.clear();
            stack.l1.take(); // terminates L1's QEMU, and with it every level
        }
        Ok(())
    }
}
