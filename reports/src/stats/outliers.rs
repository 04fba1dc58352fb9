//! Outliers by Tukey's fences (Tukey, *Exploratory Data Analysis*, 1977): a value below
//! Q1 − 1.5·IQR or above Q3 + 1.5·IQR is an outlier. They are counted and reported, never
//! removed: the median already resists them, and on a nested stack a slow sample is
//! often the very cost being measured (a host timer tick reflected through three levels).

use super::sample::Sample;

/// Fence multiplier of the inner ("mild") fences.
pub const TUKEY_K: f64 = 1.5;

/// The fences of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fences {
    /// Values below this are low outliers.
    pub low: f64,
    /// Values above this are high outliers.
    pub high: f64,
}

/// Tukey's inner fences, with quartiles by [`Sample::quantile`].
pub fn fences(sample: &Sample) -> Fences {
    let q1 = sample.quantile(0.25);
    let q3 = sample.quantile(0.75);
    let iqr = q3 - q1;
    Fences {
        low: q1 - TUKEY_K * iqr,
        high: q3 + TUKEY_K * iqr,
    }
}

/// How many values lie outside the fences.
pub fn count(sample: &Sample) -> usize {
    let f = fences(sample);
    sample
        .sorted()
        .iter()
        .filter(|&&v| v < f.low || v > f.high)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_far_value_is_one_outlier() {
        let s = Sample::new(&[10.0, 10.1, 9.9, 10.05, 9.95, 10.0, 30.0]).unwrap();
        assert_eq!(count(&s), 1);
        let t = Sample::new(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(count(&t), 0);
    }
}
