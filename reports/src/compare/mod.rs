//! `nestbench compare BASELINE CURRENT`: a verdict per level × metric for CI.
//!
//! A change counts only when it is both **statistically significant** — the two-sided
//! Mann–Whitney U test on the two runs' samples gives p < `significance` — **and larger
//! than the noise threshold** — `|median(current) / median(baseline) − 1| >
//! noise_threshold` (the same two-gate rule as criterion.rs). Direction follows the
//! metric: a rate that fell or a latency that rose is a regression.
//!
//! Each row is one of [`Status`]: `Improved`, `Regressed`, `Unchanged`, `Missing` (in the
//! baseline, absent from the current run: a level that failed or was not reached, a
//! metric not measured — counts as a regression unless `allow_missing`) or `New` (only
//! in the current run; never a regression). Comparability problems (different suite,
//! params, depth, accel, tuning, tool version, host CPU) are [`Warning`]s.

mod diff;
pub mod markdown;
pub mod text;
pub mod warnings;

pub use crate::load::load_run;
pub use diff::compare;
pub use warnings::Warning;

use crate::stats::{Interval, Summary};
use model::{Level, MetricId};

/// How `compare` decides; validated once from the command line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareOptions {
    /// Smallest relative change of the median that can count (default 0.05).
    pub noise_threshold: f64,
    /// p-value below which a difference is significant (default 0.05).
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
    #[error("--significance {0} is out of range: give a p-value in (0, 1), e.g. 0.05")]
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
    /// Significantly and noticeably better.
    Improved,
    /// Significantly and noticeably worse.
    Regressed,
    /// Not both significant and above the noise threshold.
    Unchanged,
    /// In the baseline, not usable in the current run.
    Missing,
    /// Only in the current run.
    New,
}

impl Status {
    /// Lower-case word used in tables.
    pub fn word(self) -> &'static str {
        match self {
            Status::Improved => "improved",
            Status::Regressed => "REGRESSED",
            Status::Unchanged => "unchanged",
            Status::Missing => "MISSING",
            Status::New => "new",
        }
    }
}

/// One level × metric compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Nesting level.
    pub level: Level,
    /// Which metric (the baseline's unit and direction).
    pub id: MetricId,
    /// Baseline statistics, if any.
    pub baseline: Option<Summary>,
    /// Current statistics, if any.
    pub current: Option<Summary>,
    /// `median(current) / median(baseline) − 1`, raw (not oriented).
    pub change: Option<f64>,
    /// Current as a fraction of baseline, oriented like relative-to-L0: < 1 is worse.
    pub ratio: Option<Interval>,
    /// Two-sided Mann–Whitney p-value.
    pub p_value: Option<f64>,
    /// Verdict.
    pub status: Status,
    /// Why the row is Missing/New/untested, in words.
    pub note: Option<String>,
}

/// The result of comparing two runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Baseline run id.
    pub baseline_id: String,
    /// Current run id.
    pub current_id: String,
    /// Options used.
    pub options: CompareOptions,
    /// Every row: baseline order, then rows new in the current run.
    pub changes: Vec<Change>,
    /// Reasons the runs may not be comparable.
    pub warnings: Vec<Warning>,
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
