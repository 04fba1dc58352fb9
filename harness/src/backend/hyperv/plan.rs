//! The plan of a Hyper-V stack, made before anything is created: per level its
//! processors, static memory and which VHDX it boots, checked against what the
//! Hyper-V host reported (`hyperv_host`). A depth that does not fit is refused with
//! the numbers, as the QEMU plan is ([`crate::plan`]), so nothing is half built.
//!
//! Memory: L1 gets `--memory` (default: [`DEFAULT_L1_MIB`], at most what the host has
//! free beyond [`HOST_RESERVE_MIB`] for its root partition); every deeper level gets
//! its parent's memory less [`PARENT_RESERVE_MIB`] (the parent's own Windows and
//! Hyper-V), rounded down to Hyper-V's 2 MiB granularity. A Windows level needs
//! [`MIN_WINDOWS_MIB`], a Linux leaf [`MIN_LINUX_MIB`].
//!
//! Processors: every level gets `--cpus` (default 2, at most the host's logical
//! processors); a level that hosts a child needs at least 2 (the check `hyperv
//! prepare` makes), and a VM cannot have more than its host.

/// L1's memory when `--memory` is not given, MiB.
pub const DEFAULT_L1_MIB: u64 = 8192;
/// What the Hyper-V host's root partition keeps for itself, MiB.
pub const HOST_RESERVE_MIB: u64 = 2048;
/// What a level that hosts a child keeps for its own Windows and Hyper-V, MiB.
pub const PARENT_RESERVE_MIB: u64 = 2048;
/// The least a Windows level runs in, MiB.
pub const MIN_WINDOWS_MIB: u64 = 2048;
/// The least a Linux leaf runs in, MiB.
pub const MIN_LINUX_MIB: u64 = 512;
/// Processors per level when `--cpus` is not given.
pub const DEFAULT_CPUS: u32 = 2;

/// Which disk a level boots from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Image {
    /// `--base-vhdx`: Windows with OpenSSH Server, the Hyper-V role and the first-boot task.
    Base,
    /// `--leaf-vhdx`: a Linux guest with sshd and cloud-init (deepest level only).
    Leaf,
}

/// One planned level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelPlan {
    /// 1-based level.
    pub level: u32,
    /// Virtual processors.
    pub cpus: u32,
    /// Static memory, MiB.
    pub memory_mib: u64,
    /// The VHDX it boots (through a differencing disk).
    pub image: Image,
}

impl LevelPlan {
    /// Whether it runs Windows (and so the Windows agent).
    pub fn windows(&self) -> bool {
        self.image == Image::Base
    }
}

/// What the host offers (from `hyperv_host`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostCapacity {
    /// Logical processors.
    pub cpus: u32,
    /// Free physical memory, MiB.
    pub memory_free_mib: u64,
}

/// What the run asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// Levels below L0.
    pub levels: u32,
    /// `--memory` (L1, MiB).
    pub memory_mib: Option<u64>,
    /// `--cpus` (every level).
    pub cpus: Option<u32>,
    /// Whether `--leaf-vhdx` was given (the deepest level boots it).
    pub linux_leaf: bool,
}

