//! The run's working-set sizes: fixed once per run by the controller (from the
//! smallest level's memory and scratch disk, and L0's last-level cache) and passed to
//! the agent, so every level runs the same workload. On the agent's command line they
//! travel as `--sizes stream=64,latency=64,pagefault=64,disk=64` (MiB, any subset; what
//! is not given is fitted by the agent with the same rule, and every result's `params`
//! records what was used).
//!
//! The rule ([`fit`]) is STREAM's: a memory-bandwidth figure needs each array at least
//! [`LLC_MULTIPLE`]× the last-level cache, otherwise it is the cache's bandwidth (a
//! 21 MiB array under a 32 MiB L3 reported about twice a valid C triad). The same goes
//! for the latency buffer. Where the room a level has (the smallest level's, for a
//! run) cannot hold that, the smaller size is used everywhere and the figures are
//! flagged `cache_resident` ([`cache_resident`]) rather than passed off as memory.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Working-set sizes in MiB. `None` means "the suite's default".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sizes {
    /// Total bytes of the three STREAM arrays, in MiB.
    pub stream_mib: Option<u64>,
    /// Pointer-chasing buffer of mem.latency, in MiB.
    pub latency_mib: Option<u64>,
    /// Anonymous memory first-touched per mem.pagefault sample, in MiB.
    pub pagefault_mib: Option<u64>,
    /// File size of disk.seq / disk.rand, in MiB.
    pub disk_mib: Option<u64>,
}

/// A `--sizes` value that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad --sizes value {0:?}: expected key=MiB pairs such as stream=64,disk=32 with keys stream, latency, pagefault, disk")]
pub struct SizesParseError(pub String);

impl FromStr for Sizes {
    type Err = SizesParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = Sizes::default();
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| SizesParseError(s.to_string()))?;
            let mib: u64 = v
                .trim()
                .parse()
                .ok()
                .filter(|m| *m > 0)
                .ok_or_else(|| SizesParseError(s.to_string()))?;
            let slot = match k.trim() {
                "stream" => &mut out.stream_mib,
                "latency" => &mut out.latency_mib,
                "pagefault" => &mut out.pagefault_mib,
                "disk" => &mut out.disk_mib,
                _ => return Err(SizesParseError(s.to_string())),
            };
            *slot = Some(mib);
        }
        Ok(out)
    }
}

impl fmt::Display for Sizes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = [
            ("stream", self.stream_mib),
            ("latency", self.latency_mib),
            ("pagefault", self.pagefault_mib),
            ("disk", self.disk_mib),
        ]
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={v}")))
        .collect();
        f.write_str(&parts.join(","))
    }
}

/// How many times the last-level cache each STREAM array and the latency buffer must be
/// for their figures to be memory's, not the cache's (STREAM's rule).
pub const LLC_MULTIPLE: u64 = 4;
/// The three STREAM arrays (a, b, c) that `stream` sizes in total.
pub const STREAM_ARRAYS: u64 = 3;

/// The smallest STREAM total (three arrays), MiB, that is cache-valid with this LLC.
pub fn stream_valid_mib(llc_mib: u64) -> u64 {
    STREAM_ARRAYS * LLC_MULTIPLE * llc_mib
}

/// The smallest latency buffer, MiB, that is cache-valid with this LLC.
pub fn latency_valid_mib(llc_mib: u64) -> u64 {
    LLC_MULTIPLE * llc_mib
}

/// Whether a working set of `mib` MiB (one STREAM array, or the latency buffer) is too
/// small to get past a last-level cache of `llc_mib` MiB: its figures are the cache's.
pub fn cache_resident(mib: f64, llc_mib: u64) -> bool {
    mib < (LLC_MULTIPLE * llc_mib) as f64
}

/// What the working sets may take where they run, each `None` when unknown (no cap).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Room {
    /// MiB one memory working set may take (they run one after the other).
    pub memory_mib: Option<u64>,
    /// MiB the disk workloads' file may take.
    pub disk_mib: Option<u64>,
    /// The last-level cache the memory working sets must get past, MiB.
    pub llc_mib: Option<u64>,
}

/// Sizes fitted to a [`Room`], and whether the memory figures will be the cache's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fitted {
    /// Every size set.
    pub sizes: Sizes,
    /// Whether each STREAM array is smaller than [`LLC_MULTIPLE`]× the LLC; `None` when
    /// the LLC is unknown.
    pub stream_cache_resident: Option<bool>,
    /// The same for the latency buffer.
    pub latency_cache_resident: Option<bool>,
}

