//! Host checks: QEMU, KVM (usable for a stock guest or not), the kvm `nested`
//! parameter, and the memory/vCPU budget for N levels. [`HostProbe::read`] gathers the
//! facts; [`checks`] judges them without touching the machine.

use super::Check;
use crate::plan::PlanError;
use crate::virt::{self, Virt, VirtFlag};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Facts about the host that decide whether a nested run can work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostProbe {
    /// The qemu-system-x86_64 that would run L1, and its `--version` first line.
    pub qemu: Option<(PathBuf, String)>,
    /// `svm`/`vmx` in /proc/cpuinfo flags, and whether /dev/kvm opens read-write and
    /// answers KVM_GET_API_VERSION = 12 (what the QEMU backend asks for L1).
    pub virt: Virt,
    /// `kvm_amd`/`kvm_intel` `nested` parameter (`1`, `Y`, `0`, `N`), when loaded.
    pub kvm_nested: Option<(String, String)>,
    /// MemAvailable, MiB.
    pub mem_available_mib: u64,
    /// Online CPUs.
    pub cpus: u32,
}

impl HostProbe {
    /// Read the real host; `qemu` overrides the binary looked up on PATH.
    pub fn read(qemu: Option<&Path>) -> HostProbe {
        let qemu_path = qemu
            .map(Path::to_path_buf)
            .or_else(|| which("qemu-system-x86_64"));
        let qemu = qemu_path.and_then(|p| {
            let out = Command::new(&p).arg("--version").output().ok()?;
            let v = String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()?
                .to_string();
            Some((p, v))
        });
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let kvm_nested = ["kvm_amd", "kvm_intel"].iter().find_map(|m| {
            let v = std::fs::read_to_string(format!("/sys/module/{m}/parameters/nested")).ok()?;
            Some((m.to_string(), v.trim().to_string()))
        });
        // Unreadable /proc/cpuinfo: no flag shown (the checks then say KVM cannot
        // run a stock guest, and `run` says why it cannot tell).
        let virt = Virt::host().unwrap_or(Virt {
            flag: None,
            kvm: virt::host_kvm_works(),
        });
        HostProbe {
            qemu,
            virt,
            kvm_nested,
            mem_available_mib: meminfo_mib(&meminfo, "MemAvailable:"),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        }
    }

    /// Whether L1 can run under KVM with a stock kernel.
    pub fn kvm_for_stock_guest(&self) -> bool {
        self.virt.kvm_capable()
    }
}

