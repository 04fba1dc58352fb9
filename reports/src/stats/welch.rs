//! Welch's two-sample t-test on the logarithms of per-run medians (Welch, *Biometrika*
//! 34, 1947; Satterthwaite, *Biometrics Bulletin* 2, 1946, for the degrees of freedom).
//!
//! Why runs, and why logs: a run's samples share one boot and one time window, so the
//! replicate is the run (one median per level × metric), and the test is across runs.
//! Timing noise is multiplicative — a run on a busier host is a few percent slower in
//! every sample — so the comparison is of log medians: the estimate is
//! `mean(ln current) − mean(ln baseline)`, the log of the ratio of geometric means, its
//! interval exponentiates to an interval of the ratio current / baseline, and the
//! result is the same whatever unit the metric is in.
//!
//! Why Welch's t and not a rank test: with 5 runs a side an exact rank or permutation
//! test cannot give a two-sided p below 2/252 ≈ 0.0079, so no family-wise correction
//! over ~100 level × metric rows could ever let a change through. The t-test uses the
//! spread, and Welch's form does not assume both sides equally noisy.
//!
//! A side with a single run has no spread of its own. It can take its variance from a
//! [`NoiseProfile`]: the SD of log per-run medians of that metric over past runs on this
//! host. A profile estimated from k runs carries k − 1 degrees of freedom into the
//! Welch–Satterthwaite formula, so a thin history widens the interval as it should.
//! When both sides lean on the same profile, their variances are one estimate, not two
//! independent ones, and the test has exactly k − 1 degrees of freedom. A side with two
//! or more runs always uses its own spread: it describes the conditions those runs met.
//!
//! Run-to-run drift on shared hosts is heavy-tailed; a profile may carry a fitted
//! Student-t tail ([`super::tails`]) that [`super::verdict`] applies on top of this test
//! when a side has a single run.
//!
//! What this cannot detect: anything the runs do not vary over (a host-wide slowdown
//! that hits baseline and current alike); changes in spread or shape rather than level;
//! and with few runs, modest shifts — [`super::mde`] says how large a shift these runs
//! could see. The t-test assumes log medians roughly normal; with 3–5 runs that cannot
//! be checked, and a single wild run widens the interval rather than moving the verdict.

use super::bootstrap::Interval;
use super::dist::{t_quantile, t_sf};
use super::sample::Sample;
use super::tails::Tail;

/// Why per-run values cannot be tested.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunsError {
    /// No runs at all.
    #[error("no runs: this side has no per-run value to compare")]
    Empty,
    /// A value that is zero, negative, NaN or infinite (logs need positive numbers).
    #[error("run {index} has value {value}: per-run medians must be positive and finite; check the run's results")]
    NotPositive {
        /// Position in the list given.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// One run and no noise profile: nothing says how much runs vary.
    #[error(
        "a single run has no run-to-run spread: give more runs or a noise profile from history"
    )]
    NoSpread,
    /// A profile with a negative or non-finite σ, or fewer than 2 runs behind it.
    #[error("noise profile σ = {sigma} from {runs} runs is unusable: it needs σ ≥ 0 from at least 2 runs")]
    BadProfile {
        /// The profile's log-scale SD.
        sigma: f64,
        /// Runs behind it.
        runs: usize,
    },
}

/// The run-to-run noise of one level × metric on one host, from history: the sample SD
/// of the log per-run medians (≈ the CV of the medians for small CVs) and the number of
/// runs it was estimated from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoiseProfile {
    sigma: f64,
    runs: usize,
    tail: Option<Tail>,
}

impl NoiseProfile {
    /// A profile with log-scale SD `sigma` estimated from `runs` (≥ 2) runs.
    pub fn new(sigma: f64, runs: usize) -> Result<Self, RunsError> {
        if !(sigma.is_finite() && sigma >= 0.0) || runs < 2 {
            return Err(RunsError::BadProfile { sigma, runs });
        }
        Ok(NoiseProfile {
            sigma,
            runs,
            tail: None,
        })
    }

    /// The same profile with a fitted heavy tail ([`super::tails`]), which a single-run
    /// comparison must also pass; a tail with a non-positive or non-finite scale, or a
    /// shape below 1, is ignored.
    pub fn with_tail(mut self, tail: Tail) -> Self {
        let ok = tail.scale.is_finite() && tail.scale > 0.0 && tail.nu >= 1.0;
        self.tail = ok.then_some(tail);
        self
    }

    /// The fitted heavy tail, when the calibration found one.
    pub fn tail(&self) -> Option<Tail> {
        self.tail
    }

    /// The profile of past per-run medians `values` (≥ 2, positive).
    pub fn from_runs(values: &[f64]) -> Result<Self, RunsError> {
        let logs = logs(values)?;
        NoiseProfile::new(logs.stddev(), logs.len())
    }

    /// Log-scale SD.
    pub fn sigma(&self) -> f64 {
        self.sigma
    }

    /// Runs behind the estimate.
    pub fn runs(&self) -> usize {
        self.runs
    }

    /// Degrees of freedom of σ², `runs − 1`.
    pub fn df(&self) -> f64 {
        (self.runs - 1) as f64
    }
}

/// Where a side's variance comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Spread {
    /// Its own runs (≥ 2): the sample variance of their logs, n − 1 degrees of freedom.
    Runs,
    /// A noise profile (a single run).
    Profile(NoiseProfile),
}

