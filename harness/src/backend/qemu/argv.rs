//! QEMU command lines, built as data (pure functions, unit-tested): the same builder
//! serves L1 on the host (`-M pc`, virtio-pci, files on the host) and every deeper level
//! inside its parent (`-M microvm`, virtio-mmio, the parent's /dev/vda and a region of
//! its /dev/vdb). It decides nothing about nesting: what [`super::nesting`] decided for
//! a level arrives in its [`LaunchSpec`] and becomes options here. What changes what
//! workloads measure is returned as `tuning`.

use super::nesting::{DeepTuning, CHILD_CPU, MIN_TICK_PERIOD_US};
use crate::plan::Machine;

/// How a level is accelerated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    /// `-accel kvm -cpu host`.
    Kvm,
    /// `-accel tcg -cpu max` (emulates SVM/VMX, so the child gets a working /dev/kvm).
    Tcg,
}

impl From<Accel> for model::Accel {
    fn from(a: Accel) -> model::Accel {
        match a {
            Accel::Kvm => model::Accel::Kvm,
            Accel::Tcg => model::Accel::Tcg,
        }
    }
}

impl Accel {
    /// `kvm` or `tcg`, as recorded in run.json `env.accel`.
    pub fn as_str(self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }
}

/// How the scratch disk is opened by QEMU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMode {
    /// `cache=none,aio=native`: O_DIRECT, no page cache of the parent in the path.
    Direct,
    /// `cache=writethrough,aio=threads`: the backing store has no O_DIRECT (tmpfs).
    Buffered,
}

impl CacheMode {
    /// The `-drive` options.
    pub fn options(self) -> &'static str {
        match self {
            CacheMode::Direct => "cache=none,aio=native",
            CacheMode::Buffered => "cache=writethrough,aio=threads",
        }
    }
}

/// Everything that decides one level's QEMU command line.
#[derive(Debug, Clone)]
pub struct LaunchSpec {
    /// The QEMU binary.
    pub qemu: String,
    /// 1-based level.
    pub level: u32,
    /// Acceleration.
    pub accel: Accel,
    /// Machine type.
    pub machine: Machine,
    /// vCPUs.
    pub vcpus: u32,
    /// Memory, MiB.
    pub memory_mib: u64,
    /// Kernel image.
    pub kernel: String,
    /// Initramfs.
    pub initrd: String,
    /// This level's sshd port.
    pub port: u16,
    /// The chain disk (file or device), attached read-only.
    pub chain: String,
    /// The scratch backing file or device.
    pub scratch: String,
    /// The agent drive (file or device), attached read-only after the scratch disk.
    pub agent_disk: Option<String>,
    /// Region of `scratch` for this level (bytes): offset, size (None: to the end).
    pub scratch_region: (u64, Option<u64>),
    /// How `scratch` is opened.
    pub cache: CacheMode,
    /// Address the forwards listen on (127.0.0.1 on the host, 10.0.2.15 in a guest).
    pub forward_addr: String,
    /// Ports forwarded into this level: its own and every deeper level's.
    pub forward_ports: Vec<u16>,
    /// This level's net.tcp port, forwarded from its parent to it alone (its agent
    /// listens there; the parent's peer connects: `netpeer`).
    pub net_port: Option<u16>,
    /// fw_cfg file with this level's dropbear host key.
    pub host_key: String,
    /// fw_cfg file with the stack's authorized_keys.
    pub authorized_keys: String,
    /// Serial console log file.
    pub serial: String,
    /// `-daemonize -pidfile PATH` (levels started inside a guest).
    pub pidfile: Option<String>,
    /// `-D PATH`: where a daemonized QEMU's stderr goes once it runs (without it,
    /// `-daemonize` sends it to /dev/null, and a level whose QEMU exits leaves no
    /// word of why). The launch redirects QEMU's early output to the same file.
    pub log: Option<String>,
    /// Extra arguments from `--qemu-arg LEVEL:ARG`.
    pub extra: Vec<String>,
    /// The deep-level tuning the nesting policy decided for this level
    /// ([`super::nesting::for_level`]): periodic tick, CPU column, pinning. Pinning names
    /// QEMU's threads (`-name …,debug-threads=on`) so the launch can find them.
    pub deep: DeepTuning,
}

