//! QEMU command lines, built as data (pure functions, unit-tested): the same builder
//! serves L1 on the host (`-M pc`, virtio-pci, files on the host) and every deeper level
//! inside its parent (`-M microvm`, virtio-mmio, the parent's /dev/vda and a region of
//! its /dev/vdb). What changes what workloads measure is returned as `tuning`.

use crate::plan::Machine;

/// How a level is accelerated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    /// `-accel kvm -cpu host`.
    Kvm,
    /// `-accel tcg -cpu max` (emulates SVM/VMX, so the child gets a working /dev/kvm).
    Tcg,
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
    /// Region of `scratch` for this level (bytes): offset, size (None: to the end).
    pub scratch_region: (u64, Option<u64>),
    /// How `scratch` is opened.
    pub cache: CacheMode,
    /// Address the forwards listen on (127.0.0.1 on the host, 10.0.2.15 in a guest).
    pub forward_addr: String,
    /// Ports forwarded into this level: its own and every deeper level's.
    pub forward_ports: Vec<u16>,
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
    /// Run the guest kernel on a periodic tick ([`PERIODIC_TICK`]); see
    /// [`needs_periodic_tick`].
    pub periodic_tick: bool,
    /// This level is part of a CPU column ([`in_column`]): its CPU 1 runs only its
    /// child's last vCPU, free of this kernel's own tick (`nohz_full=1`).
    pub child_cpu: bool,
    /// Boot with `maxcpus=1` (a nested column level: CPU 1 comes online only when the
    /// child starts, [`ONLINE_CHILD_CPU`]), so the level is measured on one CPU like
    /// every other nested level.
    pub boot_one_cpu: bool,
    /// Its parent is a column level: pin this level's vCPU threads there (the last
    /// one to the parent's CPU 1, the others to CPU 0). Names QEMU's threads
    /// (`-name …,debug-threads=on`) so the launch can find them.
    pub pinned: bool,
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

/// The shortest period (µs) a [`PERIODIC_TICK`] guest's LAPIC timer gets from its
/// parent's KVM (`kvm.min_timer_period_us`, set in the parent before the child
/// starts; KVM's default is 200). 20 ms = 50 Hz instead of 250 Hz: at L4 here every
/// tick is an exit of ~10 ms, so the tick alone would take the whole CPU. The guest's
/// jiffies then advance slower than its clock (timekeeping follows kvm-clock), which
/// stretches jiffy-based timeouts; recorded in `env.tuning`.
pub const MIN_TICK_PERIOD_US: u32 = 20_000;

/// Shell, run in the parent before it starts a [`PERIODIC_TICK`] child.
pub fn limit_child_tick() -> String {
    format!(
        "echo {MIN_TICK_PERIOD_US} > /sys/module/kvm/parameters/min_timer_period_us 2>/dev/null; "
    )
}

/// How many KVM levels stacked on a TCG level (emulated SVM/VMX) it takes before a
/// guest needs [`PERIODIC_TICK`]. Measured here (DESIGN §6): the third KVM level above
/// TCG (L4 with L1 = TCG) pays ~8–12 ms per exit, more than the 4 ms tick, and with
/// the one-shot timer livelocks re-arming it; L3 boots fine without.
pub const TICK_DEPTH_OVER_TCG: usize = 3;

/// Whether a level accelerated by `this`, above levels accelerated by `below` (L1
/// first), needs a periodic tick: only KVM that is [`TICK_DEPTH_OVER_TCG`] or more
/// levels deep above a TCG level. With hardware nesting (no TCG level) never.
pub fn needs_periodic_tick(below: &[Accel], this: Accel) -> bool {
    kvm_too_deep(below, this)
}

/// Whether `this` = KVM would be [`TICK_DEPTH_OVER_TCG`] or more KVM levels above a
/// TCG level (`below`: the levels under it, L1 first).
pub fn kvm_too_deep(below: &[Accel], this: Accel) -> bool {
    if this != Accel::Kvm {
        return false;
    }
    let kvm_run = 1 + below.iter().rev().take_while(|a| **a == Accel::Kvm).count();
    kvm_run < below.len() + 1 && kvm_run >= TICK_DEPTH_OVER_TCG
}

