//! What exists on the host while a stack is up: its private directory (keys, L1's
//! scratch file, a chain disk for --kernel/--initrd), L1's QEMU and one control SSH
//! session per level that is up. Everything is held by cleanup guards, so dropping
//! the stack — or a signal — removes it all.

use super::argv::CacheMode;
use super::{agentdrive, disk, keys};
use crate::cleanup::{PathGuard, ProcessGuard};
use crate::config::QemuOptions;
use crate::image::{chaindisk, Image};
use crate::plan::Plan;
use crate::remote::ssh::SshRemote;
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::Child;

/// What exists while the stack is up (created when L1 is provisioned).
pub struct Stack {
    /// The private directory (removed on drop).
    pub dir: PathGuard,
    /// Client and host keys.
    pub keys: keys::StackKeys,
    /// L1's scratch file.
    pub scratch: PathBuf,
    /// How QEMU opens it.
    pub cache: CacheMode,
    /// Kernel booted at every level.
    pub kernel: PathBuf,
    /// Initramfs of every level but the deepest.
    pub initrd: PathBuf,
    /// Initramfs of the deepest level.
    pub leaf_initrd: PathBuf,
    /// The chain disk.
    pub chain: PathBuf,
    /// The agent drive's image (`agentdrive`), when the run has one.
    pub agent_disk: Option<PathBuf>,
    /// What is on it.
    pub on_drive: Option<agentdrive::OnDrive>,
    /// L1's QEMU.
    pub l1: Option<(Child, ProcessGuard)>,
    /// L1's net.tcp peer on the host (`netpeer`), killed with the stack.
    pub net_peer: Option<(Child, ProcessGuard)>,
    /// Control connection per level that is up and starts a child (index 0 = L1;
    /// the deepest level has none).
    pub ctl: Vec<SshRemote>,
    /// How many levels are up.
    pub up: u32,
}

impl Stack {
    /// Create the stack directory under `base`, the keys, the scratch file and (for
    /// --kernel/--initrd) the chain disk.
    pub fn create(
        base: &Path,
        plan: &Plan,
        image: &Image,
        opts: &QemuOptions,
    ) -> anyhow::Result<Stack> {
        let dir = tempfile::Builder::new()
            .prefix("nestbench-stack-")
            .tempdir_in(base)?
            .keep();
        let guard = PathGuard::new(&dir);
        let keys = keys::generate(&dir, plan.levels.len() as u32)?;
        let scratch = dir.join("scratch.raw");
        let cache = disk::create(&scratch, plan)?;
        let mut s = Stack {
            dir: guard,
            keys,
            scratch,
            cache,
            kernel: image.kernel(),
            initrd: image.initrd(),
            leaf_initrd: image.leaf_initrd(),
            chain: image.chain_disk(),
            agent_disk: None,
            on_drive: None,
            l1: None,
            net_peer: None,
            ctl: vec![],
            up: 0,
        };
        if let Some(agent) = &opts.agent_drive {
            let img = dir.join("agent.img");
            let bytes = std::fs::read(agent)
                .with_context(|| format!("cannot read the agent {}", agent.display()))?;
            agentdrive::write(&img, &bytes)
                .with_context(|| format!("cannot write the agent drive {}", img.display()))?;
            s.agent_disk = Some(img);
            s.on_drive = Some(agentdrive::OnDrive::of(&bytes));
        }
        if opts.kernel.is_some() || opts.initrd.is_some() {
            let cd = dir.join("chain");
            std::fs::create_dir(&cd)?;
            if let Some(k) = &opts.kernel {
                s.kernel = k.clone();
            }
            if let Some(i) = &opts.initrd {
                s.initrd = i.clone();
                s.leaf_initrd = i.clone();
            }
            std::fs::copy(&s.kernel, cd.join(chaindisk::VMLINUZ))?;
            std::fs::copy(&s.initrd, cd.join(chaindisk::INITRD))?;
            std::fs::copy(&s.leaf_initrd, cd.join(chaindisk::LEAF_INITRD))?;
            s.chain = dir.join("chain.img");
            chaindisk::make(&cd, &s.chain)?;
        }
        Ok(s)
    }
}
