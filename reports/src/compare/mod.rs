//! `nestbench compare BASELINE CURRENT`: a verdict per level × metric for CI, with runs
//! as the samples.
//!
//! Each side is a [`RunSet`]: one or more runs of one configuration (a set whose runs
//! differ in a configuration field is refused, naming the field). Every run contributes
//! one figure per level × metric — the median of its samples — because one run's
//! samples share a boot, a host state and a time window and are not independent
//! replicates of the configuration (on this project's machines the run-to-run spread of
//! a median is 2–3× the in-run spread). Levels that failed in a run are left out of
//! that run and counted.
//!
//! The decision is [`crate::stats::verdict`]: Welch's t on the logs of the per-run
//! medians, Holm's correction over every level × metric tested, and the interval of
//! the ratio at the family's level 1 − α/m wholly beyond the noise threshold. Every row
//! also says the smallest change it could have detected (80 % power at α/m): a row that
//! could not have seen a change of the threshold is *inconclusive*, never "unchanged".
//! A side with one run uses the run-to-run noise of a [`Profiles`] entry (from the
//! history's calibration) in place of its own spread; without one its rows are
//! inconclusive and [`Comparison::single_run_note`] says how many runs would do.
//!
//! Each row is one of [`Status`]: `Improved`, `Regressed`, `Unchanged`,
//! `Inconclusive`, `Missing` (in the baseline, absent from every current run: a level
//! that failed or was not reached, a metric not measured — counts as a regression
//! unless `allow_missing`), `New` (only in the current runs; never a regression) or
//! `NotApplicable` (a side's runs said the metric does not apply at that level — it
//! lacks a second vCPU, a hypervisor that answers hypercalls… —, so there is nothing to
//! compare: shown as "n/a" with the reason, never missing, never a regression).
//! Comparability problems between the sides (different suite, params, depth, accel,
//! tuning, tool version, host CPU, a busy host) are [`Warning`]s.
//!
//! The rows render as a terminal table ([`text`]), a Markdown summary ([`markdown`]),
//! a versioned JSON document ([`json`]), JUnit XML ([`junit`]) or an HTML page
//! ([`document`], with the compare chart inline); whichever is printed,
//! [`Comparison::gate`] is the one reading of the rows for CI.
//!
//! What it cannot detect: a change smaller than a row's detectable effect; a change that
//! every run of both sides shares (host drift during an interleaved A/B is cancelled,
//! not detected); changes of spread rather than level.

mod diff;
pub mod document;
pub mod json;
pub mod junit;
pub mod markdown;
mod sets;
pub mod text;
pub mod warnings;

pub use crate::load::load_run;
pub use diff::compare;
pub use sets::{NotApplicableAt, Profiles, RunSet, SetError};
pub use warnings::Warning;

use crate::stats::verdict::Reason;
use crate::stats::Interval;
use model::{Level, MetricId};

/// How `compare` decides; validated once from the command line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareOptions {
    /// Smallest relative change that can count (default 0.05).
    pub noise_threshold: f64,
    /// Family-wise error rate over every row tested (default 0.05).
    pub significance: f64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            noise_threshold: 0.05,
            significance: 0.05,
        }
    }
}

/// Option values outside their range (a usage error, exit 2).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptionError {
    /// `--noise-threshold` not in [0, 1).
    #[error("--noise-threshold {0} is out of range: give a fraction in [0, 1), e.g. 0.05 for 5 %")]
    NoiseThreshold(f64),
    /// `--significance` not in (0, 1).
    #[error(
        "--significance {0} is out of range: give a family-wise error rate in (0, 1), e.g. 0.05"
    )]
    Significance(f64),
}

impl CompareOptions {
    /// Validated options.
    pub fn new(noise_threshold: f64, significance: f64) -> Result<Self, OptionError> {
        if !(0.0..1.0).contains(&noise_threshold) {
            return Err(OptionError::NoiseThreshold(noise_threshold));
        }
        if !(significance > 0.0 && significance < 1.0) {
            return Err(OptionError::Significance(significance));
        }
        Ok(CompareOptions {
            noise_threshold,
            significance,
        })
    }
}

/// Verdict of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Better beyond the threshold, at the family's confidence.
    Improved,
    /// Worse beyond the threshold, at the family's confidence.
    Regressed,
    /// Inside the threshold, and a change of the threshold would have been seen.
    Unchanged,
    /// Neither can be said, for this reason.
    Inconclusive(Reason),
    /// In the baseline, not usable in any current run.
    Missing,
    /// Only in the current runs.
    New,
    /// Not applicable at this level on one side or both (the row's `not_applicable`
    /// says why), and measured on at most one: nothing to compare, nothing missing.
    NotApplicable,
}

impl Status {
    /// The word used in tables.
    pub fn word(self) -> &'static str {
        match self {
            Status::Improved => "improved",
            Status::Regressed => "REGRESSED",
            Status::Unchanged => "unchanged",
            Status::Inconclusive(Reason::TooFewRuns) => "inconclusive (too few runs)",
            Status::Inconclusive(Reason::Underpowered) => "inconclusive (MDE above threshold)",
            Status::Inconclusive(Reason::Unconfirmed) => {
                "inconclusive (interval crosses threshold)"
            }
            Status::Missing => "MISSING",
            Status::New => "new",
            Status::NotApplicable => "n/a",
        }
    }

    /// Whether this is one of the inconclusive verdicts.
    pub fn is_inconclusive(self) -> bool {
        matches!(self, Status::Inconclusive(_))
    }
}

