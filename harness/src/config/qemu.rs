//! The options of `run --backend qemu` (docs/qemu.md), validated once: `--qemu-arg`
//! as LEVEL:ARG, `--relaunch`'s default, and which flags only this backend reads (the
//! others refuse them).

use crate::cli::{AccelArg, RunArgs};
use crate::exit::Failure;
use std::path::PathBuf;

/// Options of the QEMU backend.
#[derive(Debug, Clone)]
pub struct QemuOptions {
    /// auto, kvm or tcg.
    pub accel: AccelArg,
    /// L1 memory override, MiB.
    pub memory_mib: Option<u64>,
    /// L1 vCPU override.
    pub cpus: Option<u32>,
    /// Guest kernel override.
    pub kernel: Option<PathBuf>,
    /// Initramfs override.
    pub initrd: Option<PathBuf>,
    /// qemu-system-x86_64 override for L1.
    pub qemu: Option<PathBuf>,
    /// Extra QEMU arguments per level (level, argument).
    pub extra_args: Vec<(u32, String)>,
    /// `--relaunch N`: how many times the run may bring a lost part of the stack
    /// back up and measure the level again (docs/qemu.md, "Reliability").
    pub relaunch: u32,
    /// The agent that runs L1's net.tcp peer on the host, when the run measures
    /// net.tcp (then every level listens and every parent runs a peer).
    pub net_peer: Option<PathBuf>,
    /// The agent written onto the agent drive every level reads it from
    /// (`backend::qemu::agentdrive`); None: every level's agent is uploaded.
    pub agent_drive: Option<PathBuf>,
}

impl QemuOptions {
    /// From `run`'s flags; the agent paths are filled in by the caller.
    pub fn from_args(args: &RunArgs) -> Result<QemuOptions, Failure> {
        Ok(QemuOptions {
            accel: args.accel.unwrap_or(AccelArg::Auto),
            memory_mib: args.memory,
            cpus: args.cpus,
            kernel: args.kernel.clone(),
            initrd: args.initrd.clone(),
            qemu: args.qemu.clone(),
            extra_args: parse_qemu_args(&args.qemu_args)?,
            relaunch: args.relaunch.unwrap_or(DEFAULT_RELAUNCH),
            net_peer: None,
            agent_drive: None,
        })
    }
}

/// Relaunches a QEMU run may make when `--relaunch` is not given: one loss of the
/// stack's flaky first KVM level above TCG (docs/qemu.md, "Reliability") no longer
/// ends the run, two in one run still do.
pub const DEFAULT_RELAUNCH: u32 = 1;

/// The first flag of `args` that only the QEMU backend reads, if any is given.
pub(super) fn qemu_only_flag(args: &RunArgs) -> Option<&'static str> {
    [
        ("--accel", args.accel.is_some()),
        ("--kernel", args.kernel.is_some()),
        ("--initrd", args.initrd.is_some()),
        ("--qemu", args.qemu.is_some()),
        ("--qemu-arg", !args.qemu_args.is_empty()),
        ("--relaunch", args.relaunch.is_some()),
    ]
    .into_iter()
    .find_map(|(flag, given)| given.then_some(flag))
}

fn parse_qemu_args(raw: &[String]) -> Result<Vec<(u32, String)>, Failure> {
    raw.iter()
        .map(|r| {
            let (l, a) = r.split_once(':').ok_or_else(|| {
                Failure::usage(format!(
                    "--qemu-arg {r:?}: expected LEVEL:ARG, e.g. 1:-no-hpet"
                ))
            })?;
            let level: u32 = l.parse().ok().filter(|l| *l >= 1).ok_or_else(|| {
                Failure::usage(format!("--qemu-arg {r:?}: LEVEL must be 1 or more"))
            })?;
            Ok((level, a.to_string()))
        })
        .collect()
}
