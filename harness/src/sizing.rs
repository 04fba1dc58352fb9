//! The run's working-set sizes, fixed once per run so every level runs the same
//! workload (the rule that makes levels comparable), with the one rule of
//! [`model::sizes::fit`]: the memory working sets at least 4× L0's last-level cache
//! (STREAM's rule: each array, and the latency buffer) where the smallest level has room
//! for that, otherwise the smaller size at every level, flagged cache-resident in each
//! result's params and in the report. Sizes given with `--sizes` win.
//!
//! The cache judged against is the host's (L0's), read from its sysfs here and passed
//! to every level's agent (`--llc-mib`): guests under TCG report caches QEMU makes up,
//! and under KVM they share the host's anyway.

use crate::backend::Capacity;
use crate::plan::PARENT_RESERVE_MIB;
use model::sizes::{cache_resident, fit, Fitted, Room, STREAM_ARRAYS};
use model::{Sizes, Suite};

/// What the controller knows of L0 when it fixes the sizes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostMemory {
    /// L0's last-level cache, MiB.
    pub llc_mib: Option<u64>,
    /// L0's MemAvailable, MiB.
    pub mem_available_mib: Option<u64>,
}

impl HostMemory {
    /// Reads this machine's sysfs and /proc/meminfo (L0 is the machine running
    /// nestbench for every backend so far).
    pub fn probe() -> HostMemory {
        HostMemory {
            llc_mib: model::info::llc_mib_from(|p| std::fs::read_to_string(p).ok()),
            mem_available_mib: std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|m| {
                    m.lines()
                        .find_map(|l| l.strip_prefix("MemAvailable:"))
                        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
                })
                .map(|kib| kib / 1024),
        }
    }
}

/// Which levels the sizes must fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Levels {
    /// L0 alone (`--levels 0`).
    HostOnly,
    /// Guests, the smallest of which has this capacity (the QEMU plan).
    Guests(Capacity),
    /// Levels whose memory is not known before they are reached (an inventory).
    Unknown,
}

/// The room one memory working set has in a level of `memory_mib`: half of what its
/// own system (kernel, RAM-rooted image, agent: [`PARENT_RESERVE_MIB`]) leaves, or a
/// quarter of it when that is more (small levels, as a bare agent takes a quarter).
/// The memory workloads run one after the other, and a level is measured before its
/// child starts, so nothing else needs the rest.
pub fn level_room_mib(memory_mib: u64) -> u64 {
    (memory_mib.saturating_sub(PARENT_RESERVE_MIB) / 2).max(memory_mib / 4)
}

/// The room the sizes must fit: the smallest guest's memory (see [`level_room_mib`])
/// and a quarter of its scratch disk; for L0 alone a quarter of its available memory,
/// as a bare agent run takes; for unknown levels none, so the suite's table is kept
/// (not raised to the cache-valid sizes a small machine might not hold).
pub fn room(levels: Levels, host: HostMemory) -> Room {
    match levels {
        Levels::HostOnly => Room {
            memory_mib: host.mem_available_mib.map(|m| m / 4),
            disk_mib: None,
            llc_mib: host.llc_mib,
        },
        Levels::Guests(c) => Room {
            memory_mib: Some(level_room_mib(c.memory_mib)),
            disk_mib: Some(c.disk_mib / 4),
            llc_mib: host.llc_mib,
        },
        Levels::Unknown => Room {
            memory_mib: None,
            disk_mib: None,
            llc_mib: None,
        },
    }
}

/// Sizes for a run of `suite`: `given` first, then what the levels allow; the flags say
/// whether the memory figures will be the cache's (judged against L0's cache, also for
/// given sizes).
pub fn derive(suite: Suite, given: Sizes, levels: Levels, host: HostMemory) -> Fitted {
    let fitted = fit(suite, room(levels, host));
    let sizes = given.or(fitted.sizes);
    let judge = |mib: Option<u64>, per: u64| {
        host.llc_mib
            .zip(mib)
            .map(|(llc, m)| cache_resident(m as f64 / per as f64, llc))
    };
    Fitted {
        sizes,
        stream_cache_resident: judge(sizes.stream_mib, STREAM_ARRAYS),
        latency_cache_resident: judge(sizes.latency_mib, 1),
    }
}

