//! Statistics over the samples of one result, between two samples, and across runs.
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
//! The regression gate across runs (issue 12), where a run contributes one figure per
//! level × metric (its median) and the test is across runs, not across one run's samples:
//! - Student's t, normal, beta and chi-square distributions ([`dist`], on the special
//!   functions of `special.rs`);
//! - Welch's t-test on log per-run medians, with a [`welch::NoiseProfile`] from history
//!   for a side with a single run ([`welch`], Welch 1947);
//! - a Student-t tail with one shape per level, fitted by maximum likelihood to the
//!   calibration runs, that a single-run side must also pass ([`tails`], Lange, Little &
//!   Taylor 1989);
//! - Holm / Benjamini–Hochberg adjusted p-values ([`correction`], Holm 1979);
//! - the minimum detectable effect of that test and the runs needed ([`mde`]);
//! - the per-row verdict of a family of rows ([`verdict`]);
//! - E-Divisive change points over a history of runs ([`changepoint`], Matteson & James
//!   2014);
//! - the Clopper–Pearson interval of a rate ([`clopper_pearson`], 1934).
//!
//! Everything here is a pure function of its inputs: the RNG is a seeded SplitMix64
//! ([`rng`]), so reports are reproducible byte for byte.

pub mod bootstrap;
pub mod changepoint;
pub mod clopper_pearson;
pub mod correction;
pub mod dist;
pub mod mann_whitney;
pub mod mde;
pub mod outliers;
pub mod rng;
mod sample;
mod special;
mod summary;
pub mod tails;
pub mod verdict;
pub mod welch;

#[cfg(test)]
mod props;
#[cfg(test)]
mod sim;

pub use bootstrap::{median_ci, Interval};
pub use sample::{Sample, SampleError};
pub use summary::Summary;
