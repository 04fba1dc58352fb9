//! One level's way up, in named steps: launch it (L1 as a child of nestbench on the
//! host, level n with one command inside its parent), wait for its sshd, connect, and
//! describe it for run.json. Each step returns what the next one needs; a missing
//! piece of state (the stack, the parent's session) is an error naming the level,
//! never a panic.

use super::argv::{self, Accel, CommandLine};
use super::error::{read_for, QemuError};
use super::launch::{self, ChildLaunch, Chosen, GuestFile, Pin};
use super::ready::{self, NotReady};
use super::stack::Stack;
use super::{disk, guest_qemu_log, netpeer, QemuBackend, GUEST_RUN};
use crate::backend::{BackendError, BackendErrorKind, Provisioned};
use crate::cli::AccelArg;
use crate::plan;
use crate::remote::ssh::SshRemote;
use model::rundoc::LevelEnv;
use std::time::{Duration, Instant};

/// A level whose QEMU runs.
struct Launched {
    /// How it is accelerated.
    accel: Accel,
    /// The QEMU that runs it, when known.
    qemu_version: Option<String>,
    /// Its command line and tuning.
    cmd: CommandLine,
    /// When its QEMU was started.
    started: Instant,
}

/// A level whose sshd answered.
struct Ready {
    /// Seconds from its launch until then.
    provision_s: f64,
}

/// The sessions to a level that answered.
struct Connected {
    /// The orchestrator's (deploy, agent).
    remote: SshRemote,
    /// The backend's own, for starting the child; None at the deepest level, which
    /// starts nothing (every handshake there costs seconds).
    ctl: Option<SshRemote>,
}

impl QemuBackend {
    /// Bring level `n` up inside its parent and connect to it.
    pub(super) fn bring_up(
        &mut self,
        n: u32,
        say: &mut dyn FnMut(&str),
    ) -> Result<Provisioned, BackendError> {
        let launched = if n == 1 {
            self.launch_on_host(say)?
        } else {
            self.launch_in_parent(n, say)?
        };
        let ready = self.wait_ready(n, &launched)?;
        say("connect");
        let t_connect = Instant::now();
        let Connected { remote, ctl } = self.connect(n)?;
        let connect_s = t_connect.elapsed().as_secs_f64();
        let stack = self.stack_mut(n)?;
        stack.ctl.extend(ctl);
        stack.up = n;
        // The console is copied into logs/ at teardown (or on failure); a copy now
        // would cost a round trip into the parent on the way to the next level.
        Ok(Provisioned {
            remote: Box::new(remote),
            env: self.describe(n, launched)?,
            provision_s: ready.provision_s,
            connect_s: Some(connect_s),
            site: netpeer::site(
                &self.plan,
                n,
                self.net_ports(),
                self.opts.net_peer.is_some(),
                self.opts.agent_drive.is_some(),
            ),
        })
    }

    /// The stack, which exists from L1's launch on.
    fn stack_of(&self, n: u32) -> Result<&Stack, BackendError> {
        self.stack
            .as_ref()
            .ok_or_else(|| BackendError::new(n, QemuError::ParentNotUp { parent: 1 }))
    }

    /// The stack, to change it.
    pub(super) fn stack_mut(&mut self, n: u32) -> Result<&mut Stack, BackendError> {
        self.stack
            .as_mut()
            .ok_or_else(|| BackendError::new(n, QemuError::ParentNotUp { parent: 1 }))
    }

