//! Each level's QEMU launch and SSH target, from the plan: L1 from files on the host,
//! deeper levels from the parent's chain disk (/dev/vda), the rest of its scratch
//! device (/dev/vdb) and its agent drive (/dev/vdc), with the per-level files the controller put in /run/nestbench.
//! The launch is a pure function of a [`Layout`], so `run --dry-run` prints the very
//! command lines a run would start without a stack to start them in.

use super::argv::{Accel, CacheMode, LaunchSpec};
use super::stack::Stack;
use super::{QemuBackend, GUEST_RUN};
use crate::image::chaindisk;
use crate::plan::Plan;
use crate::remote::ssh::{HostKeyCheck, SshTarget};
use std::path::Path;

/// What a level's launch is made of besides its acceleration: the plan, the options,
/// the ports and where L1's files are on the host. A run fills it from the stack it
/// created; `run --dry-run` from the names the stack would have, so both print the
/// same command lines from one builder ([`level_spec`]).
#[derive(Debug, Clone, Copy)]
pub struct Layout<'a> {
    /// The stack's plan.
    pub plan: &'a Plan,
    /// L1's QEMU binary.
    pub qemu: &'a str,
    /// `--qemu-arg LEVEL:ARG` values.
    pub extra_args: &'a [(u32, String)],
    /// Every level's sshd port (index 0 = L1).
    pub ports: &'a [u16],
    /// Every level's net.tcp port (index 0 = L1); empty when the run does not
    /// measure net.tcp.
    pub net_ports: &'a [u16],
    /// The run directory (L1's console log goes into its logs/).
    pub run_dir: &'a Path,
    /// Kernel booted at every level, on the host.
    pub kernel: &'a str,
    /// Initramfs of every level but the deepest, on the host.
    pub initrd: &'a str,
    /// Initramfs of the deepest level, on the host.
    pub leaf_initrd: &'a str,
    /// The chain disk, on the host.
    pub chain: &'a str,
    /// The agent drive's image on the host, when the run has one.
    pub agent_disk: Option<&'a str>,
    /// L1's scratch file.
    pub scratch: &'a str,
    /// How QEMU opens it.
    pub cache: CacheMode,
    /// L1's host key file.
    pub l1_host_key: &'a str,
    /// The stack's authorized_keys file.
    pub authorized_keys: &'a str,
}

/// Level `n`'s launch, accelerated by `accel` above levels accelerated by `below`
/// (L1 first): on the host for L1, inside the parent for deeper levels.
pub fn level_spec(layout: &Layout<'_>, below: &[Accel], n: u32, accel: Accel) -> LaunchSpec {
    let plan = layout.plan;
    let l = plan.level(n);
    let depth = plan.levels.len() as u32;
    let nesting = super::nesting::for_level(below, accel, depth - n, l.vcpus);
    let extra = layout
        .extra_args
        .iter()
        .filter(|(lv, _)| *lv == n)
        .map(|(_, a)| a.clone())
        .collect();
    let port = layout.ports[n as usize - 1];
    let forward_ports = layout.ports[n as usize - 1..].to_vec();
    let net_port = layout.net_ports.get(n as usize - 1).copied();
    const MIB: u64 = 1024 * 1024;
    if n == 1 {
        let initrd = if l.leaf {
            layout.leaf_initrd
        } else {
            layout.initrd
        };
        LaunchSpec {
            qemu: layout.qemu.to_string(),
            level: n,
            accel,
            machine: l.machine,
            vcpus: nesting.vcpus,
            memory_mib: l.memory_mib,
            kernel: layout.kernel.to_string(),
            initrd: initrd.to_string(),
            port,
            chain: layout.chain.to_string(),
            agent_disk: layout.agent_disk.map(str::to_string),
            scratch: layout.scratch.to_string(),
            scratch_region: (0, None),
            cache: layout.cache,
            forward_addr: "127.0.0.1".into(),
            forward_ports,
            net_port,
            host_key: layout.l1_host_key.to_string(),
            authorized_keys: layout.authorized_keys.to_string(),
            serial: layout
                .run_dir
                .join("logs/L1.console.log")
                .display()
                .to_string(),
            pidfile: None,
            log: None,
            extra,
            deep: nesting.tuning,
        }
    } else {
        let initrd = if l.leaf {
            chaindisk::LEAF_INITRD
        } else {
            chaindisk::INITRD
        };
        let parent_fs = plan.level(n - 1).fs_mib;
        LaunchSpec {
            qemu: "qemu-system-x86_64".into(),
            level: n,
            accel,
            machine: l.machine,
            vcpus: nesting.vcpus,
            memory_mib: l.memory_mib,
            kernel: format!("/mnt/{}", chaindisk::VMLINUZ),
            initrd: format!("/mnt/{initrd}"),
            port,
            chain: "/dev/vda".into(),
            agent_disk: layout
                .agent_disk
                .map(|_| super::agentdrive::AGENT_DEVICE.to_string()),
            scratch: "/dev/vdb".into(),
            scratch_region: (parent_fs * MIB, Some(plan.disk_mib(n) * MIB)),
            cache: CacheMode::Direct,
            forward_addr: "10.0.2.15".into(),
            forward_ports,
            net_port,
            host_key: format!("{GUEST_RUN}/L{n}.host_key"),
            authorized_keys: format!("{GUEST_RUN}/authorized_keys"),
            serial: format!("{GUEST_RUN}/L{n}.console.log"),
            pidfile: Some(format!("{GUEST_RUN}/L{n}.pid")),
            log: Some(super::guest_qemu_log(n)),
            extra,
            deep: nesting.tuning,
        }
    }
}

impl QemuBackend {
    /// Level `n`'s launch in this run's stack ([`level_spec`]).
    pub(super) fn spec(&self, n: u32, accel: Accel, stack: &Stack) -> LaunchSpec {
        let below = &self.accels[..(n as usize - 1).min(self.accels.len())];
        let text = |p: &Path| p.display().to_string();
        let (kernel, initrd, leaf) = (
            text(&stack.kernel),
            text(&stack.initrd),
            text(&stack.leaf_initrd),
        );
        let (chain, scratch) = (text(&stack.chain), text(&stack.scratch));
        let agent_disk = stack.agent_disk.as_deref().map(text);
        let (host_key, authorized) = (
            text(&stack.keys.host_keys[0].private),
            text(&stack.keys.authorized_keys),
        );
        let layout = Layout {
            plan: &self.plan,
            qemu: &self.qemu,
            extra_args: &self.opts.extra_args,
            ports: &self.ports,
            net_ports: self.net_ports(),
            run_dir: &self.run_dir,
            kernel: &kernel,
            initrd: &initrd,
            leaf_initrd: &leaf,
            chain: &chain,
            agent_disk: agent_disk.as_deref(),
            scratch: &scratch,
            cache: stack.cache,
            l1_host_key: &host_key,
            authorized_keys: &authorized,
        };
        level_spec(&layout, below, n, accel)
    }

    /// How the controller reaches level `n`: the forwarded loopback port, pinned key.
    pub(super) fn target(&self, n: u32, stack: &Stack) -> SshTarget {
        SshTarget {
            name: format!("L{n}"),
            host: "127.0.0.1".into(),
            port: self.port(n),
            user: "root".into(),
            key: stack.keys.client_key.clone(),
            host_key: HostKeyCheck::Pinned {
                key_base64: stack.keys.host_keys[n as usize - 1].public_b64(),
            },
        }
    }
}
