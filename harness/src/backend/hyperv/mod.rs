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

pub mod keys;
pub mod ops;
pub mod plan;
pub mod stack;

use super::{Backend, BackendError, BackendErrorKind, Capacity, Provisioned};
use crate::cleanup::HookGuard;
use crate::config::HypervOptions;
use crate::powershell::join;
use crate::remote::identify::Os;
use crate::remote::ssh::SshRemote;
use model::rundoc::{Hosting, HypervLevel, LevelEnv, Provenance};
use model::{Accel, HostInfo, Level};
use stack::{Endpoint, Ledger, Machine, Made};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

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
        let keys = keys::generate(&dir, levels).map_err(|e| format!("{e:#}"))?;
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

    /// The VHDX level `n` boots, as a path on machine `n - 1`: for L1 the host's file,
    /// deeper ones copied in hop by hop from the host.
    fn parent_disk(&mut self, n: u32, say: &mut dyn FnMut(&str)) -> anyhow::Result<String> {
        let p = &self.plan[n as usize - 1];
        let mut source = match p.image {
            plan::Image::Base => self.opts.base_vhdx.clone(),
            plan::Image::Leaf => self.opts.leaf_vhdx.clone().unwrap_or_default(),
        };
        for j in 0..(n as usize - 1) {
            let into = self.machine(j + 1);
            let dest = join(
                &into.scratch,
                &format!("nestbench-{}-L{n}-parent.vhdx", self.id),
            );
            let vm = self.vm_name(j as u32 + 1);
            say(&format!("copy the VHDX into L{}", j + 1));
            let scratch = self.machine(j).scratch;
            ops::copy_into(self.ctl(j)?, &vm, &source, &dest, &scratch)?;
            source = dest;
        }
        Ok(source)
    }

    fn bring_up(&mut self, n: u32, say: &mut dyn FnMut(&str)) -> anyhow::Result<Provisioned> {
        let t0 = Instant::now();
        let p = self.plan[n as usize - 1].clone();
        let k = n as usize - 1;
        let parent = self.parent_disk(n, say)?;
        let on = self.machine(k);
        let vm = self.vm_name(n);
        let host_key = self.keys.host_keys[k].clone();
        let new = ops::NewVm {
            vm: vm.clone(),
            parent,
            disk: join(&on.scratch, &format!("{vm}.vhdx")),
            config_disk: join(&on.scratch, &format!("{vm}-config.vhdx")),
            switch: self.opts.switch.clone(),
            memory_bytes: p.memory_mib << 20,
            linux: !p.windows(),
            files: keys::config_files(&vm, &host_key, &self.keys.client_public),
        };
        say("create the VM");
        self.ctl(k)?; // opened before the ledger is held: opening reads it
        let created = {
            // Held while the VM is made: the interrupt hook then sees it in the ledger
            // and removes it, or has closed the ledger and nothing is made.
            let ledger = self.ledger.clone();
            let mut l = lock(&ledger);
            if l.closed {
                anyhow::bail!("interrupted");
            }
            l.made.push(Made {
                level: n,
                vm: vm.clone(),
                disks: vec![new.disk.clone(), new.config_disk.clone()],
            });
            ops::create(self.ctl(k)?, &new, &on.scratch)?
        };
        say("nesting settings");
        let steps = ops::nesting_steps(p.cpus, p.memory_mib);
        let settings = ops::apply(self.ctl(k)?, &vm, &steps, &on.scratch)?;
        say("start");
        ops::start(self.ctl(k)?, &vm, &on.scratch)?;
        say("wait for its address");
        let deadline = Instant::now() + self.opts.boot_timeout;
        let address = loop {
            if crate::cleanup::interrupted() {
                anyhow::bail!("interrupted");
            }
            let a = ops::addresses(self.ctl(k)?, &vm, &on.scratch)?;
            if let Some(ip) = a.ipv4() {
                break ip.to_string();
            }
            if Instant::now() >= deadline {
                anyhow::bail!(
                    "VM {vm} reported no IPv4 address through the integration services within {} s (state {}): is the guest's network up on switch {}?",
                    self.opts.boot_timeout.as_secs(),
                    a.state,
                    self.opts.switch
                );
            }
            std::thread::sleep(Duration::from_millis(500));
        };
        let endpoint = Endpoint {
            name: format!("L{n}"),
            host: address,
            port: 22,
            user: self.opts.guest_user.clone(),
            key: self.keys.client_key.clone(),
            pinned: Some(host_key.public_b64()),
            known_hosts: None,
            accept_new: false,
        };
        say("connect");
        let mut machines = lock(&self.ledger).machines.clone();
        machines.truncate(n as usize);
        machines.push(Machine {
            endpoint: endpoint.clone(),
            scratch: String::new(),
        });
        let mut remote = loop {
            match stack::connect(&machines, n as usize, self.opts.connect_timeout) {
                Ok(r) => break r,
                Err(e) if Instant::now() >= deadline || crate::cleanup::interrupted() => {
                    return Err(e)
                }
                Err(_) => std::thread::sleep(Duration::from_secs(1)),
            }
        };
        let id = remote.identify(self.opts.connect_timeout)?;
        let workdir = super::inventory::default_workdir(&id);
        {
            let mut l = lock(&self.ledger);
            l.machines.truncate(n as usize);
            l.machines.push(Machine {
                endpoint,
                scratch: workdir.clone(),
            });
        }
        self.up.truncate(k);
        self.up.push(Up {
            hyperv_role: id.windows.as_ref().is_some_and(|w| w.hyperv_host),
            windows: id.probed.os == Os::Windows,
        });
        let env = LevelEnv {
            accel: Some(Accel::Unknown),
            vcpus: Some(p.cpus),
            memory_mib: Some(p.memory_mib),
            platform: Some(id.platform()),
            disk: Some(format!("differencing VHDX {} on {}", new.disk, new.parent)),
            network: Some(format!("Hyper-V switch {}", self.opts.switch)),
            hyperv: Some(HypervLevel {
                vm,
                host: if k == 0 {
                    self.facts.computer.clone()
                } else {
                    format!("L{k}")
                },
                hyperv_version: self.versions.get(k).cloned().unwrap_or_default(),
                config_version: created.version,
                memory_mib: p.memory_mib,
                processors: p.cpus,
                settings,
            }),
            ..LevelEnv::default()
        };
        // This level's Hyper-V, for the level it will host.
        if n < self.depth() && id.windows.as_ref().is_some_and(|w| w.hyperv_host) {
            let facts = ops::host_facts(&mut remote, &workdir).map(|f| f.hyperv_version);
            self.versions.truncate(n as usize);
            self.versions.push(facts.unwrap_or_default());
        }
        Ok(Provisioned {
            remote: Box::new(remote),
            env,
            provision_s: t0.elapsed().as_secs_f64(),
            site: crate::deploy::Site::at(workdir),
        })
    }
}

