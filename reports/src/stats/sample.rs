//! [`Sample`]: the measured values of one result, checked once so that every
//! statistic downstream can assume at least one point and no NaN or infinity.

use std::fmt;

/// Why a list of values is not a usable sample.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SampleError {
    /// No values at all.
    #[error("no samples: the workload recorded nothing; rerun it")]
    Empty,
    /// A NaN or infinite value at `index`.
    #[error("sample {index} is {value}, not a finite number; the agent output is damaged, rerun the workload")]
    NotFinite {
        /// Position in the original list.
        index: usize,
        /// The offending value.
        value: f64,
    },
}

/// At least one finite value, kept sorted ascending (the original order carries no
/// information the statistics use).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    sorted: Vec<f64>,
}

impl Sample {
    /// Check `values` and build a sample.
    pub fn new(values: &[f64]) -> Result<Sample, SampleError> {
        if values.is_empty() {
            return Err(SampleError::Empty);
        }
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(SampleError::NotFinite { index, value });
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Ok(Sample { sorted })
    }

    /// Number of points (>= 1).
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Always false: a sample has at least one point. Present for clippy's sake.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The values, ascending.
    pub fn sorted(&self) -> &[f64] {
        &self.sorted
    }

    /// Smallest value.
    pub fn min(&self) -> f64 {
        self.sorted[0]
    }

    /// Largest value.
    pub fn max(&self) -> f64 {
        self.sorted[self.sorted.len() - 1]
    }

    /// Median (mean of the two middle values for an even count).
    pub fn median(&self) -> f64 {
        median_of_sorted(&self.sorted)
    }

    /// Arithmetic mean.
    pub fn mean(&self) -> f64 {
        self.sorted.iter().sum::<f64>() / self.len() as f64
    }

    /// Sample standard deviation (n − 1 denominator); 0 for a single point.
    pub fn stddev(&self) -> f64 {
        let n = self.len();
        if n < 2 {
            return 0.0;
        }
        let mean = self.mean();
        let ss: f64 = self.sorted.iter().map(|v| (v - mean).powi(2)).sum();
        (ss / (n - 1) as f64).sqrt()
    }

    /// Coefficient of variation, stddev / |mean|; `None` when the mean is 0.
    pub fn cv(&self) -> Option<f64> {
        let mean = self.mean().abs();
        (mean > 0.0).then(|| self.stddev() / mean)
    }

    /// Quantile `q` in [0, 1] by linear interpolation between order statistics
    /// (Hyndman & Fan 1996, definition 7, the default of R and NumPy).
    pub fn quantile(&self, q: f64) -> f64 {
        quantile_of_sorted(&self.sorted, q)
    }
}

impl fmt::Display for Sample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n={} median={}", self.len(), self.median())
    }
}

/// Median of an ascending, non-empty slice.
pub(crate) fn median_of_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        sorted[n / 2 - 1] / 2.0 + sorted[n / 2] / 2.0
    }
}

/// Hyndman–Fan type 7 quantile of an ascending, non-empty slice.
pub(crate) fn quantile_of_sorted(sorted: &[f64], q: f64) -> f64 {
    let q = q.clamp(0.0, 1.0);
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    let frac = h - lo as f64;
    if lo == hi {
        sorted[lo]
    } else {
        sorted[lo] + (sorted[hi] - sorted[lo]) * frac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_and_nan() {
        assert_eq!(Sample::new(&[]), Err(SampleError::Empty));
        assert!(matches!(
            Sample::new(&[1.0, f64::NAN]),
            Err(SampleError::NotFinite { index: 1, .. })
        ));
        assert!(Sample::new(&[1.0, f64::INFINITY]).is_err());
    }

    #[test]
    fn basic_figures() {
        let s = Sample::new(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(s.median(), 2.5);
        assert_eq!(s.mean(), 2.5);
        assert_eq!((s.min(), s.max()), (1.0, 4.0));
        assert!((s.stddev() - 1.2909944487358056).abs() < 1e-12);
        assert_eq!(s.quantile(0.25), 1.75);
        assert_eq!(Sample::new(&[5.0]).unwrap().stddev(), 0.0);
    }
}