/// A periodic 250 Hz LAPIC tick instead of the one-shot TSC-deadline timer and
/// tickless idle. Changes what exit.timer measures, so only where it is needed.
/// `nowatchdog` comes with it: such a guest runs so slowly that the soft-lockup
/// detector fires every minute and prints a stack trace at emergency level, on the
/// serial console, where every byte is an exit (~120 s lost per trace at L4 here).
pub const PERIODIC_TICK: &[&str] = &[
    "lapic=notscdeadline",
    "highres=off",
    "nohz=off",
    "nowatchdog",
];

/// Kernel command-line options for microvm levels (docs/qemu.md, "Measured facts")
/// that only shorten boot.
const MICROVM_BOOT: &[&str] = &[
    "i8042.noaux",
    "i8042.nokbd",
    "i8042.nopnp",
    "8250.nr_uarts=1",
    "random.trust_cpu=on",
    "cryptomgr.notests",
    "edd=off",
    "pci=off",
    "initcall_blacklist=add_rtc_cmos",
];

/// Options for microvm levels that also change what timer and exit workloads see:
/// recorded in `env.tuning`.
const MICROVM_TUNING: &[&str] = &[
    "tsc=reliable",
    "no_timer_check",
    "hpet=disable",
    "noreplace-smp",
];

/// A kernel command line and the entries of it that count as tuning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelCmdline {
    /// The `-append` string.
    pub line: String,
    /// Its entries that change what workloads measure (run.json `env.tuning`).
    pub tuning: Vec<String>,
}

/// The kernel command line for `spec`.
pub fn kernel_cmdline(spec: &LaunchSpec) -> KernelCmdline {
    let mut args: Vec<String> = vec!["console=ttyS0".into(), "panic=-1".into()];
    let mut tuning = vec![];
    if spec.machine == Machine::Microvm {
        // Every console byte is an exit, very costly deep in the stack. loglevel=1,
        // not 0: only emergencies print, and a panic or oops (which raise the
        // console level, except at 0) still reaches the console log instead of the
        // level vanishing in silence (panic=-1 with -no-reboot ends its QEMU).
        args.extend(["quiet", "loglevel=1"].map(String::from));
        args.extend(MICROVM_BOOT.iter().map(|s| s.to_string()));
        for t in MICROVM_TUNING {
            args.push(t.to_string());
            tuning.push(t.to_string());
        }
    } else {
        args.push("quiet".into());
    }
    if spec.deep.periodic_tick {
        for t in PERIODIC_TICK {
            args.push(t.to_string());
            tuning.push(t.to_string());
        }
        tuning.push(format!(
            "LAPIC timer period >= {} ms (L{} kvm.min_timer_period_us={MIN_TICK_PERIOD_US})",
            MIN_TICK_PERIOD_US / 1000,
            spec.level.saturating_sub(1)
        ));
    }
    if spec.deep.child_cpu {
        let t = format!("nohz_full={CHILD_CPU}");
        args.push(t.clone());
        tuning.push(t);
        // No task of this level lands on the child's CPU unless pinned there (its own
        // processes start with CPU 0 only): without it, the net.tcp peer started with
        // the child, and the sessions that reach this level, ran beside the child's
        // vCPU in some runs, and the child's first seconds took several times longer.
        let t = format!("isolcpus={CHILD_CPU}");
        args.push(t.clone());
        tuning.push(t);
    }
    if spec.deep.boot_one_cpu {
        // CPU 1 stays offline while this level boots and is measured (a second nested
        // vCPU slowed L3's boot here, and every nested level is measured on one CPU).
        args.push("maxcpus=1".into());
        tuning.push("maxcpus=1 (CPU 1 onlined for the child after the measurement)".into());
    }
    args.push(format!("nestbench.level={}", spec.level));
    args.push(format!("nestbench.port={}", spec.port));
    KernelCmdline {
        line: args.join(" "),
        tuning,
    }
}

/// A level's QEMU command line and the tuning it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    /// The full argv (argv[0] = the QEMU binary), run.json `env.qemu_argv`.
    pub argv: Vec<String>,
    /// What in it changes what workloads measure, run.json `env.tuning`.
    pub tuning: Vec<String>,
}

