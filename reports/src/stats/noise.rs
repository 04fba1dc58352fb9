//! When a result is too noisy to trust, per workload family.
//!
//! A result is flagged *noisy* when its coefficient of variation (stddev / mean) is above
//! the threshold of its workload. The thresholds follow how steady each family is on an
//! idle machine and how much a nested guest's timer and I/O path add:
//!
//! | workloads | CV threshold | why |
//! |---|---|---|
//! | `cpu.*` | 0.05 | pure computation: a steady host gives a CV of 1–2 % |
//! | `mem.*` | 0.10 | bandwidth depends on placement and neighbours |
//! | `exit.timer` | 0.20 | sleep overshoot is the scheduler's latency, inherently wide |
//! | `exit.*` (others) | 0.10 | one exit round trip, but reflected through every level |
//! | `disk.*` | 0.20 | every level adds a virtual disk and its queue |
//! | anything else | 0.10 | |
//!
//! Noisy results are still reported; the flag tells a reader to widen their doubt.

/// CV above which a result of `workload` is flagged noisy.
pub fn cv_threshold(workload: &str) -> f64 {
    match workload {
        "exit.timer" => 0.20,
        w if w.starts_with("cpu.") => 0.05,
        w if w.starts_with("mem.") => 0.10,
        w if w.starts_with("disk.") => 0.20,
        w if w.starts_with("exit.") => 0.10,
        _ => 0.10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_by_family() {
        assert_eq!(cv_threshold("cpu.int"), 0.05);
        assert_eq!(cv_threshold("mem.stream"), 0.10);
        assert_eq!(cv_threshold("disk.seq"), 0.20);
        assert_eq!(cv_threshold("exit.timer"), 0.20);
        assert_eq!(cv_threshold("exit.cpuid"), 0.10);
        assert_eq!(cv_threshold("gpu.new"), 0.10);
    }
}
