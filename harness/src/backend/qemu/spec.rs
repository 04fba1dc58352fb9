//! Each level's QEMU launch and SSH target, from the plan: L1 from files on the host,
//! deeper levels from the parent's chain disk (/dev/vda) and the rest of its scratch
//! device (/dev/vdb), with the per-level files the controller put in /run/nestbench.

use super::argv::{Accel, CacheMode, LaunchSpec};
use super::stack::Stack;
use super::{QemuBackend, GUEST_RUN};
use crate::image::chaindisk;
use crate::remote::ssh::{HostKeyCheck, SshTarget};

impl QemuBackend {
    /// Level `n`'s launch: on the host for L1, inside the parent for deeper levels.
    pub(super) fn spec(&self, n: u32, accel: Accel, stack: &Stack) -> LaunchSpec {
        let below = &self.accels[..(n as usize - 1).min(self.accels.len())];
        let l = self.plan.level(n);
        let depth = self.plan.levels.len() as u32;
        let nesting = super::nesting::for_level(below, accel, depth - n, l.vcpus);
        let extra = self
            .opts
            .extra_args
            .iter()
            .filter(|(lv, _)| *lv == n)
            .map(|(_, a)| a.clone())
            .collect();
        let forward_ports = self.ports[n as usize - 1..].to_vec();
        const MIB: u64 = 1024 * 1024;
        if n == 1 {
            let initrd = if l.leaf {
                &stack.leaf_initrd
            } else {
                &stack.initrd
            };
            LaunchSpec {
                qemu: self.qemu.clone(),
                level: n,
                accel,
                machine: l.machine,
                vcpus: nesting.vcpus,
                memory_mib: l.memory_mib,
                kernel: stack.kernel.display().to_string(),
                initrd: initrd.display().to_string(),
                port: self.port(n),
                chain: stack.chain.display().to_string(),
                scratch: stack.scratch.display().to_string(),
                scratch_region: (0, None),
                cache: stack.cache,
                forward_addr: "127.0.0.1".into(),
                forward_ports,
                host_key: stack.keys.host_keys[0].private.display().to_string(),
                authorized_keys: stack.keys.authorized_keys.display().to_string(),
                serial: self
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
            let parent_fs = self.plan.level(n - 1).fs_mib;
            LaunchSpec {
                qemu: "qemu-system-x86_64".into(),
                level: n,
                accel,
                machine: l.machine,
                vcpus: nesting.vcpus,
                memory_mib: l.memory_mib,
                kernel: format!("/mnt/{}", chaindisk::VMLINUZ),
                initrd: format!("/mnt/{initrd}"),
                port: self.port(n),
                chain: "/dev/vda".into(),
                scratch: "/dev/vdb".into(),
                scratch_region: (parent_fs * MIB, Some(self.plan.disk_mib(n) * MIB)),
                cache: CacheMode::Direct,
                forward_addr: "10.0.2.15".into(),
                forward_ports,
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
