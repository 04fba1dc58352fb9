//! The regression gate's decision for a family of level × metric rows, from per-run
//! medians: Welch's t on logs ([`super::welch`]), Holm's correction over every row
//! tested ([`super::correction`]), the interval of the change at the corrected level,
//! and the minimum detectable effect ([`super::mde`]).
//!
//! The rule for one row, with m rows tested, family level α and noise threshold θ (a
//! change counts when current / baseline leaves the band [1/(1+θ), 1+θ], symmetric on
//! the log scale so that swapping the runs swaps Regressed and Improved exactly):
//! - **Regressed** / **Improved**: Holm-adjusted p ≤ α *and* the interval of the ratio
//!   at level 1 − α/m lies wholly beyond the band, on the worse / better side (a rate
//!   that fell or a latency that rose is worse). The criterion.rs rule, with the
//!   interval taken at the family's level.
//! - **Inconclusive**: not flagged, and the test could not have seen a change of θ —
//!   its MDE at 80 % power and level α/m is above θ ([`Reason::Underpowered`]); or a side
//!   has one run and there is no noise profile ([`Reason::TooFewRuns`]); or the estimate
//!   is beyond θ but its interval reaches into the band ([`Reason::Unconfirmed`], the
//!   "more runs" answer of Chromium's pinpoint rather than a silent "unchanged").
//! - **Unchanged**: none of these — the estimate is inside the band and a change of θ
//!   would have been seen with 80 % power.
//!
//! Why the interval is Bonferroni's 1 − α/m and not a Holm step level: the m intervals
//! at 1 − α/m cover all their true ratios at once with probability ≥ 1 − α, whatever the
//! dependence between rows, so the chance that *any* flagged row's true change is
//! inside the band is ≤ α. Holm's step-down has no such intervals for the rows it
//! rejects — its compatible intervals only bound them at zero (Strassburger & Bretz,
//! *Stat. Med.* 27, 2008) — and in a gate where nearly every null is true its levels
//! are nearly Bonferroni's anyway. The interval rule implies Holm significance (an
//! interval beyond the band excludes 1, so p < α/m); the Holm-adjusted p is kept as the
//! figure a report prints. The MDE is planned at the same α/m, since that is the level
//! the interval rule works at.
//!
//! A row with a single-run side whose profile carries a fitted heavy tail
//! ([`super::tails`]) must pass that test too: its p is the larger of the two, its
//! interval the wider, its MDE the larger. One wild run in twenty then widens a
//! single-run interval instead of raising a false alarm.
//!
//! Rows whose sides cannot be tested (one run, no profile) make no claim and are not
//! counted in m. The MDE plans for the profile's σ when the row has one (history is a
//! steadier estimate than a handful of runs), else for the pooled SD of both sides'
//! logs.
//!
//! What this cannot detect: see the headers of its parts — nothing the runs do not vary
//! over, changes smaller than the MDE, changes of spread rather than level; and the
//! family is the rows given: dropping rows before calling, or rerunning until green,
//! voids the error rate.

use std::collections::HashMap;

use super::bootstrap::Interval;
use super::correction::holm;
use super::mde::{mde_log, runs_needed, Side, POWER};
use super::tails::{sum_mde, sum_quantile, sum_sf, Tail};
use super::welch::{self, LogSide, NoiseProfile, RunsError, Spread, Welch};

/// One level × metric to decide.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row<'a> {
    /// The baseline's per-run medians (positive).
    pub baseline: &'a [f64],
    /// The current per-run medians (positive).
    pub current: &'a [f64],
    /// Whether a larger value is better (a rate) or worse (a latency).
    pub higher_is_better: bool,
    /// Smallest relative change that matters, e.g. 0.05.
    pub threshold: f64,
    /// Run-to-run noise from history, for a side with a single run.
    pub profile: Option<NoiseProfile>,
}

/// Family-level settings: `alpha` and `power` in (0, 1), checked by the caller where it
/// validates its command line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GateOptions {
    /// Family-wise error rate (default 0.05).
    pub alpha: f64,
    /// Power at which the MDE is quoted (default 0.8).
    pub power: f64,
}

impl Default for GateOptions {
    fn default() -> Self {
        GateOptions {
            alpha: 0.05,
            power: POWER,
        }
    }
}

/// Why a row is inconclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A side has one run and there is no noise profile.
    TooFewRuns,
    /// The MDE is above the threshold: a change of that size could have been missed.
    Underpowered,
    /// The estimate is beyond the threshold, its interval is not.
    Unconfirmed,
}

