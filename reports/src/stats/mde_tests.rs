use super::*;
use crate::stats::dist::normal_quantile;
use crate::stats::sim::{sigma_of_cv, Draws};
use crate::stats::welch::{test, LogSide};
use proptest::prelude::*;

fn sides(n: usize, sigma: f64) -> Side {
    Side::estimated(n, sigma).unwrap()
}

#[test]
fn known_variances_give_the_normal_formula() {
    // Two profiles from a million runs each: the test is a z-test, and the MDE is
    // (z_{1−α/2} + z_power)·SE up to the far tail (< 1e-6 of power).
    let a = Side::profiled(NoiseProfile::new(0.03, 1_000_000).unwrap());
    let b = Side::profiled(NoiseProfile::new(0.04, 1_000_000).unwrap());
    let want = (normal_quantile(0.975) + normal_quantile(0.8)) * 0.05;
    let got = mde_log(&a, &b, 0.05, 0.8);
    assert!((got - want).abs() < 1e-5 * want, "{got} {want}");
    assert!((power(&a, &b, want, 0.05) - 0.8).abs() < 1e-5);
    assert!((mde(&a, &b, 0.05, 0.8) - got.exp_m1()).abs() < 1e-12);
}

#[test]
fn many_runs_approach_the_textbook_shortcut_and_few_runs_need_more() {
    let shortcut = |n: usize, alpha: f64| {
        let df = 2.0 * (n - 1) as f64;
        (t_quantile(1.0 - alpha / 2.0, df) + t_quantile(0.8, df)) * (2.0 / n as f64).sqrt()
    };
    let s = sides(60, 1.0);
    let ours = mde_log(&s, &s, 0.05, 0.8);
    assert!((ours / shortcut(60, 0.05) - 1.0).abs() < 0.01, "{ours}");
    // At 3 vs 3 the shortcut claims far more than the Welch test delivers.
    let s = sides(3, 1.0);
    assert!(mde_log(&s, &s, 0.05, 0.8) > 1.1 * shortcut(3, 0.05));
    assert_eq!(mde_log(&sides(5, 0.0), &sides(5, 0.0), 0.05, 0.8), 0.0);
}

/// Share of `trials` seeded Welch tests rejecting at `alpha` when the truth is a log
/// shift `delta`, for sides of `nb` and `nc` runs (`nc == 1`: from `profile`).
fn simulated_power(
    seed: u64,
    nb: usize,
    nc: usize,
    sigma: f64,
    delta: f64,
    alpha: f64,
    profile: Option<NoiseProfile>,
) -> f64 {
    let mut d = Draws::new(seed);
    let trials = 2000;
    let hits = (0..trials)
        .filter(|_| {
            let b = LogSide::from_runs(&d.runs(nb, 100.0, sigma), None).unwrap();
            let c = LogSide::from_runs(&d.runs(nc, 100.0 * delta.exp(), sigma), profile).unwrap();
            test(&b, &c).p_value < alpha
        })
        .count();
    hits as f64 / trials as f64
}

#[test]
fn simulated_welch_tests_reject_at_the_mde_with_the_planned_power() {
    let sigma = sigma_of_cv(0.15);
    let family = 0.05 / 105.0;
    for (seed, n, alpha) in [
        (1, 3, 0.05),
        (2, 5, 0.05),
        (3, 10, 0.05),
        (4, 5, family),
        (5, 10, family),
    ] {
        let s = sides(n, sigma);
        let delta = mde_log(&s, &s, alpha, POWER);
        let rate = simulated_power(seed, n, n, sigma, delta, alpha, None);
        eprintln!(
            "{n} vs {n}, α = {alpha:.5}: MDE {:.1} % (Δ = {:.2} σ), simulated power {rate:.3}",
            100.0 * delta.exp_m1(),
            delta / sigma
        );
        assert!((rate - POWER).abs() <= 0.05, "n {n} α {alpha}: {rate}");
    }
    // One current run against 5 baseline runs, its variance from a 20-run profile.
    let profile = NoiseProfile::new(sigma, 20).unwrap();
    let delta = mde_log(&sides(5, sigma), &Side::profiled(profile), 0.05, POWER);
    let rate = simulated_power(6, 5, 1, sigma, delta, 0.05, Some(profile));
    eprintln!(
        "5 vs 1 + profile, α = 0.05: MDE {:.1} %, simulated power {rate:.3}",
        100.0 * delta.exp_m1()
    );
    assert!((rate - POWER).abs() <= 0.05, "{rate}");
}

#[test]
fn runs_needed_inverts_the_mde() {
    let sigma = sigma_of_cv(0.03);
    let alpha = 0.05 / 105.0;
    let n = runs_needed(sigma, 0.05, alpha, POWER, 1000).unwrap();
    let at = |n: usize| mde(&sides(n, sigma), &sides(n, sigma), alpha, POWER);
    assert!(
        at(n) <= 0.05 && at(n - 1) > 0.05,
        "n {n}: {} {}",
        at(n),
        at(n - 1)
    );
    eprintln!("CV 3 %, α = 0.05/105: {n} runs per side detect 5 %");
    assert_eq!(runs_needed(sigma, 0.05, alpha, POWER, n - 1), None);
    // Two runs a side, one df each, see only huge changes even at α = 0.05.
    assert_eq!(runs_needed(sigma, 1.0, 0.05, POWER, 50), Some(2));
    assert_eq!(runs_needed(sigma, 1.0, alpha, POWER, 50), Some(3));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn mde_scales_with_sigma_and_falls_with_runs_and_alpha(n in 2usize..30, sigma in 0.005f64..0.5, k in 0.1f64..10.0) {
        let at = |n: usize, sigma: f64, alpha: f64| mde_log(&sides(n, sigma), &sides(n, sigma), alpha, POWER);
        let base = at(n, sigma, 0.01);
        prop_assert!((at(n, k * sigma, 0.01) / (k * base) - 1.0).abs() < 1e-6);
        prop_assert!(at(n + 1, sigma, 0.01) < base);
        prop_assert!(at(n, sigma, 0.05) < base);
    }
}