/// The one sizing rule, for the controller (room: the smallest level's) and a bare
/// agent run (room: its own machine's). Start from the suite's table
/// ([`Suite::default_sizes`](crate::Suite::default_sizes)); raise STREAM and the latency
/// buffer to their cache-valid sizes ([`stream_valid_mib`], [`latency_valid_mib`]) when
/// the LLC is known — except for `smoke`, whose tiny sizes are for tests; cap the memory
/// sizes at `room.memory_mib` (page faults at a quarter of it) and the file at
/// `room.disk_mib`. Given sizes are not this function's business: callers keep them.
pub fn fit(suite: crate::Suite, room: Room) -> Fitted {
    let d = suite.default_sizes();
    let def = |v: Option<u64>| v.expect("every suite default is set");
    let raise = |base: u64, valid: fn(u64) -> u64| match room.llc_mib {
        Some(llc) if suite != crate::Suite::Smoke => base.max(valid(llc)),
        _ => base,
    };
    let cap =
        |want: u64, room: Option<u64>, floor: u64| room.map_or(want, |r| want.min(r.max(floor)));
    let stream = cap(
        raise(def(d.stream_mib), stream_valid_mib),
        room.memory_mib,
        4,
    );
    let latency = cap(
        raise(def(d.latency_mib), latency_valid_mib),
        room.memory_mib,
        4,
    );
    let pagefault = cap(def(d.pagefault_mib), room.memory_mib.map(|m| m / 4), 2);
    let disk = cap(def(d.disk_mib), room.disk_mib, 1);
    let sizes = Sizes {
        stream_mib: Some(stream),
        latency_mib: Some(latency),
        pagefault_mib: Some(pagefault),
        disk_mib: Some(disk),
    };
    Fitted {
        sizes,
        stream_cache_resident: room
            .llc_mib
            .map(|l| cache_resident(stream as f64 / STREAM_ARRAYS as f64, l)),
        latency_cache_resident: room.llc_mib.map(|l| cache_resident(latency as f64, l)),
    }
}

impl Sizes {
    /// These sizes, with what they lack taken from `fallback`.
    pub fn or(self, fallback: Sizes) -> Sizes {
        Sizes {
            stream_mib: self.stream_mib.or(fallback.stream_mib),
            latency_mib: self.latency_mib.or(fallback.latency_mib),
            pagefault_mib: self.pagefault_mib.or(fallback.pagefault_mib),
            disk_mib: self.disk_mib.or(fallback.disk_mib),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Suite;

    fn room(memory: Option<u64>, llc: Option<u64>) -> Room {
        Room {
            memory_mib: memory,
            disk_mib: None,
            llc_mib: llc,
        }
    }

    #[test]
    fn memory_sizes_are_raised_to_four_times_the_llc_where_there_is_room() {
        // A 32 MiB L3: each array >= 128 MiB, so 384 MiB in all; the buffer 128 MiB.
        let f = fit(Suite::Quick, room(Some(4096), Some(32)));
        assert_eq!(f.sizes.stream_mib, Some(384));
        assert_eq!(f.sizes.latency_mib, Some(128));
        assert_eq!(f.stream_cache_resident, Some(false));
        assert_eq!(f.latency_cache_resident, Some(false));
        // The suite's table stays when it is larger already.
        let f = fit(Suite::Standard, room(None, Some(8)));
        assert_eq!(f.sizes.stream_mib, Some(512));
        assert_eq!(f.sizes.latency_mib, Some(256));
    }

    #[test]
    fn too_little_room_keeps_the_smaller_size_and_flags_it() {
        let f = fit(Suite::Quick, room(Some(128), Some(32)));
        assert_eq!(f.sizes.stream_mib, Some(128));
        assert_eq!(f.sizes.latency_mib, Some(128));
        assert_eq!(f.sizes.pagefault_mib, Some(32));
        assert_eq!(f.stream_cache_resident, Some(true));
        assert_eq!(f.latency_cache_resident, Some(false));
        let f = fit(Suite::Quick, room(Some(128), Some(480)));
        assert_eq!(f.latency_cache_resident, Some(true));
    }

    #[test]
    fn smoke_stays_tiny_and_an_unknown_llc_flags_nothing() {
        let f = fit(Suite::Smoke, room(None, Some(32)));
        assert_eq!(f.sizes, Suite::Smoke.default_sizes());
        assert_eq!(f.stream_cache_resident, Some(true));
        let f = fit(Suite::Quick, room(None, None));
        assert_eq!(f.sizes, Suite::Quick.default_sizes());
        assert_eq!(f.stream_cache_resident, None);
        let f = fit(
            Suite::Quick,
            Room {
                disk_mib: Some(0),
                ..room(Some(0), None)
            },
        );
        assert_eq!(f.sizes.stream_mib, Some(4));
        assert_eq!(f.sizes.disk_mib, Some(1));
    }

    #[test]
    fn residency_is_judged_per_array() {
        assert!(cache_resident(127.9, 32));
        assert!(!cache_resident(128.0, 32));
        assert_eq!(stream_valid_mib(32), 384);
        assert_eq!(latency_valid_mib(480), 1920);
    }

    #[test]
    fn given_sizes_are_completed_not_replaced() {
        let given: Sizes = "stream=8".parse().unwrap();
        let s = given.or(Suite::Quick.default_sizes());
        assert_eq!(s.stream_mib, Some(8));
        assert_eq!(s.disk_mib, Suite::Quick.default_sizes().disk_mib);
    }

    #[test]
    fn round_trips_through_its_text_form() {
        let s: Sizes = "stream=64,disk=32".parse().unwrap();
        assert_eq!(s.stream_mib, Some(64));
        assert_eq!(s.disk_mib, Some(32));
        assert_eq!(s.latency_mib, None);
        assert_eq!(s.to_string().parse::<Sizes>().unwrap(), s);
    }

    #[test]
    fn rejects_unknown_keys_and_zero() {
        assert!("cache=4".parse::<Sizes>().is_err());
        assert!("stream=0".parse::<Sizes>().is_err());
        assert!("stream".parse::<Sizes>().is_err());
    }
}