/// The decision for one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Worse beyond the threshold, at the family's confidence.
    Regressed,
    /// Better beyond the threshold, at the family's confidence.
    Improved,
    /// Inside the threshold, and a change of the threshold would have been seen.
    Unchanged,
    /// Neither can be said.
    Inconclusive(Reason),
}

/// Everything decided about one row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// The test, when both sides could be tested.
    pub test: Option<Welch>,
    /// Holm-adjusted p over the tested rows.
    pub p_adjusted: Option<f64>,
    /// current / baseline with its interval at [`Family::interval_level`].
    pub ratio: Option<Interval>,
    /// The log-scale SD of one run the MDE planned for.
    pub sigma: Option<f64>,
    /// Minimum detectable relative change (e^Δ − 1) at level α/m and the power asked.
    pub mde: Option<f64>,
    /// The heavy tail a single-run side was also judged against.
    pub tail: Option<Tail>,
    /// The verdict.
    pub verdict: Verdict,
}

/// The decisions for a family, in the order of its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// One per row given.
    pub decisions: Vec<Decision>,
    /// Rows tested (m).
    pub tested: usize,
    /// Per-row level α/m, at which intervals and MDEs are computed.
    pub row_alpha: f64,
    /// Confidence of every interval, 1 − α/m.
    pub interval_level: f64,
    /// The settings used.
    pub options: GateOptions,
}

impl Family {
    /// Runs per side that would detect a relative change `change` in row `row` at this
    /// family's per-row level and power, planning for that row's σ; `None` when the row
    /// has no σ or `max_runs` is not enough. For the message "N runs per side would
    /// detect ≥ X %".
    pub fn runs_needed(&self, row: usize, change: f64, max_runs: usize) -> Option<usize> {
        let sigma = self.decisions.get(row)?.sigma?;
        runs_needed(sigma, change, self.row_alpha, self.options.power, max_runs)
    }
}

/// A row whose values are unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("row {row}: {source}")]
pub struct RowError {
    /// Index in the rows given.
    pub row: usize,
    /// What is wrong.
    pub source: RunsError,
}

/// Decide every row of one family.
pub fn decide(rows: &[Row], options: &GateOptions) -> Result<Family, RowError> {
    let mut sides = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let side = |v: &[f64]| match LogSide::from_runs(v, r.profile) {
            Ok(s) => Ok(Some(s)),
            Err(RunsError::NoSpread) => Ok(None),
            Err(source) => Err(RowError { row: i, source }),
        };
        sides.push(side(r.baseline)?.zip(side(r.current)?));
    }
    let tests: Vec<Option<Welch>> = sides
        .iter()
        .map(|s| s.map(|(b, c)| welch::test(&b, &c)))
        .collect();
    let tails: Vec<Option<Tail>> = sides
        .iter()
        .map(|s| s.and_then(|(b, c)| single_run_tail(&b, &c)))
        .collect();
    let raw: Vec<f64> = tests
        .iter()
        .zip(&sides)
        .zip(&tails)
        .filter_map(|((t, s), tail)| {
            let w = t.as_ref()?;
            let (b, c) = s.as_ref()?;
            Some(match tail {
                Some(tl) => w.p_value.max(tail_null(tl, b, c).p(w.log_ratio)),
                None => w.p_value,
            })
        })
        .collect();
    let mut adjusted = holm(&raw).into_iter();
    let tested = raw.len();
    let row_alpha = options.alpha / tested.max(1) as f64;
    let interval_level = 1.0 - row_alpha;
    let mut unit_mdes = HashMap::new();
    let mut unit_tails: HashMap<(u64, usize, usize), (f64, f64)> = HashMap::new();
    let decisions = rows
        .iter()
        .zip(sides.iter().zip(&tests).zip(&tails))
        .map(|(row, ((s, t), tail))| match (s, t) {
            (Some((b, c)), Some(w)) => {
                let p_adjusted = adjusted.next().expect("one per test");
                let sigma = row.profile.map_or_else(|| pooled_sd(b, c), |p| p.sigma());
                let key = (b.runs(), c.runs(), row.profile.map(|p| p.runs()));
                let unit = *unit_mdes
                    .entry(key)
                    .or_insert_with(|| unit_mde(b, c, row.profile, row_alpha, options.power));
                let mut mde_log = unit * sigma;
                let mut half = w.log_half_width(interval_level);
                if let Some(tl) = tail {
                    let null = tail_null(tl, b, c);
                    let (q, d) = *unit_tails
                        .entry((tl.nu.to_bits(), b.runs(), c.runs()))
                        .or_insert_with(|| null.unit_quantile_and_mde(row_alpha, options.power));
                    half = half.max(q * tl.scale);
                    mde_log = mde_log.max(d * tl.scale);
                }
                let verdict = judge(row, w, p_adjusted, mde_log, half, options.alpha);
                Decision {
                    test: Some(*w),
                    p_adjusted: Some(p_adjusted),
                    ratio: Some(Interval {
                        estimate: w.ratio(),
                        low: (w.log_ratio - half).exp(),
                        high: (w.log_ratio + half).exp(),
                    }),
                    sigma: Some(sigma),
                    mde: Some(mde_log.exp_m1()),
                    tail: *tail,
                    verdict,
                }
            }
            _ => Decision {
                test: None,
                p_adjusted: None,
                ratio: None,
                sigma: None,
                mde: None,
                tail: None,
                verdict: Verdict::Inconclusive(Reason::TooFewRuns),
            },
        })
        .collect();
    Ok(Family {
        decisions,
        tested,
        row_alpha,
        interval_level,
        options: *options,
    })
}

