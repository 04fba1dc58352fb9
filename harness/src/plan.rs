//! The plan of a QEMU stack, made before anything starts: per level its vCPUs (L1: the
//! host's, up to 4; nested levels: 1, since nested IPIs cost several exits), memory,
//! machine type, scratch file system and boot timeout, checked against the host. Each
//! level gets half of its parent's memory, which leaves the parent room for its own
//! kernel, initramfs and the QEMU that runs the child; a depth that does not fit is
//! refused with the numbers. Acceleration is resolved level by level at provision time
//! (it depends on what each level's CPU shows), so the plan only records the request.

use crate::cli::AccelArg;
use std::path::PathBuf;
use std::time::Duration;

/// L1's default memory ceiling (MiB): larger costs boot time under TCG and buys the
/// smoke and quick suites nothing.
pub const DEFAULT_L1_MAX_MIB: u64 = 4096;
/// The smallest level nestbench will start (MiB).
pub const MIN_LEVEL_MIB: u64 = 256;
/// What a parent keeps for itself besides its child (kernel, initramfs, QEMU), MiB.
pub const PARENT_RESERVE_MIB: u64 = 256;
/// Host memory QEMU itself needs besides L1's RAM (TCG translation cache included), MiB.
pub const HOST_QEMU_OVERHEAD_MIB: u64 = 1280;
/// Each level's own scratch file system (sparse on the host: only what is written
/// takes space), MiB.
pub const SCRATCH_FS_MIB: u64 = 4096;

/// QEMU machine type of a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    /// `-M pc -bios qboot.rom` with virtio-pci devices (L1).
    Pc,
    /// `-M microvm` with virtio-mmio devices (L2 and deeper: boots much faster nested).
    Microvm,
}

/// One level of the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelSpec {
    /// 1-based level.
    pub level: u32,
    /// vCPUs.
    pub vcpus: u32,
    /// Memory, MiB.
    pub memory_mib: u64,
    /// Machine type.
    pub machine: Machine,
    /// This level's own scratch file system, MiB.
    pub fs_mib: u64,
    /// Deepest level: boots the leaf initramfs (no QEMU inside).
    pub leaf: bool,
}

/// What the host offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostResources {
    /// Online CPUs.
    pub cpus: u32,
    /// MemAvailable, MiB.
    pub mem_available_mib: u64,
    /// Free space where L1's scratch file goes, MiB.
    pub disk_available_mib: u64,
    /// Where L1's scratch file goes (`NESTBENCH_SCRATCH_DIR`, else `$TMPDIR`).
    pub scratch_dir: PathBuf,
}

impl HostResources {
    /// Measure this host; `scratch_dir` is where L1's scratch file will live.
    pub fn probe(scratch_dir: &std::path::Path) -> HostResources {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        let mem_available_mib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("MemAvailable:"))
                    .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            })
            .map_or(0, |kib| kib / 1024);
        let disk_available_mib = statvfs_free_mib(scratch_dir).unwrap_or(0);
        HostResources {
            cpus,
            mem_available_mib,
            disk_available_mib,
            scratch_dir: scratch_dir.to_path_buf(),
        }
    }
}

fn statvfs_free_mib(dir: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs(3) fills the zeroed struct we own; the path is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    (unsafe { libc::statvfs(c.as_ptr(), &mut st) } == 0)
        .then(|| st.f_bavail as u64 * st.f_frsize as u64 / (1024 * 1024))
}

/// The whole stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Levels 1..=depth, in order.
    pub levels: Vec<LevelSpec>,
    /// Requested acceleration.
    pub accel: AccelArg,
}

impl Plan {
    /// Level `n` (1-based).
    pub fn level(&self, n: u32) -> &LevelSpec {
        &self.levels[n as usize - 1]
    }

    /// Size of level `n`'s scratch device: its own file system and every deeper one.
    pub fn disk_mib(&self, n: u32) -> u64 {
        self.levels[n as usize - 1..].iter().map(|l| l.fs_mib).sum()
    }

