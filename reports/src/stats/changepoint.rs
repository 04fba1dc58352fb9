//! Change points in a time-ordered series of per-run medians: E-Divisive with a
//! permutation test (Matteson & James, "A nonparametric approach for multiple change
//! point analysis of multivariate data", *JASA* 109, 2014), the method Hunter / Apache
//! Otava runs over benchmark history (Fleming et al., "Hunter: Using Change Point
//! Detection to Hunt for Performance Regressions", ICPE 2023).
//!
//! Method. For a segment split at τ into X (before) and Y (after), the energy statistic
//! with exponent 1 is
//!
//! Q̂(τ) = |X||Y|/(|X|+|Y|) · [ 2·mean|X − Y| − mean|X − X'| − mean|Y − Y'| ],
//!
//! large when the two sides differ in distribution. Segments are split hierarchically:
//! at each step the split with the largest Q̂ over every current segment is the
//! candidate, and it is kept if a permutation test says so — every segment's values are
//! shuffled within the segment R times, the largest Q̂ recomputed, and
//! p = (1 + #{permuted ≥ observed}) / (1 + R) (Davison & Hinkley, *Bootstrap Methods*,
//! 1997, §4.3), which is a valid p-value under exchangeability for any R. The search
//! stops at the first candidate with p > significance. Hunter swapped the permutation
//! test for a t-test to save time; with ≤ a few hundred runs the permutations are cheap,
//! and unlike a t-test on the best of many splits they account for having picked the
//! best split. A permutation run stops early once its p can no longer reach the level.
//! Matteson & James' search over (τ, κ) — a split and an end that may fall short of
//! the segment's end — is simplified to τ over whole segments. The statistic sees any
//! change of distribution, so a change point may mark a change of spread with hardly
//! any change of mean; the reported means say which it was.
//!
//! What this cannot detect: a change within [`Options::min_segment`] runs of either end
//! of the series — in particular, a regression in the latest runs is not confirmed until
//! that many runs follow it (compare the newest runs with [`super::verdict`] instead);
//! two changes closer together than that; gradual drifts, which show up as a smeared
//! change point or none; and shifts small against the run-to-run noise with few runs
//! either side. The permutation test assumes runs are exchangeable within a segment:
//! autocorrelated noise (thermal state, a host update rolled out over weeks) makes
//! change points appear more often than the significance says. Each series is one test;
//! a scan over many series needs a family-wise correction (then raise
//! [`Options::permutations`] so that 1/(R+1) is below the corrected level).

use super::rng::SplitMix64;

/// Settings of a change-point search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Largest permutation p-value at which a change point is kept (default 0.005).
    pub significance: f64,
    /// Permutations per test, R (default 199; the smallest p is 1/(R+1)).
    pub permutations: usize,
    /// Fewest runs in a segment (default 5).
    pub min_segment: usize,
    /// Seed of the permutations.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            significance: 0.005,
            permutations: 199,
            min_segment: 5,
            seed: 0x6368_616e_6765, // "change"
        }
    }
}

/// A change point: the series' behaviour changes from run `index` on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangePoint {
    /// First run of the new regime.
    pub index: usize,
    /// Mean of the segment that ends at `index` (from the previous change point).
    pub before_mean: f64,
    /// Mean of the segment that starts at `index` (to the next change point).
    pub after_mean: f64,
    /// `after_mean / before_mean − 1`.
    pub relative_change: f64,
    /// Permutation p-value when the point was accepted.
    pub p_value: f64,
}

