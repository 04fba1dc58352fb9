//! The Hyper-V backend (docs/hyperv.md, "`--backend hyperv`"): the nested stack built
//! on a Hyper-V host over SSH. L0 is the machine running nestbench; L1 is a VM created
//! on the host; Ln is a VM created inside L(n-1), a Windows guest with the Hyper-V
//! role, reached through the jump chain host → L1 → … → L(n-1). The deepest level may
//! boot a Linux VHDX instead (`--leaf-vhdx`).
//!
//! Each level, on the machine that hosts it: its parent VHDX copied in first (for L2
//! and deeper, Copy-VMFile hop by hop from the host: `hyperv_copy_file`), the VM
//! created Off on a differencing disk with a config disk holding the stack's keys
//! ([`keys`]), the nesting settings applied while it is Off (Hyper-V refuses them
//! later), started, its address polled from the integration services with a timeout,
//! then SSH with the per-stack key and the pinned host key. Teardown is deepest first
//! on every path, SIGINT included ([`stack`]). The plan is made and checked before
//! anything is created ([`plan`]).
//!
//! Not run against a real Hyper-V host: tested against the simulator
//! (harness/tests/hyperv_backend.rs).

pub mod dryrun;
pub mod keys;
mod level;
pub mod ops;
pub mod plan;
pub mod stack;

use super::{Backend, BackendError, BackendErrorKind, Capacity, Provisioned};
use crate::cleanup::HookGuard;
use crate::config::HypervOptions;
use crate::remote::identify::Os;
use crate::remote::ssh::SshRemote;
use model::rundoc::{Hosting, Provenance};
use model::{HostInfo, Level};
use stack::{Ledger, Machine};
use std::sync::{Arc, Mutex, MutexGuard};

/// What the backend keeps about a level it brought up.
struct Up {
    /// Whether it has the Hyper-V role (os_facts), for [`Backend::hosting`].
    hyperv_role: bool,
    /// Whether it answered as Windows.
    windows: bool,
}

/// Nested Hyper-V VMs.
pub struct HypervBackend {
    opts: HypervOptions,
    plan: Vec<plan::LevelPlan>,
    facts: ops::HostFacts,
    keys: keys::StackKeys,
    /// A stack id, in every VM's and file's name.
    id: String,
    /// Control connections: index 0 the Hyper-V host, k the level Lk (opened when Lk
    /// first hosts a level).
    ctl: Vec<Option<SshRemote>>,
    /// Hyper-V version of each machine that hosts a level (index as `ctl`).
    versions: Vec<String>,
    up: Vec<Up>,
    ledger: Arc<Mutex<Ledger>>,
    _hook: HookGuard,
}

fn lock(l: &Mutex<Ledger>) -> MutexGuard<'_, Ledger> {
    l.lock().unwrap_or_else(|p| p.into_inner())
}

impl HypervBackend {
    /// Connect to the Hyper-V host, read what it offers and plan `levels` levels; a
    /// plan that cannot fit is refused here, before anything is created.
    pub fn connect(levels: u32, opts: &HypervOptions) -> Result<HypervBackend, String> {
        let host = opts.host_endpoint();
        let t = host.target();
        let mut remote =
            SshRemote::connect(&t, &[], opts.connect_timeout).map_err(|e| e.to_string())?;
        let id = remote
            .identify(opts.connect_timeout)
            .map_err(|e| e.to_string())?;
        let Some(win) = id.windows.as_ref().filter(|_| id.probed.os == Os::Windows) else {
            return Err(format!(
                "{} is not Windows: --backend hyperv needs a Hyper-V host",
                t.endpoint()
            ));
        };
        let scratch = win.temp.clone();
        let facts =
            ops::host_facts(&mut remote, &scratch).map_err(|e| format!("{}: {e}", t.endpoint()))?;
        let plan = plan::make(
            plan::Request {
                levels,
                memory_mib: opts.memory_mib,
                cpus: opts.cpus,
                linux_leaf: opts.leaf_vhdx.is_some(),
            },
            plan::HostCapacity {
                cpus: facts.logical_processors,
                memory_free_mib: facts.memory_free_bytes >> 20,
            },
        )
        .map_err(|e| format!("the Hyper-V plan does not fit on {}: {e}", facts.computer))?;
        let dir = tempfile::Builder::new()
            .prefix("nestbench-hyperv-")
            .tempdir()
            .map_err(|e| format!("cannot make the stack's key directory: {e}"))?
            .keep();
        let keys = keys::generate(&dir, levels).map_err(|e| {
            let _ = std::fs::remove_dir_all(&dir);
            format!("{e:#}")
        })?;
        let ledger = Arc::new(Mutex::new(Ledger {
            machines: vec![Machine {
                endpoint: host,
                scratch,
            }],
            made: vec![],
            dir: Some(dir),
            closed: false,
        }));
        let hook_ledger = ledger.clone();
        let hook = HookGuard::new(move || {
            let mut l = lock(&hook_ledger);
            if let Err(e) = stack::teardown(&mut l, &mut |s| eprintln!("nestbench: {s}")) {
                eprintln!("nestbench: warning: teardown: {e:#}");
            }
        });
        Ok(HypervBackend {
            opts: opts.clone(),
            plan,
            versions: vec![facts.hyperv_version.clone()],
            facts,
            keys,
            id: format!("{:08x}", rand::random::<u32>()),
            ctl: vec![Some(remote)],
            up: vec![],
            ledger,
            _hook: hook,
        })
    }

