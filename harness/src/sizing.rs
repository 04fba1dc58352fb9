//! The run's working-set sizes, fixed once per run so every level runs the same
//! workload (the rule that makes levels comparable): from the smallest level's memory and scratch disk when there
//! are guests, from the host's last-level cache (STREAM's "arrays ≥ 4× LLC") when the
//! run is L0 only. Sizes given with `--sizes` win.

use crate::backend::Capacity;
use model::{Sizes, Suite};

/// Suite defaults in MiB: (stream total, latency buffer, pagefault, disk file), from
/// the one table of them ([`Suite::default_sizes`], which a bare agent run uses too).
fn defaults(suite: Suite) -> (u64, u64, u64, u64) {
    let d = suite.default_sizes();
    let v = |x: Option<u64>| x.unwrap_or(1);
    (
        v(d.stream_mib),
        v(d.latency_mib),
        v(d.pagefault_mib),
        v(d.disk_mib),
    )
}

/// The host's last-level cache in MiB, when sysfs tells.
pub fn host_llc_mib() -> Option<u64> {
    let mut best = None;
    for idx in 0..8 {
        let base = format!("/sys/devices/system/cpu/cpu0/cache/index{idx}");
        let Ok(size) = std::fs::read_to_string(format!("{base}/size")) else {
            continue;
        };
        let s = size.trim();
        let kib: u64 = if let Some(k) = s.strip_suffix('K') {
            k.parse().ok()?
        } else if let Some(m) = s.strip_suffix('M') {
            m.parse::<u64>().ok()? * 1024
        } else {
            continue;
        };
        best = Some(best.map_or(kib, |b: u64| b.max(kib)));
    }
    best.map(|k| k.div_ceil(1024))
}

/// Sizes for a run of `suite`: `given` first, then what the smallest level allows.
pub fn derive(suite: Suite, given: Sizes, smallest: Option<Capacity>) -> Sizes {
    let (mut stream, mut latency, mut pagefault, mut disk) = defaults(suite);
    match smallest {
        Some(c) => {
            // Leave the guest's kernel, initramfs and agent most of its memory.
            stream = stream.min(c.memory_mib / 8).max(4);
            latency = latency.min(c.memory_mib / 8).max(4);
            pagefault = pagefault.min(c.memory_mib / 16).max(2);
            disk = disk.min(c.disk_mib / 4).max(4);
        }
        None if suite != Suite::Smoke => {
            if let Some(llc) = host_llc_mib() {
                stream = stream.max(4 * llc);
                latency = latency.max(4 * llc);
            }
        }
        None => {}
    }
    Sizes {
        stream_mib: given.stream_mib.or(Some(stream)),
        latency_mib: given.latency_mib.or(Some(latency)),
        pagefault_mib: given.pagefault_mib.or(Some(pagefault)),
        disk_mib: given.disk_mib.or(Some(disk)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_levels_shrink_the_working_sets() {
        let s = derive(
            Suite::Quick,
            Sizes::default(),
            Some(Capacity {
                memory_mib: 256,
                disk_mib: 64,
            }),
        );
        assert_eq!(s.stream_mib, Some(32));
        assert_eq!(s.pagefault_mib, Some(16));
        assert_eq!(s.disk_mib, Some(16));
    }

    #[test]
    fn given_sizes_win() {
        let given: Sizes = "stream=8".parse().unwrap();
        let s = derive(Suite::Smoke, given, None);
        assert_eq!(s.stream_mib, Some(8));
        assert_eq!(s.disk_mib, Some(16));
    }
}