    /// Offset of level `n`'s file system from the start of L1's scratch file, MiB.
    pub fn abs_offset_mib(&self, n: u32) -> u64 {
        self.levels[..n as usize - 1].iter().map(|l| l.fs_mib).sum()
    }
}

/// The memory L1 needs so that `depth` levels fit (halving per level, reserve kept).
pub fn min_l1_memory(depth: u32) -> u64 {
    let mut m = MIN_LEVEL_MIB;
    for _ in 1..depth {
        m = (m * 2).max(m + PARENT_RESERVE_MIB);
    }
    m
}

fn round64(m: u64) -> u64 {
    m / 64 * 64
}

/// Why a stack does not fit on this host: one line with the numbers and what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// `--cpus` asks for more CPUs than the host has.
    #[error("--cpus {asked} exceeds the host's {host} CPUs; pass --cpus {host} or fewer")]
    TooManyCpus {
        /// What `--cpus` asked for.
        asked: u32,
        /// The host's CPUs.
        host: u32,
    },
    /// L1 and its QEMU do not fit in the host's available memory.
    #[error("L1 needs {l1_mib} MiB + {HOST_QEMU_OVERHEAD_MIB} MiB for QEMU, but the host has {available_mib} MiB available; pass a smaller --memory or free memory")]
    HostMemory {
        /// L1's memory, MiB.
        l1_mib: u64,
        /// The host's MemAvailable, MiB.
        available_mib: u64,
    },
    /// The depth does not fit in L1's memory.
    #[error("--levels {depth} does not fit in {l1_mib} MiB for L1: each level gets half its parent's memory, at least {MIN_LEVEL_MIB} MiB, and a parent keeps {PARENT_RESERVE_MIB} MiB; L1 needs at least {need_mib} MiB (--memory {need_mib}) or use fewer --levels")]
    TooDeep {
        /// `--levels`.
        depth: u32,
        /// L1's memory, MiB.
        l1_mib: u64,
        /// What L1 would need, MiB.
        need_mib: u64,
    },
    /// The scratch disks do not fit where L1's scratch file goes.
    #[error("the scratch disks need up to {need_mib} MiB (sparse), but only {free_mib} MiB are free in {}; set NESTBENCH_SCRATCH_DIR to a larger file system", dir.display())]
    ScratchDisk {
        /// What the scratch file may grow to, MiB.
        need_mib: u64,
        /// Free space there, MiB.
        free_mib: u64,
        /// Where it would go.
        dir: PathBuf,
    },
}

/// Plan `depth` levels; `memory_mib`/`cpus` override L1.
pub fn make(
    depth: u32,
    memory_mib: Option<u64>,
    cpus: Option<u32>,
    accel: AccelArg,
    host: &HostResources,
) -> Result<Plan, PlanError> {
    let l1_mem = match memory_mib {
        Some(m) => m,
        None => round64(
            (host
                .mem_available_mib
                .saturating_sub(HOST_QEMU_OVERHEAD_MIB)
                / 2)
            .min(DEFAULT_L1_MAX_MIB),
        ),
    };
    let l1_cpus = cpus.unwrap_or(host.cpus.clamp(1, 4));
    if l1_cpus > host.cpus {
        return Err(PlanError::TooManyCpus {
            asked: l1_cpus,
            host: host.cpus,
        });
    }
    if l1_mem + HOST_QEMU_OVERHEAD_MIB > host.mem_available_mib {
        return Err(PlanError::HostMemory {
            l1_mib: l1_mem,
            available_mib: host.mem_available_mib,
        });
    }
    let need = min_l1_memory(depth);
    if l1_mem < need {
        return Err(PlanError::TooDeep {
            depth,
            l1_mib: l1_mem,
            need_mib: need,
        });
    }
    let mut levels = vec![];
    let mut mem = l1_mem;
    for n in 1..=depth {
        if n > 1 {
            mem = round64(mem / 2);
        }
        levels.push(LevelSpec {
            level: n,
            // Nested vCPUs multiply the cost of every IPI and TLB shootdown through
            // each hypervisor below; one vCPU per nested level boots several times
            // faster here.
            vcpus: if n == 1 { l1_cpus } else { 1 },
            memory_mib: mem,
            machine: if n == 1 {
                Machine::Pc
            } else {
                Machine::Microvm
            },
            fs_mib: SCRATCH_FS_MIB,
            leaf: n == depth,
        });
    }
    let disk: u64 = levels.iter().map(|l| l.fs_mib).sum();
    if disk > host.disk_available_mib {
        return Err(PlanError::ScratchDisk {
            need_mib: disk,
            free_mib: host.disk_available_mib,
            dir: host.scratch_dir.clone(),
        });
    }
    Ok(Plan { levels, accel })
}