/// Whether a level accelerated by `this` above `below` (L1 first), with
/// `levels_above` levels still to start above it, belongs to the stack's CPU column:
/// true when the deepest level, if every level above this one ran KVM, would need
/// [`PERIODIC_TICK`], and this level runs KVM on top of another KVM level. Measured
/// here (DESIGN §6, docs/qemu.md "L4 boot tuning"): such a deep level boots only when
/// nothing else interrupts it, so each column level keeps its CPU 1 for its child's
/// last vCPU (`nohz_full=1`, the child's vCPU thread pinned there). The first KVM
/// level above TCG is left out: a second vCPU there cost the whole stack. With
/// hardware nesting (no TCG level) never.
pub fn in_column(below: &[Accel], this: Accel, levels_above: u32) -> bool {
    // A TCG level's vCPUs are threads of its parent's QEMU, scheduled by the parent
    // (L1's by the host): the column starts above the first KVM level.
    if levels_above == 0 || this != Accel::Kvm {
        return false;
    }
    // The first KVM level above TCG (L2 here) runs on emulated SVM, and with a second
    // vCPU there 5 of 8 four-level runs lost the stack: 3 times its QEMU exited (a
    // silent guest reset), once L1's kernel overflowed its stack in that QEMU's vCPU
    // thread (recursive page faults on its per-CPU area), once L1 stopped answering.
    // With one vCPU, 15 of 15 completed (docs/qemu.md, "Reliability").
    if below.last() == Some(&Accel::Tcg) {
        return false;
    }
    let mut stack = below.to_vec();
    stack.push(this);
    stack.extend(std::iter::repeat_n(Accel::Kvm, levels_above as usize - 1));
    kvm_too_deep(&stack, Accel::Kvm)
}

/// Which of `depth` levels (L1 first) are expected in the CPU column before anything
/// runs, given L1's acceleration `l1` and whether TCG is forced everywhere: a guess
/// that deeper levels run KVM (each parent decides at launch). For the plan lines and
/// the doctor; the launch itself uses [`in_column`] on what each level really got.
pub fn expected_column(l1: Accel, tcg_forced: bool, depth: u32) -> Vec<bool> {
    if tcg_forced {
        return vec![false; depth as usize];
    }
    let accels: Vec<Accel> = (1..=depth)
        .map(|n| if n == 1 { l1 } else { Accel::Kvm })
        .collect();
    (1..=depth)
        .map(|n| {
            let i = n as usize - 1;
            in_column(&accels[..i], accels[i], depth - n)
        })
        .collect()
}

/// The CPU a column level keeps for its child.
pub const CHILD_CPU: u32 = 1;

/// Shell, run in a column level before it starts its child: bring [`CHILD_CPU`]
/// online (a nested column level boots with `maxcpus=1`) and keep timers where they
/// are armed (with `nohz_full`, hrtimers armed on CPU 1 — the child's emulated LAPIC
/// timer among them — would fire on CPU 0 and reach the child as an IPI).
pub const ONLINE_CHILD_CPU: &str = "f=/sys/devices/system/cpu/cpu1/online; \
     [ ! -e $f ] || [ \"$(cat $f)\" = 1 ] || echo 1 > $f; \
     echo 0 > /proc/sys/kernel/timer_migration 2>/dev/null; ";

/// Kernel command-line options for microvm levels (DESIGN §6) that only shorten boot.
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

/// The kernel command line for `spec`, and the entries that count as tuning.
pub fn kernel_cmdline(spec: &LaunchSpec) -> (String, Vec<String>) {
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
    if spec.periodic_tick {
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
    if spec.child_cpu {
        let t = format!("nohz_full={CHILD_CPU}");
        args.push(t.clone());
        tuning.push(t);
    }
    if spec.boot_one_cpu {
        // CPU 1 stays offline while this level boots and is measured (a second nested
        // vCPU slowed L3's boot here, and every nested level is measured on one CPU).
        args.push("maxcpus=1".into());
        tuning.push("maxcpus=1 (CPU 1 onlined for the child after the measurement)".into());
    }
    args.push(format!("nestbench.level={}", spec.level));
    args.push(format!("nestbench.port={}", spec.port));
    (args.join(" "), tuning)
}

/// The full argv (argv[0] = the QEMU binary) and the tuning it applies.
pub fn build(spec: &LaunchSpec) -> (Vec<String>, Vec<String>) {
    let (cmdline, mut tuning) = kernel_cmdline(spec);
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
    let mut netdev = "user,id=net0,restrict=on".to_string();
    for p in &spec.forward_ports {
        netdev.push_str(&format!(",hostfwd=tcp:{}:{p}-:{p}", spec.forward_addr));
    }
    push(&["-netdev", &netdev, "-device", &format!("{net},netdev=net0")]);
    let hk = format!("name=opt/nestbench/host_key,file={}", spec.host_key);
    let ak = format!(
        "name=opt/nestbench/authorized_keys,file={}",
        spec.authorized_keys
    );
    push(&["-fw_cfg", &hk, "-fw_cfg", &ak]);
    push(&["-serial", &format!("file:{}", spec.serial)]);
    if spec.pinned {
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
    (a, tuning)
}

#[cfg(test)]
mod tests;
