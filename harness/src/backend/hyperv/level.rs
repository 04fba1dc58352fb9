//! One level of a Hyper-V stack brought up, in the order Hyper-V needs (docs/hyperv.md,
//! "Each level, in this order"): the parent VHDX copied in hop by hop (L2 and deeper),
//! the VM created Off and recorded in the ledger while it is made (so an interrupt
//! removes it), the nesting settings applied while it is still Off, started, its
//! address polled from the integration services until `--boot-timeout`, then SSH
//! through the chain with the stack's key and the level's pinned host key.

use super::stack::{self, Endpoint, Machine, Made};
use super::{keys, lock, ops, plan, HypervBackend, Up};
use crate::backend::Provisioned;
use crate::powershell::join;
use crate::remote::identify::Os;
use model::rundoc::{HypervLevel, LevelEnv};
use model::Accel;
use std::time::{Duration, Instant};

impl HypervBackend {
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

    pub(super) fn bring_up(
        &mut self,
        n: u32,
        say: &mut dyn FnMut(&str),
    ) -> anyhow::Result<Provisioned> {
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
            switch: self.opts.switch.of(n).to_string(),
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
                    new.switch
                );
            }
            std::thread::sleep(Duration::from_millis(500));
        };
        let endpoint = Endpoint {
            name: format!("L{n}"),
            host: address,
            port: 22,
            user: if p.windows() {
                self.opts.guest_user.clone()
            } else {
                self.opts.leaf_user.clone()
            },
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
        let workdir = crate::backend::inventory::default_workdir(&id);
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
            network: Some(format!("Hyper-V switch {}", new.switch)),
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
        if n < self.plan.len() as u32 && id.windows.as_ref().is_some_and(|w| w.hyperv_host) {
            let facts = ops::host_facts(&mut remote, &workdir).map(|f| f.hyperv_version);
            self.versions.truncate(n as usize);
            self.versions.push(facts.unwrap_or_default());
        }
        Ok(Provisioned {
            remote: Box::new(remote),
            env,
            provision_s: t0.elapsed().as_secs_f64(),
            connect_s: None,
            site: crate::deploy::Site::at(workdir),
        })
    }
}
