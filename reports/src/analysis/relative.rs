//! A level's figure as a fraction of L0, oriented so that < 1 always means slower.
//!
//! For a rate (higher is better) the fraction is `median(Ln) / median(L0)`; for a
//! latency it is `median(L0) / median(Ln)`. Either way 0.25 reads "this level does a
//! quarter of the host's work per unit of time". Its 95 % interval is a percentile
//! bootstrap of that ratio of medians, resampling the two levels independently
//! ([`crate::stats::bootstrap::ratio_of_medians_ci`]); the orientation only swaps
//! numerator and denominator, so the interval stays exact under it.

use crate::stats::bootstrap::ratio_of_medians_ci;
use crate::stats::{Interval, Sample};

/// Oriented fraction of L0 for `level` against `l0`; `None` when a median is not
/// positive (the ratio would be meaningless).
pub fn relative_to_l0(l0: &Sample, level: &Sample, higher_is_better: bool) -> Option<Interval> {
    if higher_is_better {
        ratio_of_medians_ci(level, l0)
    } else {
        ratio_of_medians_ci(l0, level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slower_is_below_one_in_both_orientations() {
        let fast = Sample::new(&[100.0, 101.0, 99.0, 100.5, 99.5]).unwrap();
        let slow = Sample::new(&[25.0, 25.2, 24.8, 25.1, 24.9]).unwrap();
        // Rate: the level does a quarter of L0's work.
        let r = relative_to_l0(&fast, &slow, true).unwrap();
        assert!((r.estimate - 0.25).abs() < 1e-9);
        // Latency: the level takes 4x as long per operation.
        let l = relative_to_l0(&slow, &fast, false).unwrap();
        assert!((l.estimate - 0.25).abs() < 1e-9);
        assert!(l.low <= l.estimate && l.estimate <= l.high);
    }
}
