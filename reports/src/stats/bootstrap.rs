//! Percentile bootstrap intervals (Efron & Tibshirani, *An Introduction to the
//! Bootstrap*, 1993, ch. 13): resample the data with replacement `B` times, compute the
//! statistic on each resample, and take the α/2 and 1 − α/2 quantiles of those values.
//!
//! Medians are used throughout because one preempted sample on a busy host must not
//! move the summary. With very small samples the percentile interval can miss the point
//! estimate by a hair; the interval is then widened to include it, so `low <= estimate
//! <= high` always holds.

use super::rng::SplitMix64;
use super::sample::{median_of_sorted, quantile_of_sorted, Sample};

/// Resamples per interval. 2000 keeps the 2.5 % / 97.5 % quantiles stable to about
/// a percent of the interval width at these sample sizes.
pub const RESAMPLES: usize = 2000;

/// Fixed seed: reports are reproducible byte for byte.
pub const SEED: u64 = 0x6E65_7374_6265_6E63; // "nestbenc"

/// Confidence level of every interval in the reports.
pub const CONFIDENCE: f64 = 0.95;

/// A point estimate with its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// The statistic on the data itself.
    pub estimate: f64,
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

impl Interval {
    fn from_replicates(estimate: f64, mut reps: Vec<f64>) -> Interval {
        reps.sort_by(f64::total_cmp);
        let alpha = 1.0 - CONFIDENCE;
        let low = quantile_of_sorted(&reps, alpha / 2.0).min(estimate);
        let high = quantile_of_sorted(&reps, 1.0 - alpha / 2.0).max(estimate);
        Interval {
            estimate,
            low,
            high,
        }
    }
}

/// One resample's median, using `scratch` as buffer.
fn resampled_median(data: &[f64], rng: &mut SplitMix64, scratch: &mut Vec<f64>) -> f64 {
    scratch.clear();
    scratch.extend((0..data.len()).map(|_| data[rng.below(data.len())]));
    scratch.sort_by(f64::total_cmp);
    median_of_sorted(scratch)
}

/// 95 % percentile-bootstrap interval of the median.
pub fn median_ci(sample: &Sample) -> Interval {
    let data = sample.sorted();
    let mut rng = SplitMix64::new(SEED);
    let mut scratch = Vec::with_capacity(data.len());
    let reps = (0..RESAMPLES)
        .map(|_| resampled_median(data, &mut rng, &mut scratch))
        .collect();
    Interval::from_replicates(sample.median(), reps)
}

/// 95 % percentile-bootstrap interval of `median(num) / median(den)`, resampling the two
/// samples independently (they come from different machines). `None` when a median of
/// `den` is not positive, so the ratio would be meaningless.
pub fn ratio_of_medians_ci(num: &Sample, den: &Sample) -> Option<Interval> {
    if den.median() <= 0.0 || den.min() <= 0.0 || num.min() < 0.0 {
        return None;
    }
    let mut rng = SplitMix64::new(SEED ^ 0x5241_5449_4f00_0000);
    let mut scratch = Vec::new();
    let reps = (0..RESAMPLES)
        .map(|_| {
            let n = resampled_median(num.sorted(), &mut rng, &mut scratch);
            let d = resampled_median(den.sorted(), &mut rng, &mut scratch);
            n / d
        })
        .collect();
    Some(Interval::from_replicates(num.median() / den.median(), reps))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_sample_has_zero_width_interval() {
        let s = Sample::new(&[3.0; 7]).unwrap();
        let ci = median_ci(&s);
        assert_eq!((ci.low, ci.estimate, ci.high), (3.0, 3.0, 3.0));
    }

    #[test]
    fn ratio_of_identical_samples_brackets_one() {
        let s = Sample::new(&[9.0, 10.0, 10.5, 11.0, 12.0]).unwrap();
        let ci = ratio_of_medians_ci(&s, &s).unwrap();
        assert_eq!(ci.estimate, 1.0);
        assert!(ci.low < 1.0 && ci.high > 1.0);
    }

    #[test]
    fn ratio_refuses_zero_denominator() {
        let z = Sample::new(&[0.0, 1.0, 0.0]).unwrap();
        let s = Sample::new(&[1.0, 2.0, 3.0]).unwrap();
        assert!(ratio_of_medians_ci(&s, &z).is_none());
    }
}