    fn vm_name(&self, n: u32) -> String {
        format!("nestbench-{}-L{n}", self.id)
    }

    fn machine(&self, k: usize) -> Machine {
        lock(&self.ledger).machines[k].clone()
    }

    /// The control connection to machine `k` (the host, or Lk), opened on first use.
    fn ctl(&mut self, k: usize) -> anyhow::Result<&mut SshRemote> {
        if self.ctl.len() <= k {
            self.ctl.resize_with(k + 1, || None);
        }
        if self.ctl[k].is_none() {
            let machines = lock(&self.ledger).machines.clone();
            self.ctl[k] = Some(stack::connect(&machines, k, self.opts.connect_timeout)?);
        }
        Ok(self.ctl[k].as_mut().expect("just opened"))
    }
}

impl Backend for HypervBackend {
    fn name(&self) -> &'static str {
        "hyperv"
    }

    fn depth(&self) -> u32 {
        self.plan.len() as u32
    }

    fn capacity(&self) -> Option<Capacity> {
        None
    }

    fn describe_plan(&self) -> Vec<String> {
        let mut out = vec![format!(
            "Hyper-V host {} ({}, Hyper-V {}, {} logical processors, {} MiB free), switch {}",
            self.opts.host,
            self.facts.computer,
            self.facts.hyperv_version,
            self.facts.logical_processors,
            self.facts.memory_free_bytes >> 20,
            self.opts.switch.describe()
        )];
        for p in &self.plan {
            let (img, os) = match p.image {
                plan::Image::Base => (&self.opts.base_vhdx, "Windows"),
                plan::Image::Leaf => (self.opts.leaf_vhdx.as_ref().expect("planned"), "Linux"),
            };
            out.push(format!(
                "L{}: {} vCPUs, {} MiB static, {os}, differencing disk on {img}, inside {}",
                p.level,
                p.cpus,
                p.memory_mib,
                if p.level == 1 {
                    "the host".to_string()
                } else {
                    format!("L{}", p.level - 1)
                }
            ));
        }
        out
    }

    fn record_provenance(&self, _: &mut Provenance) {}

    fn provision(
        &mut self,
        level: Level,
        say: &mut dyn FnMut(&str),
    ) -> Result<Provisioned, BackendError> {
        if level.is_host() {
            return Ok(super::host::local_level());
        }
        if level.0 > self.depth() {
            return Err(BackendError::new(
                level,
                BackendErrorKind::NotPlanned {
                    depth: self.depth(),
                },
            ));
        }
        self.bring_up(level.0, say).map_err(|e| {
            let kind = if crate::cleanup::interrupted() {
                BackendErrorKind::Interrupted
            } else {
                BackendErrorKind::Hyperv(format!("{e:#}"))
            };
            BackendError::new(level, kind)
        })
    }

    /// A Windows level that must host the next one needs the Hyper-V role, which only
    /// the base image can bring (enabling it needs a reboot).
    fn hosting(&self, level: Level, _info: &HostInfo) -> Option<Hosting> {
        if level.is_host() || level.0 >= self.depth() {
            return None;
        }
        let up = self.up.get(level.0 as usize - 1)?;
        Some(if up.windows && up.hyperv_role {
            Hosting {
                can_host: true,
                detail: "Windows with the Hyper-V role".into(),
            }
        } else {
            Hosting {
                can_host: false,
                detail: "the base VHDX has no Hyper-V role: enable it in the image (Enable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V -All, then a reboot)".into(),
            }
        })
    }

    /// Asks each machine hosting `level` or a level above it whether the VM still
    /// runs (fresh connections: the run's own may be what broke); the shallowest VM
    /// found not Running is the one the stack lost.
    fn diagnose(&mut self, level: Level) -> Option<(Level, String)> {
        let ledger = lock(&self.ledger).clone();
        for m in ledger.made.iter().filter(|m| m.level <= level.0) {
            let k = m.level as usize - 1;
            let Ok(mut r) = stack::connect(&ledger.machines, k, self.opts.connect_timeout) else {
                continue;
            };
            let Ok(a) = ops::addresses(&mut r, &m.vm, &ledger.machines[k].scratch) else {
                continue;
            };
            if a.state != "Running" {
                let on = &ledger.machines[k].endpoint.name;
                return Some((
                    Level(m.level),
                    format!(
                        "VM {} is {} on {on} (turned off or crashed outside nestbench)",
                        m.vm, a.state
                    ),
                ));
            }
        }
        None
    }

    fn keep(&mut self, run_dir: &std::path::Path) -> anyhow::Result<Vec<String>> {
        self.ctl.clear();
        let mut l = lock(&self.ledger);
        stack::write(&l, run_dir)?;
        let lines = l
            .machines
            .iter()
            .skip(1)
            .map(|m| {
                format!(
                    "{}: {}@{} (host key pinned, key {}); `nestbench down {}` removes the stack",
                    m.endpoint.name,
                    m.endpoint.user,
                    m.endpoint.host,
                    m.endpoint.key.display(),
                    run_dir.display()
                )
            })
            .collect();
        // Kept: neither the drop nor a signal tears it down now.
        l.made.clear();
        l.dir = None;
        l.closed = true;
        Ok(lines)
    }

    fn teardown(&mut self) -> anyhow::Result<()> {
        self.ctl.clear();
        let mut l = lock(&self.ledger);
        stack::teardown(&mut l, &mut |s| crate::progress::note(s))
    }
}