    /// L1: make the stack (keys, scratch disk), then start QEMU on the host.
    fn launch_on_host(&mut self, say: &mut dyn FnMut(&str)) -> Result<Launched, BackendError> {
        say("create stack (keys, scratch disk)");
        let mut stack = Stack::create(&self.scratch_base, &self.plan, &self.image, &self.opts)
            .map_err(|e| BackendError::new(1, QemuError::Stack(e)))?;
        let Chosen { accel, why } = self.l1.clone();
        self.accels = vec![accel];
        let cmd = argv::build(&self.spec(1, accel, &stack));
        say(&format!("boot ({}: {why})", accel.as_str()));
        let started = Instant::now();
        let log = self.run_dir.join("logs/L1.qemu.log");
        let child = launch::spawn_host(&cmd.argv, &log, self.keep);
        let child = child.map_err(|e| self.fail(1, e))?;
        stack.l1 = Some(child);
        if let (Some(agent), Some(&port)) = (&self.opts.net_peer, self.net_ports().first()) {
            let wait = netpeer::peer_wait(1, accel == Accel::Tcg);
            let log = self.run_dir.join("logs/L1.net-peer.log");
            let peer = netpeer::spawn_host_peer(agent, port, wait, &log).map_err(|e| {
                BackendError::new(1, QemuError::NetPeer(format!("{}: {e}", agent.display())))
            })?;
            stack.net_peer = Some(peer);
        }
        self.stack = Some(stack);
        Ok(Launched {
            accel,
            qemu_version: Some(self.qemu_version.clone()),
            cmd,
            started,
        })
    }

    /// Level n ≥ 2: its files, the parent's probe and its launch in one command:
    /// every round trip into a deep parent costs seconds. Both command lines are
    /// made; the parent's CPU (svm/vmx) and /dev/kvm pick one, as `launch::choose`
    /// does.
    fn launch_in_parent(
        &mut self,
        n: u32,
        say: &mut dyn FnMut(&str),
    ) -> Result<Launched, BackendError> {
        self.accels.truncate(n as usize - 1);
        let stack = self.stack_of(n)?;
        // KVM this many levels above emulated SVM (TCG below) livelocks on its timer
        // unless it runs a periodic tick on a CPU its parent keeps quiet (docs/qemu.md,
        // "L4 boot tuning"): `spec` arranges both (`nesting::for_level`).
        let kvm_spec = self.spec(n, Accel::Kvm, stack);
        let kvm = argv::build(&kvm_spec);
        let tcg = argv::build(&self.spec(n, Accel::Tcg, stack));
        let files = self.child_files(n, stack)?;
        let (kvm_argv, tcg_argv) = match self.plan.accel {
            AccelArg::Kvm => (&kvm.argv, &kvm.argv),
            AccelArg::Tcg => (&tcg.argv, &tcg.argv),
            AccelArg::Auto => (&kvm.argv, &tcg.argv),
        };
        let pidfile = format!("{GUEST_RUN}/L{n}.pid");
        // The child's net peer starts with it; a TCG child boots slower, so the peer
        // waits as long as the slower of the two could take. A level brought back up
        // after a loss is not measured again: no peer, which would only knock on it
        // while its child is measured.
        let peer = self
            .net_ports()
            .get(n as usize - 1)
            .filter(|_| !self.relaunching)
            .map(|&port| {
                let wait = netpeer::peer_wait(n, true);
                netpeer::guest_peer_command(n, port, wait, stack.on_drive.as_ref())
            });
        let log = guest_qemu_log(n);
        let job = ChildLaunch {
            dir: GUEST_RUN,
            files: &files,
            kvm_argv,
            tcg_argv,
            log: &log,
            peer: peer.as_deref(),
            timeout: Duration::from_secs(120 * u64::from(n)),
            ask_version: self.guest_qemu_version.is_none(),
            pin: kvm_spec.deep.pinned.then_some(Pin {
                pidfile: &pidfile,
                vcpus: kvm_spec.vcpus,
                limit_tick: kvm_spec.deep.periodic_tick,
            }),
        };
        say("launch");
        let started = Instant::now();
        let parent = self
            .stack
            .as_mut()
            .and_then(|s| s.ctl.get_mut(n as usize - 2))
            .ok_or_else(|| BackendError::new(n, QemuError::ParentNotUp { parent: n - 1 }))?;
        let answer = launch::launch_in(parent, &job);
        let answer = answer.map_err(|e| self.fail(n, e))?;
        if answer.qemu_version.is_some() {
            self.guest_qemu_version = answer.qemu_version;
        }
        let Chosen { accel, why } = launch::choose(self.plan.accel, n - 1, &answer.virt);
        self.accels.push(accel);
        say(&format!("boot ({}: {why})", accel.as_str()));
        Ok(Launched {
            accel,
            qemu_version: self.guest_qemu_version.clone(),
            cmd: if accel == Accel::Kvm { kvm } else { tcg },
            started,
        })
    }