fn meminfo_mib(meminfo: &str, key: &str) -> u64 {
    meminfo
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or(0, |kib| kib / 1024)
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// What the budget check needs from the plan: per level (memory MiB, vCPUs), L1 first.
pub type Budget = Result<Vec<(u64, u32)>, PlanError>;

/// Judge `probe` for a run of `levels` levels whose plan came out as `budget`.
pub fn checks(probe: &HostProbe, levels: u32, budget: &Budget) -> Vec<Check> {
    let mut out = vec![];
    if levels == 0 {
        out.push(Check::pass(
            "levels",
            "0 levels: only the host is measured, nothing to nest",
        ));
        return out;
    }
    out.push(match &probe.qemu {
        Some((p, v)) => Check::pass("qemu-system-x86_64", format!("{v} ({})", p.display())),
        None => Check::fail(
            "qemu-system-x86_64",
            "not found on PATH",
            "apt-get install --no-install-recommends qemu-system-x86 (or pass --qemu PATH)",
        ),
    });
    out.push(kvm_check(probe));
    if probe.kvm_for_stock_guest() {
        out.push(nested_check(probe));
    }
    out.push(match budget {
        Ok(levels_plan) => {
            let desc: Vec<String> = levels_plan
                .iter()
                .enumerate()
                .map(|(i, (m, c))| format!("L{} {m} MiB/{c} vCPU", i + 1))
                .collect();
            Check::pass(
                "memory and vCPU budget",
                format!(
                    "{}; fits in the host's {} MiB available",
                    desc.join(", "),
                    probe.mem_available_mib
                ),
            )
        }
        Err(why) => Check::fail(
            "memory and vCPU budget",
            why.to_string(),
            "free memory, lower --levels, or size L1 with --memory MIB / --cpus N",
        ),
    });
    if let Some(c) = deep_levels_check(probe, levels) {
        out.push(c);
    }
    out
}

/// With L1 under TCG, a stack deep enough to need the deep-level tuning (docs/qemu.md,
/// "L4 boot tuning") says so before it starts: it changes what those levels measure.
fn deep_levels_check(p: &HostProbe, levels: u32) -> Option<Check> {
    use crate::backend::qemu::argv::Accel;
    use crate::backend::qemu::nesting::{expected_column, TICK_DEPTH_OVER_TCG};
    let l1 = if p.kvm_for_stock_guest() {
        Accel::Kvm
    } else {
        Accel::Tcg
    };
    let column: Vec<u32> = expected_column(l1, false, levels)
        .iter()
        .zip(1..)
        .filter_map(|(&c, n)| c.then_some(n))
        .collect();
    let (&low, &high) = (column.first()?, column.last()?);
    let first = 1 + TICK_DEPTH_OVER_TCG as u32;
    let keepers = if low == high {
        format!("L{low} keeps CPU 1 for its child")
    } else {
        format!("L{low}–L{high} keep CPU 1 for their child")
    };
    Some(Check::warn(
        "deep levels",
        format!(
            "L{first}{} will be {TICK_DEPTH_OVER_TCG}+ KVM levels above TCG: it boots with a 50 Hz periodic \
             tick, on a CPU column ({keepers}, nohz_full, with a second vCPU that stays offline until \
             the child starts); exit.timer there is not comparable with hardware nesting, and run.json \
             lists it per level in env.tuning",
            if levels > first { "+" } else { "" },
        ),
        "nothing to do for a run; for deep levels without this tuning use a host with VT-x/AMD-V exposed",
    ))
}

fn kvm_check(p: &HostProbe) -> Check {
    match (p.virt.kvm, p.virt.flag) {
        (true, Some(flag)) => Check::pass("KVM", format!("/dev/kvm usable and the CPU shows {flag}: L1 runs under KVM")),
        (true, None) => Check::warn(
            "KVM",
            "/dev/kvm answers but the CPU shows neither svm nor vmx, so host KVM cannot run a stock guest \
             kernel (a paravirtual KVM such as PVM); L1 will run under TCG with -cpu max, which emulates \
             AMD SVM so that L2 and deeper get a working /dev/kvm",
            "nothing to do for a run; for KVM at L1 use a host with VT-x/AMD-V exposed (on a VM: enable nested virtualization for it)",
        ),
        (false, Some(flag)) => Check::warn(
            "KVM",
            format!("the CPU shows {flag} but /dev/kvm is missing or not accessible; L1 will run under TCG (much slower)"),
            "modprobe kvm_amd (AMD) or kvm_intel (Intel), and make /dev/kvm read-writable for your user (group kvm)",
        ),
        (false, None) => Check::warn(
            "KVM",
            "no /dev/kvm and no svm/vmx: L1 will run under TCG with -cpu max (emulated SVM)",
            "nothing to do for a run; for KVM at L1 use a host with hardware virtualization",
        ),
    }
}

fn nested_check(p: &HostProbe) -> Check {
    let module = p.virt.flag.unwrap_or(VirtFlag::Svm).kvm_module();
    match &p.kvm_nested {
        Some((m, v)) if v == "1" || v == "Y" => Check::pass("kvm nested", format!("{m} nested={v}")),
        Some((m, v)) => Check::fail(
            "kvm nested",
            format!("{m} nested={v}: L1 would get no svm/vmx and its children could not use KVM"),
            format!("echo 'options {m} nested=1' > /etc/modprobe.d/kvm-nested.conf && modprobe -r {m} && modprobe {m}"),
        ),
        None => Check::warn(
            "kvm nested",
            format!("{module} is not loaded, nested state unknown"),
            format!("modprobe {module} nested=1"),
        ),
    }
}

#[cfg(test)]
mod tests;

/// The host checks for a run of `levels` levels as `nestbench run` would plan it:
/// probe this host, plan the stack with the same overrides, judge.
pub fn for_run(levels: u32, opts: Option<&crate::config::QemuOptions>) -> Vec<Check> {
    let probe = HostProbe::read(opts.and_then(|o| o.qemu.as_deref()));
    let scratch = std::env::var_os("NESTBENCH_SCRATCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let host = crate::plan::HostResources::probe(&scratch);
    let accel = opts.map_or(crate::cli::AccelArg::Auto, |o| o.accel);
    let budget = crate::plan::make(
        levels,
        opts.and_then(|o| o.memory_mib),
        opts.and_then(|o| o.cpus),
        accel,
        &host,
    )
    .map(|p| p.levels.iter().map(|l| (l.memory_mib, l.vcpus)).collect());
    checks(&probe, levels, &budget)
}