/// One side of a row: the per-run medians that went into it.
#[derive(Debug, Clone, PartialEq)]
pub struct SideFigures {
    /// One median per run that measured the row, in run order.
    pub medians: Vec<f64>,
    /// Their geometric mean: the side's figure.
    pub center: f64,
    /// Coefficient of variation across runs (None with one run).
    pub run_cv: Option<f64>,
    /// The in-run coefficient of variation of the first run (for single-run advice).
    pub in_run_cv: Option<f64>,
}

/// One level × metric compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Nesting level.
    pub level: Level,
    /// Which metric (the baseline's unit and direction).
    pub id: MetricId,
    /// The baseline's runs, if any measured it.
    pub baseline: Option<SideFigures>,
    /// The current runs, if any measured it.
    pub current: Option<SideFigures>,
    /// current / baseline (geometric means), raw (not oriented), minus 1.
    pub change: Option<f64>,
    /// current / baseline with its interval at the family's level.
    pub ratio: Option<Interval>,
    /// Welch's two-sided p-value.
    pub p_value: Option<f64>,
    /// Holm-adjusted p-value over the rows tested.
    pub p_adjusted: Option<f64>,
    /// Smallest relative change this row could have detected (80 % power, level α/m).
    pub mde: Option<f64>,
    /// Verdict.
    pub status: Status,
    /// Why the row is Missing/New/inconclusive/not applicable, in words.
    pub note: Option<String>,
    /// Why the metric does not apply at this level, on the baseline's side and on the
    /// current side, where that side's runs said so and none measured it.
    pub not_applicable: (Option<String>, Option<String>),
}

/// The result of comparing two run sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// How the baseline was given (a path, or a history selection).
    pub baseline_label: String,
    /// How the current runs were given.
    pub current_label: String,
    /// Runs per side.
    pub runs: (usize, usize),
    /// Levels left out because they failed in a run, per side (level × run pairs).
    pub failed_levels: (usize, usize),
    /// Options used.
    pub options: CompareOptions,
    /// Rows tested (m of the correction).
    pub tested: usize,
    /// Confidence of every interval, 1 − α/m.
    pub interval_level: f64,
    /// Every row: baseline order, then rows new in the current runs.
    pub changes: Vec<Change>,
    /// Reasons the sides may not be comparable.
    pub warnings: Vec<Warning>,
    /// For a side with one run and no noise profile: that one run per side cannot
    /// separate a change from this host's drift, and how many runs would.
    pub single_run_note: Option<String>,
}

impl Comparison {
    /// Rows with `status`.
    pub fn with_status(&self, status: Status) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(move |c| c.status == status)
    }

    /// Number of rows with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.with_status(status).count()
    }

    /// Number of inconclusive rows, whatever the reason.
    pub fn inconclusive(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.status.is_inconclusive())
            .count()
    }

    /// Whether CI should fail: any row Regressed, or Missing unless `allow_missing`.
    pub fn has_regression(&self, allow_missing: bool) -> bool {
        self.count(Status::Regressed) > 0 || (!allow_missing && self.count(Status::Missing) > 0)
    }

    /// [`Self::has_regression`], and with `strict` any comparability warning fails too
    /// (`nestbench compare --strict`).
    pub fn fails(&self, allow_missing: bool, strict: bool) -> bool {
        self.has_regression(allow_missing) || (strict && !self.warnings.is_empty())
    }
}

/// The flags that decide how a comparison is read for CI (`--allow-missing`,
/// `--strict`, `--fail-on-inconclusive`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GateFlags {
    /// A missing row is not a regression.
    pub allow_missing: bool,
    /// A comparability warning is a failure.
    pub strict: bool,
    /// Inconclusive rows fail the gate when nothing regressed (its own exit code).
    pub fail_on_inconclusive: bool,
}

/// What the gate says of a comparison, given its [`GateFlags`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateResult {
    /// Nothing regressed and every row was conclusive.
    Pass,
    /// Nothing regressed, but some row could not have shown a change of the threshold.
    Inconclusive,
    /// A row regressed (or is missing without `allow_missing`, or with `strict` the
    /// runs are not comparable).
    Regression,
}

impl GateResult {
    /// `pass`, `inconclusive` or `regression`, as the JSON and JUnit documents say it.
    pub fn word(self) -> &'static str {
        match self {
            GateResult::Pass => "pass",
            GateResult::Inconclusive => "inconclusive",
            GateResult::Regression => "regression",
        }
    }

    /// Whether CI should fail: a regression, or inconclusive rows with
    /// `fail_on_inconclusive`.
    pub fn fails(self, flags: &GateFlags) -> bool {
        match self {
            GateResult::Pass => false,
            GateResult::Inconclusive => flags.fail_on_inconclusive,
            GateResult::Regression => true,
        }
    }
}

impl Comparison {
    /// The gate's reading of every row under `flags`.
    pub fn gate(&self, flags: &GateFlags) -> GateResult {
        if self.fails(flags.allow_missing, flags.strict) {
            GateResult::Regression
        } else if self.inconclusive() > 0 {
            GateResult::Inconclusive
        } else {
            GateResult::Pass
        }
    }
}