/// The command line that starts the level `spec` describes.
pub fn build(spec: &LaunchSpec) -> CommandLine {
    let KernelCmdline {
        line: cmdline,
        mut tuning,
    } = kernel_cmdline(spec);
    let mut a: Vec<String> = vec![spec.qemu.clone()];
    let mut push = |xs: &[&str]| a.extend(xs.iter().map(|s| s.to_string()));
    push(&[
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-no-reboot",
    ]);
    let (blk, net) = match spec.machine {
        Machine::Pc => {
            push(&["-M", "pc", "-bios", "qboot.rom"]);
            ("virtio-blk-pci", "virtio-net-pci,romfile=")
        }
        Machine::Microvm => {
            push(&["-M", "microvm,x-option-roms=off,acpi=on,isa-serial=on"]);
            tuning.push("machine=microvm".into());
            ("virtio-blk-device", "virtio-net-device")
        }
    };
    match spec.accel {
        Accel::Kvm => push(&["-accel", "kvm", "-cpu", "host"]),
        Accel::Tcg => push(&["-accel", "tcg", "-cpu", "max"]),
    }
    let smp = spec.vcpus.to_string();
    let mem = spec.memory_mib.to_string();
    push(&["-smp", &smp, "-m", &mem]);
    push(&[
        "-kernel",
        &spec.kernel,
        "-initrd",
        &spec.initrd,
        "-append",
        &cmdline,
    ]);
    let chain = format!(
        "id=chain,file={},format=raw,readonly=on,if=none",
        spec.chain
    );
    push(&["-drive", &chain, "-device", &format!("{blk},drive=chain")]);
    let (off, size) = spec.scratch_region;
    let mut scratch = format!(
        "id=scratch,file={},format=raw,if=none,{}",
        spec.scratch,
        spec.cache.options()
    );
    if off > 0 {
        scratch.push_str(&format!(",offset={off}"));
    }
    if let Some(s) = size {
        scratch.push_str(&format!(",size={s}"));
    }
    push(&[
        "-drive",
        &scratch,
        "-device",
        &format!("{blk},drive=scratch"),
    ]);
    if let Some(agent) = &spec.agent_disk {
        let drive = format!("id=agent,file={agent},format=raw,readonly=on,if=none");
        let device = format!("{blk},drive=agent,serial={}", super::agentdrive::SERIAL);
        push(&["-drive", &drive, "-device", &device]);
    }
    let mut netdev = "user,id=net0,restrict=on".to_string();
    for p in &spec.forward_ports {
        netdev.push_str(&format!(",hostfwd=tcp:{}:{p}-:{p}", spec.forward_addr));
    }
    // On loopback, at every level: only the parent's own peer connects, and QEMU hands
    // the child a connection from 127.0.0.1 as one from 10.0.2.2, where one from the
    // parent's 10.0.2.15 would reach the child from its own address and be dropped.
    if let Some(p) = spec.net_port {
        netdev.push_str(&format!(",hostfwd=tcp:127.0.0.1:{p}-:{p}"));
    }
    push(&["-netdev", &netdev, "-device", &format!("{net},netdev=net0")]);
    let hk = format!("name=opt/nestbench/host_key,file={}", spec.host_key);
    let ak = format!(
        "name=opt/nestbench/authorized_keys,file={}",
        spec.authorized_keys
    );
    push(&["-fw_cfg", &hk, "-fw_cfg", &ak]);
    push(&["-serial", &format!("file:{}", spec.serial)]);
    if spec.deep.pinned {
        push(&["-name", &format!("L{},debug-threads=on", spec.level)]);
        tuning.push(format!(
            "vcpu {} pinned to L{} CPU {CHILD_CPU}",
            spec.vcpus - 1,
            spec.level - 1
        ));
    }
    if let Some(pid) = &spec.pidfile {
        push(&["-daemonize", "-pidfile", pid]);
    }
    if let Some(log) = &spec.log {
        push(&["-D", log]);
    }
    a.extend(spec.extra.iter().cloned());
    if !spec.extra.is_empty() {
        tuning.push(format!("qemu-args: {}", spec.extra.join(" ")));
    }
    CommandLine { argv: a, tuning }
}

#[cfg(test)]
mod tests;