    /// What level n ≥ 2 finds in its parent's /run/nestbench: its host key and the
    /// stack's authorized_keys.
    fn child_files(&self, n: u32, stack: &Stack) -> Result<Vec<GuestFile>, BackendError> {
        // Generated for every level with the stack; the path it would have otherwise.
        let host_key = match stack.keys.host_keys.get(n as usize - 1) {
            Some(k) => k.private.clone(),
            None => stack.dir.path().join(format!("L{n}.host_key")),
        };
        let file = |path: String, from: &std::path::Path| {
            Ok(GuestFile {
                path,
                data: read_for(n, from).map_err(|e| BackendError::new(n, e))?,
            })
        };
        Ok(vec![
            file(format!("{GUEST_RUN}/L{n}.host_key"), &host_key)?,
            file(
                format!("{GUEST_RUN}/authorized_keys"),
                &stack.keys.authorized_keys,
            )?,
        ])
    }

    /// Knock until level `n`'s sshd answers, asking its parent now and then whether
    /// its QEMU still runs.
    fn wait_ready(&mut self, n: u32, launched: &Launched) -> Result<Ready, BackendError> {
        let timeout = plan::boot_timeout(n, launched.accel == Accel::Tcg);
        let port = self.port(n);
        let mut silent = 0;
        let mut alive = || self.level_died(n, &mut silent);
        let waited = ready::wait_for_sshd(port, timeout, ready::knock(n), &mut alive);
        let provision_s = launched.started.elapsed().as_secs_f64();
        match waited {
            Ok(()) => Ok(Ready { provision_s }),
            Err(NotReady::Died(why)) => Err(self.fail(n, QemuError::Died(why))),
            Err(NotReady::Interrupted) => Err(BackendError::new(n, BackendErrorKind::Interrupted)),
            Err(NotReady::Timeout) => {
                let e = QemuError::Timeout {
                    secs: timeout.as_secs_f64(),
                    accel: launched.accel,
                    machine: self.plan.level(n).machine,
                };
                Err(self.fail(n, e))
            }
        }
    }

    /// Open the sessions to level `n`, whose sshd answers.
    fn connect(&mut self, n: u32) -> Result<Connected, BackendError> {
        let target = self.target(n, self.stack_of(n)?);
        let limit = Duration::from_secs(60 * u64::from(n));
        let session = || SshRemote::connect(&target, &[], limit);
        let remote = session().map_err(|e| self.fail(n, e))?;
        let ctl = if self.plan.level(n).leaf {
            None
        } else {
            Some(session().map_err(|e| self.fail(n, e))?)
        };
        Ok(Connected { remote, ctl })
    }

    /// What run.json records about level `n`'s environment before its agent speaks.
    fn describe(&self, n: u32, launched: Launched) -> Result<LevelEnv, BackendError> {
        let stack = self.stack_of(n)?;
        Ok(LevelEnv {
            accel: Some(launched.accel.into()),
            qemu_version: launched.qemu_version,
            disk: Some(disk::describe(&self.plan, n, &stack.scratch, stack.cache)),
            tuning: launched.cmd.tuning,
            qemu_argv: launched.cmd.argv,
            network: Some(netpeer::NETWORK.into()),
            ..LevelEnv::default()
        })
    }
}
