//! Test support: seeded draws of lognormal per-run medians, for the simulation tests
//! of the gate (coverage, false-positive rate, power, change points).
//!
//! Uniforms are the top 53 bits of SplitMix64 ([`super::rng`]); normals come from the
//! Box–Muller transform (Box & Muller, *Ann. Math. Statist.* 29, 1958), both values of
//! each pair used.

use super::rng::SplitMix64;

/// A seeded source of normal and lognormal draws.
pub struct Draws {
    rng: SplitMix64,
    spare: Option<f64>,
}

impl Draws {
    /// Draws from `seed`.
    pub fn new(seed: u64) -> Self {
        Draws {
            rng: SplitMix64::new(seed),
            spare: None,
        }
    }

    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal.
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let r = (-2.0 * self.uniform().ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * self.uniform();
        self.spare = Some(r * theta.sin());
        r * theta.cos()
    }

    /// `n` lognormal values with median `median` and log-scale SD `sigma`.
    pub fn runs(&mut self, n: usize, median: f64, sigma: f64) -> Vec<f64> {
        (0..n)
            .map(|_| median * (sigma * self.normal()).exp())
            .collect()
    }
}

/// The log-scale SD of a lognormal with coefficient of variation `cv`.
pub fn sigma_of_cv(cv: f64) -> f64 {
    (1.0 + cv * cv).ln().sqrt()
}

#[test]
fn normals_have_mean_0_and_sd_1() {
    let mut d = Draws::new(1);
    let z: Vec<f64> = (0..20_000).map(|_| d.normal()).collect();
    let mean = z.iter().sum::<f64>() / z.len() as f64;
    let var = z.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (z.len() - 1) as f64;
    assert!(
        mean.abs() < 0.03 && (var - 1.0).abs() < 0.03,
        "{mean} {var}"
    );
}