/// What `run --dry-run --backend hyperv` prints: the operations in the order a run
/// makes them, without contacting the host (the plan needs its free memory, so it is
/// made when the run starts).
pub fn dry_run_lines(levels: u32, h: &HypervOptions) -> Vec<String> {
    let mut out = vec![format!(
        "\nbackend hyperv ({}:{}), {levels} levels; the memory plan is made from the host's free memory when the run starts",
        h.host, h.port
    )];
    for n in 1..=levels {
        let on = if n == 1 {
            "the host".to_string()
        } else {
            format!("L{}", n - 1)
        };
        let image = match (&h.leaf_vhdx, n == levels) {
            (Some(leaf), true) => leaf,
            _ => &h.base_vhdx,
        };
        out.push(format!("\nL{n} (on {on}):"));
        if n > 1 {
            out.push(format!(
                "  hyperv_copy_file: {image} copied hop by hop into L{}",
                n - 1
            ));
        }
        out.push(format!("  hyperv_create_vm: a differencing disk on {image}, Generation 2, switch {}, the config disk", h.switch));
        let steps: Vec<&str> = ops::nesting_steps(2, 2048).iter().map(|s| s.op()).collect();
        out.push(format!("  hyperv_apply: {}", steps.join(", ")));
        out.push("  hyperv_start_vm".into());
        out.push(format!(
            "  hyperv_vm_address: polled for {} s",
            h.boot_timeout.as_secs()
        ));
        out.push(format!(
            "  connect: {}@ADDRESS with the stack's key, host key pinned",
            h.guest_user
        ));
    }
    out.push("\nteardown, deepest first: hyperv_remove_vm (Stop-VM -TurnOff -Force, Remove-VM), remove_files (the disks the run made)".into());
    out
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
            self.opts.switch
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
