use super::*;
use crate::stats::dist::t_quantile;
use crate::stats::sim::Draws;

fn t_draw(d: &mut Draws, nu: f64) -> f64 {
    if nu.is_infinite() {
        d.normal()
    } else {
        t_quantile(d.uniform(), nu)
    }
}

#[test]
fn the_sum_of_two_cauchy_variables_is_cauchy_with_the_summed_scale() {
    // Textbook: a·T₁ + b·T₂ with T ~ t₁ (Cauchy) is Cauchy with scale a + b, so
    // P(|D| > x) = 1 − (2/π)·atan(x / (a + b)).
    let (a, b): (f64, f64) = (0.3, 0.7);
    for x in [0.05, 0.5, 3.0, 30.0, 300.0] {
        let want = 1.0 - 2.0 / std::f64::consts::PI * (x / (a + b)).atan();
        let got = sum_sf(x, a, b, 1.0);
        assert!((got - want).abs() <= 1e-4 * want, "x {x}: {got} vs {want}");
    }
}

#[test]
fn the_tail_of_a_student_sum_matches_simulation() {
    let mut d = Draws::new(31);
    let n = 400_000;
    for (a, b, nu, x) in [
        (1.0, 1.0, 3.0, 2.0),
        (1.0, 1.0, 3.0, 6.0),
        (1.0, 1.0, 3.0, 15.0),
        (0.5, 2.0, 1.5, 8.0),
        (1.0, 0.3, 10.0, 3.0),
        (1.0, 1.0, 50.0, 3.5),
    ] {
        let hits = (0..n)
            .filter(|_| (a * t_draw(&mut d, nu) + b * t_draw(&mut d, nu)).abs() > x)
            .count();
        let p = hits as f64 / n as f64;
        let got = sum_sf(x, a, b, nu);
        let se = (got * (1.0 - got) / n as f64).sqrt();
        assert!(
            (p - got).abs() <= 4.0 * se,
            "x {x}: simulated {p}, integrated {got}"
        );
    }
}

#[test]
fn the_quantile_inverts_the_tail_and_a_heavier_tail_is_wider() {
    for nu in [1.0, 2.0, 4.0, f64::INFINITY] {
        for p in [0.05, 0.002, 1e-4] {
            let q = sum_quantile(p, 0.01, 0.01, nu);
            let back = sum_sf(q, 0.01, 0.01, nu);
            assert!(
                (back - p).abs() <= 1e-6 * p.max(1e-3),
                "ν {nu} p {p}: q {q} → {back}"
            );
        }
    }
    let widths: Vec<f64> = NU_GRID
        .iter()
        .map(|&nu| sum_quantile(0.002, 1.0, 1.0, nu))
        .collect();
    assert!(widths.windows(2).all(|w| w[0] > w[1]), "{widths:?}");
    // The normal end of the grid is the closed form: 1.96·√2 at p = 0.05.
    let q = sum_quantile(0.05, 1.0, 1.0, f64::INFINITY);
    assert!((q - 1.959964 * 2f64.sqrt()).abs() < 1e-5, "{q}");
}

#[test]
fn the_detectable_shift_is_detected_with_the_planned_power() {
    let mut d = Draws::new(5);
    let (a, b, nu, alpha, power) = (1.0, 1.0, 2.0, 0.01, 0.8);
    let delta = sum_mde(alpha, power, a, b, nu);
    let c = sum_quantile(alpha, a, b, nu);
    let n = 100_000;
    let hits = (0..n)
        .filter(|_| (delta + a * t_draw(&mut d, nu) + b * t_draw(&mut d, nu)).abs() > c)
        .count();
    let got = hits as f64 / n as f64;
    assert!(
        (got - power).abs() < 0.01,
        "power {got} at δ {delta} (c {c})"
    );
    assert!(
        delta > c,
        "an 80 % power shift lies beyond the critical distance"
    );
}

/// 21 metrics × `runs` runs of t_ν noise, each metric its own location and scale.
fn groups(seed: u64, nu: f64, runs: usize) -> (Vec<Vec<f64>>, Vec<f64>) {
    let mut d = Draws::new(seed);
    let scales: Vec<f64> = (0..21).map(|i| 0.005 * (1.0 + i as f64 / 4.0)).collect();
    let g = scales
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (0..runs)
                .map(|_| i as f64 + s * t_draw(&mut d, nu))
                .collect()
        })
        .collect();
    (g, scales)
}

#[test]
fn a_shared_fit_tells_heavy_from_normal_drift_and_finds_the_scales() {
    let mut heavy_found = 0;
    let mut normal_found = 0;
    for seed in 0..20 {
        let (g, scales) = groups(100 + seed, 2.0, 20);
        let fit = fit_shared(&g).unwrap();
        assert_eq!((fit.groups, fit.values), (21, 420));
        heavy_found += (fit.nu <= 3.0) as usize;
        // The scale depends on the shape it goes with, so compare what both imply: each
        // metric's 90 % quantile of one run's deviation, geometric mean over metrics.
        let q = |nu: f64| t_quantile(0.9, nu);
        let log_err: f64 = scales
            .iter()
            .enumerate()
            .map(|(i, s)| (fit.tail(i).unwrap().scale * q(fit.nu) / (s * q(2.0))).ln())
            .sum::<f64>()
            / 21.0;
        assert!(
            log_err.abs() < 0.15,
            "seed {seed}: ν {} mean log error of the 90 % quantile {log_err}",
            fit.nu
        );
        let (g, _) = groups(200 + seed, f64::INFINITY, 20);
        normal_found += (fit_shared(&g).unwrap().nu >= 10.0) as usize;
    }
    assert!(
        heavy_found >= 19,
        "t₂ drift recognized as heavy in {heavy_found}/20"
    );
    assert!(
        normal_found >= 18,
        "normal drift recognized as light in {normal_found}/20"
    );
}

#[test]
fn groups_without_runs_or_spread_take_no_part() {
    assert_eq!(fit_shared(&[vec![1.0; 30], vec![0.0, 1.0]]), None);
    let (mut g, _) = groups(7, 2.0, 20);
    g.push(vec![3.0; 20]);
    g.push(vec![1.0, 2.0, 3.0]);
    let fit = fit_shared(&g).unwrap();
    assert_eq!(fit.groups, 21);
    assert_eq!(fit.tail(21), None);
    assert_eq!(fit.tail(22), None);
    assert!(fit.tail(0).is_some());
}