/// The verdict of one tested row (module header).
fn judge(row: &Row, w: &Welch, p_adjusted: f64, mde_log: f64, half: f64, alpha: f64) -> Verdict {
    let band = row.threshold.ln_1p();
    // Oriented so that positive is better.
    let sign = if row.higher_is_better { 1.0 } else { -1.0 };
    let better = sign * w.log_ratio;
    let significant = p_adjusted <= alpha;
    if significant && better + half < -band {
        Verdict::Regressed
    } else if significant && better - half > band {
        Verdict::Improved
    } else if mde_log > band {
        Verdict::Inconclusive(Reason::Underpowered)
    } else if better.abs() > band {
        Verdict::Inconclusive(Reason::Unconfirmed)
    } else {
        Verdict::Unchanged
    }
}

/// The heavy tail of a row with a single-run side, when its profile has one.
fn single_run_tail(b: &LogSide, c: &LogSide) -> Option<Tail> {
    [b, c].iter().find_map(|s| match s.spread() {
        Spread::Profile(p) => p.tail(),
        Spread::Runs => None,
    })
}

/// "No change" under the heavy tail: D = s·(T₁/√n_b + T₂/√n_c), T ~ t_ν.
struct TailNull {
    tail: Tail,
    unit_b: f64,
    unit_c: f64,
}

fn tail_null(tail: &Tail, b: &LogSide, c: &LogSide) -> TailNull {
    TailNull {
        tail: *tail,
        unit_b: 1.0 / (b.runs() as f64).sqrt(),
        unit_c: 1.0 / (c.runs() as f64).sqrt(),
    }
}

impl TailNull {
    /// Two-sided p of an observed log ratio.
    fn p(&self, log_ratio: f64) -> f64 {
        sum_sf(
            log_ratio.abs() / self.tail.scale,
            self.unit_b,
            self.unit_c,
            self.tail.nu,
        )
    }

    /// For scale 1: the half-width of the 1 − α interval and the MDE at `power`.
    fn unit_quantile_and_mde(&self, alpha: f64, power: f64) -> (f64, f64) {
        let (a, b, nu) = (self.unit_b, self.unit_c, self.tail.nu);
        (
            sum_quantile(alpha, a, b, nu),
            sum_mde(alpha, power, a, b, nu),
        )
    }
}

/// Pooled SD of the logs of two sides that both estimate their own variance.
fn pooled_sd(b: &LogSide, c: &LogSide) -> f64 {
    let df = b.df() + c.df();
    ((b.var_log() * b.df() + c.var_log() * c.df()) / df).sqrt()
}

/// The MDE for σ = 1 of a design shaped like (`b`, `c`): the MDE is proportional to σ
/// when both sides plan for the same σ, so one computation serves every row of that
/// shape.
fn unit_mde(
    b: &LogSide,
    c: &LogSide,
    profile: Option<NoiseProfile>,
    alpha: f64,
    power: f64,
) -> f64 {
    let unit = profile.map(|p| NoiseProfile::new(1.0, p.runs()).expect("runs >= 2"));
    let side = |s: &LogSide| match s.spread() {
        Spread::Runs => Side::estimated(s.runs(), 1.0).expect("runs >= 2"),
        Spread::Profile(_) => Side::profiled(unit.expect("a profiled side has a profile")),
    };
    mde_log(&side(b), &side(c), alpha, power)
}

#[cfg(test)]
#[path = "verdict_tests.rs"]
mod tests;