/// One line for the run's output when memory figures will be the cache's, saying why:
/// smoke's tiny sizes, `--sizes`, or no room at the smallest level (or L0).
pub fn residency_note(
    f: &Fitted,
    host: HostMemory,
    suite: Suite,
    given: Sizes,
    levels: Levels,
) -> Option<String> {
    let llc = host.llc_mib?;
    let mut which = Vec::new();
    if f.stream_cache_resident == Some(true) {
        which.push(format!(
            "mem.stream (arrays {} MiB)",
            f.sizes.stream_mib.unwrap_or(0) / STREAM_ARRAYS
        ));
    }
    if f.latency_cache_resident == Some(true) {
        which.push(format!(
            "mem.latency (buffer {} MiB)",
            f.sizes.latency_mib.unwrap_or(0)
        ));
    }
    let why = if given.stream_mib.is_some() || given.latency_mib.is_some() {
        "as --sizes asked"
    } else if suite == Suite::Smoke {
        "smoke keeps its sizes tiny (quick or standard are cache-valid where memory allows)"
    } else {
        match levels {
            Levels::HostOnly => "a quarter of L0's available memory has no room for more",
            Levels::Guests(_) => "the smallest level has no room for more",
            Levels::Unknown => "the levels' memory is not known, so the suite's sizes are kept",
        }
    };
    (!which.is_empty()).then(|| {
        format!(
            "{} smaller than 4 × the {llc} MiB last-level cache, {why}: those figures are the cache's at every level, and the report marks them",
            which.join(" and ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(llc: Option<u64>) -> HostMemory {
        HostMemory {
            llc_mib: llc,
            mem_available_mib: Some(24_000),
        }
    }

    fn guests(memory_mib: u64, disk_mib: u64) -> Levels {
        Levels::Guests(Capacity {
            memory_mib,
            disk_mib,
        })
    }

    #[test]
    fn small_levels_shrink_the_working_sets() {
        let f = derive(Suite::Quick, Sizes::default(), guests(256, 64), host(None));
        let s = f.sizes;
        assert_eq!(s.stream_mib, Some(64));
        assert_eq!(s.pagefault_mib, Some(16));
        assert_eq!(s.disk_mib, Some(16));
        assert_eq!(f.stream_cache_resident, None);
    }

    #[test]
    fn the_default_four_level_plan_is_cache_resident_for_stream_only() {
        // L1 4096 MiB halving to L4 512 MiB (plan.rs), 4 GiB scratch each, 32 MiB L3.
        let f = derive(
            Suite::Quick,
            Sizes::default(),
            guests(512, 4096),
            host(Some(32)),
        );
        assert_eq!(f.sizes.stream_mib, Some(128));
        assert_eq!(f.sizes.latency_mib, Some(128));
        assert_eq!(f.sizes.pagefault_mib, Some(32));
        assert_eq!(f.sizes.disk_mib, Some(256));
        assert_eq!(f.stream_cache_resident, Some(true));
        assert_eq!(f.latency_cache_resident, Some(false));
        let plan = guests(512, 4096);
        let note = residency_note(&f, host(Some(32)), Suite::Quick, Sizes::default(), plan);
        let note = note.unwrap();
        assert!(note.contains("mem.stream (arrays 42 MiB)"), "{note}");
        assert!(note.contains("the smallest level has no room"), "{note}");
        assert!(!note.contains("mem.latency"), "{note}");
        // Three levels (L3 1024 MiB) have room for valid STREAM arrays.
        let f = derive(
            Suite::Quick,
            Sizes::default(),
            guests(1024, 4096),
            host(Some(32)),
        );
        assert_eq!(f.sizes.stream_mib, Some(384));
        assert_eq!(f.stream_cache_resident, Some(false));
        let three = guests(1024, 4096);
        let note = residency_note(&f, host(Some(32)), Suite::Quick, Sizes::default(), three);
        assert_eq!(note, None);
    }

    #[test]
    fn an_l0_only_run_is_valid_within_a_quarter_of_the_memory() {
        let f = derive(
            Suite::Quick,
            Sizes::default(),
            Levels::HostOnly,
            host(Some(480)),
        );
        assert_eq!(f.sizes.stream_mib, Some(5760));
        assert_eq!(f.sizes.latency_mib, Some(1920));
        assert_eq!(f.stream_cache_resident, Some(false));
        let small = HostMemory {
            mem_available_mib: Some(8192),
            ..host(Some(480))
        };
        let f = derive(Suite::Quick, Sizes::default(), Levels::HostOnly, small);
        assert_eq!(f.sizes.stream_mib, Some(2048));
        assert_eq!(f.stream_cache_resident, Some(true));
    }

    #[test]
    fn unknown_levels_keep_the_suites_table() {
        let f = derive(
            Suite::Quick,
            Sizes::default(),
            Levels::Unknown,
            host(Some(32)),
        );
        assert_eq!(f.sizes, Suite::Quick.default_sizes());
        // Judged against L0's cache all the same.
        assert_eq!(f.stream_cache_resident, Some(true));
    }

    #[test]
    fn given_sizes_win_and_are_judged_too() {
        let given: Sizes = "stream=8".parse().unwrap();
        let f = derive(Suite::Smoke, given, Levels::HostOnly, host(Some(1)));
        assert_eq!(f.sizes.stream_mib, Some(8));
        assert_eq!(f.sizes.disk_mib, Some(16));
        assert_eq!(f.stream_cache_resident, Some(true));
        let note = residency_note(&f, host(Some(1)), Suite::Smoke, given, Levels::HostOnly);
        assert!(note.unwrap().contains("as --sizes asked"));
        let f = derive(
            Suite::Smoke,
            Sizes::default(),
            Levels::HostOnly,
            host(Some(32)),
        );
        let note = residency_note(
            &f,
            host(Some(32)),
            Suite::Smoke,
            Sizes::default(),
            Levels::HostOnly,
        );
        assert!(note.unwrap().contains("smoke keeps its sizes tiny"));
        let given: Sizes = "stream=12".parse().unwrap();
        let f = derive(Suite::Smoke, given, Levels::HostOnly, host(Some(1)));
        assert_eq!(f.stream_cache_resident, Some(false));
    }

    #[test]
    fn the_room_of_a_level_leaves_its_system_alone() {
        assert_eq!(level_room_mib(512), 128);
        assert_eq!(level_room_mib(1024), 384);
        assert_eq!(level_room_mib(256), 64);
        assert_eq!(level_room_mib(100), 25);
    }
}
