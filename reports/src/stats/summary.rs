//! [`Summary`]: every figure the reports show for one result at one level.

use super::bootstrap::{median_ci, Interval};
use super::outliers;
use super::sample::Sample;
use model::MetricId;

/// Descriptive statistics of one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Median with its 95 % bootstrap interval.
    pub median: Interval,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation.
    pub stddev: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// Coefficient of variation; `None` when the mean is 0.
    pub cv: Option<f64>,
    /// Samples outside Tukey's fences.
    pub outliers: usize,
    /// CV above the metric's threshold (the catalog's `noise_cv`).
    pub noisy: bool,
}

impl Summary {
    /// Summarise `sample`, a result of `id` (whose catalog entry sets the noise threshold).
    pub fn of(sample: &Sample, id: &MetricId) -> Summary {
        let cv = sample.cv();
        Summary {
            n: sample.len(),
            median: median_ci(sample),
            mean: sample.mean(),
            stddev: sample.stddev(),
            min: sample.min(),
            max: sample.max(),
            cv,
            outliers: outliers::count(sample),
            noisy: cv.is_some_and(|cv| cv > id.noise_cv()),
        }
    }
}
