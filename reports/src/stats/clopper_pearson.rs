//! The Clopper–Pearson "exact" interval of a binomial proportion (Clopper & Pearson,
//! *Biometrika* 26, 1934), for bench scripts that report a rate — false alarms of the
//! gate over repeated A/A compares, runs that completed in a soak.
//!
//! The bounds invert two one-sided binomial tests, which is the same as beta quantiles:
//! low = B⁻¹(α/2; k, n − k + 1), high = B⁻¹(1 − α/2; k + 1, n − k), with low = 0 at
//! k = 0 and high = 1 at k = n. Its coverage is at least the level for every true rate,
//! which is why it suits a claim like "the false-alarm rate is below 6 %" from 0 of 60.
//!
//! What this cannot do: it is conservative (coverage above the level, most at small
//! n), and it assumes independent trials with one rate — repeated compares on one host
//! in one afternoon are not that.

use super::bootstrap::Interval;
use super::dist::beta_quantile;

/// The interval of a rate with `successes` of `trials` at `confidence` ∈ (0, 1);
/// `None` without trials or with more successes than trials.
pub fn interval(successes: u64, trials: u64, confidence: f64) -> Option<Interval> {
    if trials == 0 || successes > trials {
        return None;
    }
    let (k, n) = (successes as f64, trials as f64);
    let tail = (1.0 - confidence) / 2.0;
    let low = if successes == 0 {
        0.0
    } else {
        beta_quantile(tail, k, n - k + 1.0)
    };
    let high = if successes == trials {
        1.0
    } else {
        beta_quantile(1.0 - tail, k + 1.0, n - k)
    };
    Some(Interval {
        estimate: k / n,
        low,
        high,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::special::ln_gamma;

    #[test]
    fn known_values() {
        let i = interval(0, 60, 0.95).unwrap();
        assert_eq!((i.estimate, i.low), (0.0, 0.0));
        // k = 0: high = 1 − (α/2)^(1/n) = 0.0596.
        assert!((i.high - (1.0 - 0.025f64.powf(1.0 / 60.0))).abs() < 1e-12);
        assert!((i.high - 0.0596).abs() < 5e-5);
        // scipy 1.17.1: stats.beta.ppf(0.025, 3, 58), stats.beta.ppf(0.975, 4, 57).
        let i = interval(3, 60, 0.95).unwrap();
        assert!((i.low - 0.010432329644348225).abs() < 1e-12, "{i:?}");
        assert!((i.high - 0.13924324672107277).abs() < 1e-12, "{i:?}");
        assert_eq!(interval(60, 60, 0.95).unwrap().high, 1.0);
        assert_eq!(interval(0, 0, 0.95), None);
        assert_eq!(interval(4, 3, 0.95), None);
    }

    #[test]
    fn mirrored_counts_give_mirrored_intervals() {
        for k in 0..=25 {
            let (a, b) = (
                interval(k, 25, 0.9).unwrap(),
                interval(25 - k, 25, 0.9).unwrap(),
            );
            assert!(
                (a.low - (1.0 - b.high)).abs() < 1e-12 && (a.high - (1.0 - b.low)).abs() < 1e-12
            );
            assert!(a.low <= a.estimate && a.estimate <= a.high);
        }
    }

    #[test]
    fn coverage_is_at_least_the_level_for_every_rate() {
        // Exact coverage at n = 30: the binomial mass of the counts whose interval
        // contains the true rate.
        let n = 30u64;
        let intervals: Vec<Interval> = (0..=n).map(|k| interval(k, n, 0.95).unwrap()).collect();
        let ln_choose = |k: u64| {
            ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
        };
        for step in 1..200 {
            let p = step as f64 / 200.0;
            let coverage: f64 = (0..=n)
                .filter(|&k| intervals[k as usize].low <= p && p <= intervals[k as usize].high)
                .map(|k| (ln_choose(k) + k as f64 * p.ln() + (n - k) as f64 * (1.0 - p).ln()).exp())
                .sum();
            assert!(coverage >= 0.95 - 1e-12, "p {p}: {coverage}");
        }
    }
}