impl Spread {
    /// Degrees of freedom of the variance of a side with `runs` runs.
    pub fn df(&self, runs: usize) -> f64 {
        match self {
            Spread::Runs => (runs - 1) as f64,
            Spread::Profile(p) => p.df(),
        }
    }
}

/// One side of a comparison, summarized on the log scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogSide {
    runs: usize,
    mean_log: f64,
    var_log: f64,
    spread: Spread,
}

impl LogSide {
    /// Summarize per-run medians `values`. A single run needs `profile`; with two or more
    /// runs the profile is ignored (see the module header).
    pub fn from_runs(values: &[f64], profile: Option<NoiseProfile>) -> Result<Self, RunsError> {
        let logs = logs(values)?;
        let (var_log, spread) = match (logs.len(), profile) {
            (1, Some(p)) => (p.sigma * p.sigma, Spread::Profile(p)),
            (1, None) => return Err(RunsError::NoSpread),
            _ => (logs.stddev().powi(2), Spread::Runs),
        };
        Ok(LogSide {
            runs: logs.len(),
            mean_log: logs.mean(),
            var_log,
            spread,
        })
    }

    /// Number of runs.
    pub fn runs(&self) -> usize {
        self.runs
    }

    /// Mean of the log values (the log of their geometric mean).
    pub fn mean_log(&self) -> f64 {
        self.mean_log
    }

    /// Variance of one run's log value, as used by the test.
    pub fn var_log(&self) -> f64 {
        self.var_log
    }

    /// Where the variance came from.
    pub fn spread(&self) -> Spread {
        self.spread
    }

    /// Degrees of freedom of [`Self::var_log`].
    pub fn df(&self) -> f64 {
        self.spread.df(self.runs)
    }
}

/// The outcome of one test of current against baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Welch {
    /// `mean(ln current) − mean(ln baseline)`: the log of the ratio of geometric means.
    pub log_ratio: f64,
    /// Standard error of `log_ratio`.
    pub se: f64,
    /// Welch–Satterthwaite degrees of freedom (a profile side brings its runs − 1).
    pub df: f64,
    /// `log_ratio / se` (±∞ when the spread is zero and the means differ; 0 when both are).
    pub t: f64,
    /// Two-sided p-value of "no change".
    pub p_value: f64,
}

impl Welch {
    /// Point estimate of current / baseline (ratio of geometric means).
    pub fn ratio(&self) -> f64 {
        self.log_ratio.exp()
    }

    /// Half-width of the two-sided interval of `log_ratio` at confidence `level` ∈ (0, 1).
    pub fn log_half_width(&self, level: f64) -> f64 {
        if self.se == 0.0 {
            return 0.0;
        }
        t_quantile(0.5 + level / 2.0, self.df) * self.se
    }

    /// Two-sided interval of current / baseline at confidence `level` ∈ (0, 1).
    pub fn ratio_interval(&self, level: f64) -> Interval {
        let h = self.log_half_width(level);
        Interval {
            estimate: self.ratio(),
            low: (self.log_ratio - h).exp(),
            high: (self.log_ratio + h).exp(),
        }
    }
}

/// Test `current` against `baseline`.
pub fn test(baseline: &LogSide, current: &LogSide) -> Welch {
    let log_ratio = current.mean_log - baseline.mean_log;
    let (se2, df) = se2_df([
        (baseline.var_log, baseline.runs, baseline.spread),
        (current.var_log, current.runs, current.spread),
    ]);
    let se = se2.sqrt();
    let (t, p_value) = if se > 0.0 {
        let t = log_ratio / se;
        (t, (2.0 * t_sf(t.abs(), df)).min(1.0))
    } else if log_ratio == 0.0 {
        (0.0, 1.0)
    } else {
        (log_ratio.signum() * f64::INFINITY, 0.0)
    };
    Welch {
        log_ratio,
        se,
        df,
        t,
        p_value,
    }
}

/// Test per-run medians `current` against `baseline`, each side with ≥ 2 runs.
pub fn test_runs(baseline: &[f64], current: &[f64]) -> Result<Welch, RunsError> {
    Ok(test(
        &LogSide::from_runs(baseline, None)?,
        &LogSide::from_runs(current, None)?,
    ))
}

/// The squared standard error of the difference of means and its Welch–Satterthwaite
/// degrees of freedom, for two sides given as (variance of one run, runs, spread).
pub(super) fn se2_df(sides: [(f64, usize, Spread); 2]) -> (f64, f64) {
    let terms = sides.map(|(var, runs, spread)| (var / runs as f64, spread.df(runs)));
    let se2 = terms[0].0 + terms[1].0;
    let df = match (sides[0].2, sides[1].2) {
        // One profile on both sides: one variance estimate, not two (module header).
        (Spread::Profile(a), Spread::Profile(b)) if a == b => a.df(),
        _ if se2 == 0.0 => terms[0].1 + terms[1].1,
        _ => se2 * se2 / terms.iter().map(|(v, df)| v * v / df).sum::<f64>(),
    };
    (se2, df)
}

/// The natural logs of positive finite values, at least one.
fn logs(values: &[f64]) -> Result<Sample, RunsError> {
    let logs = values
        .iter()
        .enumerate()
        .map(|(index, &value)| {
            if value > 0.0 && value.is_finite() {
                Ok(value.ln())
            } else {
                Err(RunsError::NotPositive { index, value })
            }
        })
        .collect::<Result<Vec<f64>, RunsError>>()?;
    Sample::new(&logs).map_err(|_| RunsError::Empty)
}

#[cfg(test)]
#[path = "welch_tests.rs"]
mod tests;