/// Change points of `series` (finite values, in time order), ascending by index.
pub fn detect(series: &[f64], options: &Options) -> Vec<ChangePoint> {
    debug_assert!(series.iter().all(|v| v.is_finite()));
    let min = options.min_segment.max(2);
    let mut rng = SplitMix64::new(options.seed);
    let mut bounds = vec![0, series.len()];
    let mut found: Vec<(usize, f64)> = Vec::new();
    let mut work = series.to_vec();
    while let Some((at, observed)) = best_split(series, &bounds, min) {
        let p = permutation_p(&mut work, series, &bounds, min, observed, options, &mut rng);
        if p > options.significance {
            break;
        }
        found.push((at, p));
        let pos = bounds.partition_point(|&b| b < at);
        bounds.insert(pos, at);
    }
    found.sort_by_key(|&(at, _)| at);
    found
        .iter()
        .map(|&(index, p_value)| {
            let pos = bounds
                .binary_search(&index)
                .expect("a found point is a bound");
            let before_mean = mean(&series[bounds[pos - 1]..index]);
            let after_mean = mean(&series[index..bounds[pos + 1]]);
            ChangePoint {
                index,
                before_mean,
                after_mean,
                relative_change: after_mean / before_mean - 1.0,
                p_value,
            }
        })
        .collect()
}

/// The permutation p-value of the largest Q̂ over the segments between `bounds` (a lower
/// bound, already above the significance, when the permutations stopped early).
fn permutation_p(
    work: &mut [f64],
    series: &[f64],
    bounds: &[usize],
    min: usize,
    observed: f64,
    options: &Options,
    rng: &mut SplitMix64,
) -> f64 {
    let r = options.permutations;
    let mut exceed = 0;
    work.copy_from_slice(series);
    for _ in 0..r {
        for w in bounds.windows(2) {
            shuffle(&mut work[w[0]..w[1]], rng);
        }
        let permuted = best_split(work, bounds, min).map_or(f64::NEG_INFINITY, |(_, q)| q);
        if permuted >= observed - 1e-12 * observed.abs() {
            exceed += 1;
            let p = (exceed + 1) as f64 / (r + 1) as f64;
            if p > options.significance {
                // The full run could only raise it: stop here.
                return p;
            }
        }
    }
    (exceed + 1) as f64 / (r + 1) as f64
}

/// Fisher–Yates shuffle.
fn shuffle(x: &mut [f64], rng: &mut SplitMix64) {
    for i in (1..x.len()).rev() {
        x.swap(i, rng.below(i + 1));
    }
}

/// The split (absolute index, Q̂) with the largest Q̂ over every segment between
/// `bounds` that leaves at least `min` values on each side; `None` if no segment can.
fn best_split(x: &[f64], bounds: &[usize], min: usize) -> Option<(usize, f64)> {
    bounds
        .windows(2)
        .filter_map(|w| best_in_segment(&x[w[0]..w[1]], min).map(|(t, q)| (w[0] + t, q)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// The best split of one segment, by the running sums of |xᵢ − xⱼ| (O(n²)).
fn best_in_segment(x: &[f64], min: usize) -> Option<(usize, f64)> {
    let n = x.len();
    if n < 2 * min {
        return None;
    }
    let row = |i: usize, range: std::ops::Range<usize>| -> f64 {
        x[range].iter().map(|v| (x[i] - v).abs()).sum()
    };
    let (mut left, mut between) = (0.0, 0.0);
    let mut right: f64 = (0..n).map(|i| row(i, i + 1..n)).sum();
    // n ≥ 2·min leaves at least one split.
    let mut best = (min, f64::NEG_INFINITY);
    for t in 1..=n - min {
        // Move x[t − 1] from the right side to the left.
        let (to_left, to_right) = (row(t - 1, 0..t - 1), row(t - 1, t..n));
        left += to_left;
        right -= to_right;
        between += to_right - to_left;
        if t < min {
            continue;
        }
        let (a, b) = (t as f64, (n - t) as f64);
        let energy =
            2.0 * between / (a * b) - left / (a * (a - 1.0) / 2.0) - right / (b * (b - 1.0) / 2.0);
        let q = a * b / (a + b) * energy;
        if q > best.1 {
            best = (t, q);
        }
    }
    Some(best)
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

#[cfg(test)]
#[path = "changepoint_tests.rs"]
mod tests;
