use super::*;
use crate::stats::sim::Draws;

#[test]
fn a_clean_step_is_found_exactly() {
    let mut x = vec![10.0; 12];
    x.extend([20.0; 12]);
    // A little jitter so that permutations are not all ties.
    for (i, v) in x.iter_mut().enumerate() {
        *v += 0.01 * (i % 3) as f64;
    }
    let cps = detect(&x, &Options::default());
    assert_eq!(cps.len(), 1, "{cps:?}");
    let cp = cps[0];
    assert_eq!(cp.index, 12);
    assert!((cp.before_mean - 10.01).abs() < 1e-9 && (cp.after_mean - 20.01).abs() < 1e-9);
    assert!((cp.relative_change - 10.0 / 10.01).abs() < 1e-9);
    // No permutation of a perfectly separated series does as well as the series itself.
    assert_eq!(cp.p_value, 1.0 / 200.0);
}

#[test]
fn two_steps_are_both_found_with_their_own_segments() {
    let mut d = Draws::new(5);
    let x: Vec<f64> = (0..60)
        .map(|i| {
            let level = match i {
                0..=19 => 100.0,
                20..=39 => 120.0,
                _ => 90.0,
            };
            level * (0.01 * d.normal()).exp()
        })
        .collect();
    let cps = detect(&x, &Options::default());
    let at: Vec<usize> = cps.iter().map(|c| c.index).collect();
    assert_eq!(at, vec![20, 40], "{cps:?}");
    assert!((cps[0].relative_change - 0.2).abs() < 0.02);
    assert!((cps[1].relative_change - (90.0 / 120.0 - 1.0)).abs() < 0.02);
    assert_eq!(cps[0].after_mean, cps[1].before_mean);
}

#[test]
fn too_short_a_series_has_no_change_point_and_results_are_reproducible() {
    assert!(detect(&[1.0, 5.0, 1.0, 5.0, 9.0, 9.0, 9.0], &Options::default()).is_empty());
    assert!(detect(&[], &Options::default()).is_empty());
    let mut d = Draws::new(9);
    let x: Vec<f64> = (0..40)
        .map(|i| if i < 25 { 1.0 } else { 1.05 } * (0.02 * d.normal()).exp())
        .collect();
    let scaled: Vec<f64> = x.iter().map(|v| v * 1e3).collect();
    let (a, b) = (
        detect(&x, &Options::default()),
        detect(&scaled, &Options::default()),
    );
    assert_eq!(a, detect(&x, &Options::default()));
    assert_eq!(a.len(), b.len());
    for (p, q) in a.iter().zip(&b) {
        assert_eq!((p.index, p.p_value), (q.index, q.p_value));
    }
}

/// 100 seeded series of 50 runs with 2 % lognormal noise; with `step`, a 10 % rise at a
/// random place in 10..=40. Returns (series with a change point within 5 runs of the
/// step — or, without a step, with any change point; mean number of change points).
fn trials(seed: u64, step: bool) -> (usize, f64) {
    let mut d = Draws::new(seed);
    let options = Options::default();
    let (mut hits, mut points) = (0, 0);
    for _ in 0..100 {
        let at = 10 + (d.uniform() * 31.0) as usize;
        let x: Vec<f64> = (0..50)
            .map(|i| 100.0 * if step && i >= at { 1.1 } else { 1.0 } * (0.02 * d.normal()).exp())
            .collect();
        let cps = detect(&x, &options);
        points += cps.len();
        let hit = if step {
            cps.iter().any(|c| c.index.abs_diff(at) <= 5)
        } else {
            !cps.is_empty()
        };
        hits += usize::from(hit);
    }
    (hits, points as f64 / 100.0)
}

#[test]
fn a_10_percent_step_in_2_percent_noise_is_found_near_its_place() {
    let (hits, points) = trials(21, true);
    eprintln!("10 % step, 2 % noise, 50 runs: found within 5 runs in {hits} of 100 series ({points:.2} change points per series)");
    assert!(hits >= 95, "{hits}");
}

#[test]
fn step_free_series_rarely_get_a_change_point() {
    let (flagged, _) = trials(22, false);
    eprintln!("no step, 2 % noise, 50 runs: {flagged} of 100 series got a change point");
    assert!(flagged <= 2, "{flagged}");
}