/// The longest default wait for one level's sshd, seconds.
pub const MAX_BOOT_WAIT_S: u64 = 1200;

/// How long to wait for level `n`'s sshd: scaled to its acceleration and depth,
/// `NESTBENCH_BOOT_TIMEOUT_S` (seconds, every level) overrides.
pub fn boot_timeout(n: u32, tcg: bool) -> Duration {
    if let Some(s) = std::env::var("NESTBENCH_BOOT_TIMEOUT_S")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        return Duration::from_secs(s);
    }
    let base: u64 = if tcg { 180 } else { 60 };
    // Capped: L4 answered ~500 s after launch at best before the deep-level tuning
    // (docs/qemu.md, "Measured facts"); a level still
    // silent after 20 minutes is reported failed (with its console) rather than
    // holding the run for an hour.
    Duration::from_secs((base * 3u64.pow(n.saturating_sub(1).min(6))).min(MAX_BOOT_WAIT_S))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> HostResources {
        HostResources {
            cpus: 2,
            mem_available_mib: 22_000,
            disk_available_mib: 80_000,
            scratch_dir: "/tmp".into(),
        }
    }

    #[test]
    fn default_plan_halves_memory_per_level() {
        let p = make(4, None, None, AccelArg::Auto, &host()).unwrap();
        let mem: Vec<u64> = p.levels.iter().map(|l| l.memory_mib).collect();
        assert_eq!(mem, [4096, 2048, 1024, 512]);
        assert_eq!(p.level(1).machine, Machine::Pc);
        assert_eq!(p.level(2).machine, Machine::Microvm);
        assert!(p.level(4).leaf && !p.level(3).leaf);
        assert_eq!(p.disk_mib(2), 3 * SCRATCH_FS_MIB);
        assert_eq!(p.abs_offset_mib(3), 2 * SCRATCH_FS_MIB);
        assert_eq!(p.level(1).vcpus, 2);
        assert_eq!(p.level(2).vcpus, 1);
    }

    #[test]
    fn refuses_memory_too_small_for_the_depth() {
        let e = make(4, Some(1024), None, AccelArg::Auto, &host())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--levels 4") && e.contains("--memory 2048"),
            "{e}"
        );
        assert!(make(3, Some(1024), None, AccelArg::Auto, &host()).is_ok());
        assert_eq!(min_l1_memory(1), 256);
        assert_eq!(min_l1_memory(2), 512);
        assert_eq!(min_l1_memory(4), 2048);
    }

    #[test]
    fn refuses_what_the_host_cannot_give() {
        let small = HostResources {
            mem_available_mib: 2000,
            ..host()
        };
        let e = make(2, Some(4096), None, AccelArg::Auto, &small).unwrap_err();
        assert!(e.to_string().contains("2000 MiB available"), "{e}");
        let e = make(2, None, Some(8), AccelArg::Auto, &host()).unwrap_err();
        assert_eq!(e, PlanError::TooManyCpus { asked: 8, host: 2 });
        assert!(e.to_string().contains("--cpus 8"), "{e}");
        let tiny_disk = HostResources {
            disk_available_mib: 100,
            ..host()
        };
        let e = make(1, None, None, AccelArg::Auto, &tiny_disk).unwrap_err();
        assert!(e.to_string().contains("are free in /tmp;"), "{e}");
    }

    #[test]
    fn boot_timeouts_grow_with_depth() {
        assert!(boot_timeout(3, false) > boot_timeout(2, false));
        assert!(boot_timeout(1, true) > boot_timeout(1, false));
    }
}