/// The plan, L1 first, or why it cannot fit (with the numbers).
pub fn make(req: Request, host: HostCapacity) -> Result<Vec<LevelPlan>, String> {
    if req.levels == 0 {
        return Ok(vec![]);
    }
    let usable = host.memory_free_mib.saturating_sub(HOST_RESERVE_MIB);
    let l1 = match req.memory_mib {
        Some(m) if m > usable => {
            return Err(format!(
                "--memory {m} MiB for L1 does not fit: the Hyper-V host has {} MiB free and keeps {HOST_RESERVE_MIB} MiB for itself ({usable} MiB usable)",
                host.memory_free_mib
            ))
        }
        Some(m) => m,
        None => DEFAULT_L1_MIB.min(usable),
    };
    let cpus = req.cpus.unwrap_or(DEFAULT_CPUS).min(host.cpus.max(1));
    if let Some(c) = req.cpus.filter(|&c| c > host.cpus) {
        return Err(format!(
            "--cpus {c} does not fit: the Hyper-V host has {} logical processors",
            host.cpus
        ));
    }
    if req.levels > 1 && cpus < 2 {
        return Err(format!(
            "a level that hosts a child needs at least 2 virtual processors, and {cpus} is all this run gives each level (--cpus, or the host's {} logical processors)",
            host.cpus
        ));
    }
    let mut out = vec![];
    let mut memory = l1 / 2 * 2;
    for level in 1..=req.levels {
        if level > 1 {
            memory = memory.saturating_sub(PARENT_RESERVE_MIB) / 2 * 2;
        }
        let image = if level == req.levels && req.linux_leaf {
            Image::Leaf
        } else {
            Image::Base
        };
        let min = match image {
            Image::Base => MIN_WINDOWS_MIB,
            Image::Leaf => MIN_LINUX_MIB,
        };
        if memory < min {
            let shown: Vec<String> = out
                .iter()
                .map(|p: &LevelPlan| format!("L{} {} MiB", p.level, p.memory_mib))
                .collect();
            return Err(format!(
                "{} levels do not fit in {l1} MiB for L1: {}{}L{level} would get {memory} MiB ({} MiB less per level for each parent's Windows and Hyper-V) and a {} level needs {min} MiB; give L1 more with --memory, or fewer --levels",
                req.levels,
                shown.join(", "),
                if shown.is_empty() { "" } else { ", " },
                PARENT_RESERVE_MIB,
                if image == Image::Base { "Windows" } else { "Linux" },
            ));
        }
        out.push(LevelPlan {
            level,
            cpus,
            memory_mib: memory,
            image,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: HostCapacity = HostCapacity {
        cpus: 16,
        memory_free_mib: 65536,
    };

    fn req(levels: u32) -> Request {
        Request {
            levels,
            memory_mib: None,
            cpus: None,
            linux_leaf: false,
        }
    }

    #[test]
    fn each_level_gets_its_parent_s_memory_less_the_parent_s_own() {
        let p = make(req(3), HOST).unwrap();
        let mem: Vec<u64> = p.iter().map(|l| l.memory_mib).collect();
        assert_eq!(mem, [8192, 6144, 4096]);
        assert!(p.iter().all(|l| l.cpus == 2 && l.windows()));
    }

    #[test]
    fn a_linux_leaf_is_the_deepest_level_and_needs_less() {
        let r = Request {
            memory_mib: Some(4608),
            linux_leaf: true,
            ..req(3)
        };
        let p = make(r, HOST).unwrap();
        assert_eq!(p[2].image, Image::Leaf);
        assert_eq!(p[2].memory_mib, 512);
        assert_eq!(p[1].image, Image::Base);
    }

    #[test]
    fn what_does_not_fit_is_refused_with_the_numbers() {
        // Just fits: the deepest Windows level gets exactly its minimum.
        let fits = Request {
            memory_mib: Some(6144),
            ..req(3)
        };
        let mem: Vec<u64> = make(fits, HOST)
            .unwrap()
            .iter()
            .map(|l| l.memory_mib)
            .collect();
        assert_eq!(mem, [6144, 4096, 2048]);
        let e = make(
            Request {
                memory_mib: Some(5000),
                ..req(3)
            },
            HOST,
        )
        .unwrap_err();
        assert!(e.contains("L3 would get 904 MiB"), "{e}");
        assert!(e.contains("needs 2048 MiB"), "{e}");
        let small = HostCapacity {
            cpus: 16,
            memory_free_mib: 4096,
        };
        let e = make(
            Request {
                memory_mib: Some(8192),
                ..req(1)
            },
            small,
        )
        .unwrap_err();
        assert!(
            e.contains("4096 MiB free") && e.contains("2048 MiB usable"),
            "{e}"
        );
        // Without --memory, L1 takes what is usable.
        assert_eq!(make(req(1), small).unwrap()[0].memory_mib, 2048);
    }

    #[test]
    fn processors_are_checked_against_the_host() {
        let one = HostCapacity {
            cpus: 1,
            memory_free_mib: 65536,
        };
        assert!(make(req(2), one).unwrap_err().contains("at least 2"));
        assert_eq!(make(req(1), one).unwrap()[0].cpus, 1);
        let e = make(
            Request {
                cpus: Some(32),
                ..req(1)
            },
            HOST,
        )
        .unwrap_err();
        assert!(e.contains("16 logical processors"), "{e}");
        assert!(make(req(0), HOST).unwrap().is_empty());
    }
}
