//! Statistics over the samples of one result, and between two samples.
//!
//! Methods, each cited where it lives:
//! - [`Sample`]: ≥ 1 finite value, checked once at the boundary.
//! - medians with 95 % percentile-bootstrap intervals, 2000 resamples, fixed seed
//!   ([`bootstrap`], Efron & Tibshirani 1993) — medians because a single preempted
//!   sample on a busy host must not move the summary;
//! - the ratio of two medians with its own bootstrap interval, both samples resampled
//!   independently ([`bootstrap::ratio_of_medians_ci`]);
//! - outliers by Tukey's fences, 1.5·IQR ([`outliers`], Tukey 1977), counted not removed;
//! - a *noisy* flag when the coefficient of variation exceeds the metric's threshold
//!   (declared with the metric in `model::catalog`, with the reasoning there);
//! - the two-sided Mann–Whitney U test for baseline vs current ([`mann_whitney`], Mann &
//!   Whitney 1947).
//!
//! Everything here is a pure function of its inputs: the RNG is a seeded SplitMix64
//! ([`rng`]), so reports are reproducible byte for byte.

pub mod bootstrap;
pub mod changepoint;
pub mod correction;
pub mod dist;
pub mod mann_whitney;
pub mod mde;
pub mod outliers;
pub mod rng;
mod sample;
mod special;
mod summary;
pub mod verdict;
pub mod welch;

#[cfg(test)]
mod props;
#[cfg(test)]
mod sim;

pub use bootstrap::Interval;
pub use sample::{Sample, SampleError};
pub use summary::Summary;
