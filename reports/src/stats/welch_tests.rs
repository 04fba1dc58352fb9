use super::*;
use crate::stats::sim::{sigma_of_cv, Draws};
use proptest::prelude::*;

fn near(got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs(),
        "got {got}, want {want}"
    );
}

fn exp_all(v: &[f64]) -> Vec<f64> {
    v.iter().map(|x| x.exp()).collect()
}

#[test]
fn welch_textbook_example() {
    // Wikipedia, "Welch's t-test", example 1: t = 2.46 (sign by order), ν = 24.99,
    // p = 0.021; scipy 1.17.1 ttest_ind(equal_var=False) digits below. The test works on
    // logs, so give it exp(x) and it sees x.
    let a = [
        27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4,
    ];
    let b = [
        27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4,
    ];
    let w = test_runs(&exp_all(&a), &exp_all(&b)).unwrap();
    near(w.t, 2.455356398286006, 1e-9);
    near(w.df, 24.988529290231416, 1e-9);
    near(w.p_value, 0.021378001462866992, 1e-7);
    let ci = w.ratio_interval(0.95);
    near(ci.low.ln(), 0.3492370661924069, 1e-8);
    near(ci.high.ln(), 3.984096267140929, 1e-9);
}

#[test]
fn per_run_medians_match_scipy() {
    // scipy 1.17.1: ttest_ind(log(cur), log(base), equal_var=False), its 90 % interval.
    let base = [101.2, 98.7, 103.5, 99.9, 100.8];
    let cur = [94.1, 96.3, 92.8, 97.0, 95.5];
    let w = test_runs(&base, &cur).unwrap();
    near(w.t, -5.171413093416338, 1e-10);
    near(w.df, 7.998094114472265, 1e-10);
    near(w.p_value, 0.0008523014174380987, 1e-7);
    let ci = w.ratio_interval(0.90);
    near(ci.low, 0.9241843952038551, 1e-10);
    near(ci.high, 0.9635435569887489, 1e-10);
    assert!(ci.low < ci.estimate && ci.estimate < ci.high);
}

#[test]
fn single_run_with_profile_follows_the_formula() {
    let profile = NoiseProfile::new(0.04, 11).unwrap();
    let base = [100.0, 103.0, 97.0, 101.0, 99.0];
    let one = LogSide::from_runs(&[92.0], Some(profile)).unwrap();
    let many = LogSide::from_runs(&base, Some(profile)).unwrap();
    assert_eq!(many.spread(), Spread::Runs);
    let w = test(&many, &one);
    let logs: Vec<f64> = base.iter().map(|x: &f64| x.ln()).collect();
    let mean = logs.iter().sum::<f64>() / 5.0;
    let s2 = logs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 4.0;
    let (v1, v2) = (s2 / 5.0, 0.04f64.powi(2));
    near(w.log_ratio, 92f64.ln() - mean, 1e-12);
    near(w.se, (v1 + v2).sqrt(), 1e-12);
    near(
        w.df,
        (v1 + v2).powi(2) / (v1 * v1 / 4.0 + v2 * v2 / 10.0),
        1e-12,
    );
    near(w.p_value, 2.0 * t_sf(w.t.abs(), w.df), 1e-12);

    // Both sides from one profile: one variance estimate with k − 1 = 10 df.
    let other = LogSide::from_runs(&[100.0], Some(profile)).unwrap();
    let w = test(&other, &one);
    assert_eq!(w.df, 10.0);
    near(w.se, 0.04 * 2f64.sqrt(), 1e-12);
}

#[test]
fn unusable_inputs_are_typed_errors() {
    assert_eq!(LogSide::from_runs(&[], None), Err(RunsError::Empty));
    assert_eq!(
        test_runs(&[1.0, 0.0], &[1.0, 2.0]),
        Err(RunsError::NotPositive {
            index: 1,
            value: 0.0
        })
    );
    assert!(test_runs(&[1.0, f64::NAN], &[1.0, 2.0]).is_err());
    assert_eq!(test_runs(&[1.0], &[1.0, 2.0]), Err(RunsError::NoSpread));
    assert!(NoiseProfile::new(0.1, 1).is_err());
    assert!(NoiseProfile::new(-0.1, 5).is_err());
    assert!(NoiseProfile::from_runs(&[3.0]).is_err());
    let p = NoiseProfile::from_runs(&[1.0, 1.0, 1.0]).unwrap();
    assert_eq!((p.sigma(), p.runs(), p.df()), (0.0, 3, 2.0));
}

#[test]
fn zero_spread_is_certain_either_way() {
    let w = test_runs(&[5.0, 5.0, 5.0], &[5.0, 5.0]).unwrap();
    assert_eq!((w.t, w.p_value, w.se), (0.0, 1.0, 0.0));
    let w = test_runs(&[5.0, 5.0, 5.0], &[6.0, 6.0]).unwrap();
    assert_eq!((w.t, w.p_value), (f64::INFINITY, 0.0));
    assert_eq!(w.ratio_interval(0.99).low, w.ratio());
}

fn runs() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(1e-3f64..1e6, 2..12)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
}

proptest! {
    #[test]
    fn swapping_sides_negates_the_estimate(a in runs(), b in runs()) {
        let ab = test_runs(&a, &b).unwrap();
        let ba = test_runs(&b, &a).unwrap();
        prop_assert!(close(ab.log_ratio, -ba.log_ratio, 1e-12));
        prop_assert!(close(ab.p_value, ba.p_value, 1e-9));
        prop_assert!(close(ab.se, ba.se, 1e-12) && close(ab.df, ba.df, 1e-9));
        prop_assert!((0.0..=1.0).contains(&ab.p_value));
    }

    #[test]
    fn scaling_moves_only_the_estimate(a in runs(), b in runs(), k in 1e-3f64..1e3) {
        let w = test_runs(&a, &b).unwrap();
        let kb: Vec<f64> = b.iter().map(|x| x * k).collect();
        let ka: Vec<f64> = a.iter().map(|x| x * k).collect();
        // Both sides scaled: nothing changes.
        let both = test_runs(&ka, &kb).unwrap();
        prop_assert!(close(both.log_ratio, w.log_ratio, 1e-9));
        prop_assert!(close(both.p_value, w.p_value, 1e-6));
        // One side scaled: the estimate shifts by ln k, the spread stays.
        let one = test_runs(&a, &kb).unwrap();
        prop_assert!(close(one.log_ratio, w.log_ratio + k.ln(), 1e-9));
        prop_assert!(close(one.se, w.se, 1e-6) && close(one.df, w.df, 1e-6));
    }

    #[test]
    fn interval_excludes_one_exactly_when_p_is_below_its_level(a in runs(), b in runs(), level in 0.5f64..0.999) {
        let w = test_runs(&a, &b).unwrap();
        let ci = w.ratio_interval(level);
        prop_assert!(ci.low <= ci.estimate && ci.estimate <= ci.high);
        let margin = (w.p_value - (1.0 - level)).abs();
        prop_assume!(margin > 1e-9);
        prop_assert_eq!(ci.low > 1.0 || ci.high < 1.0, w.p_value < 1.0 - level);
        let wider = w.ratio_interval(level + (1.0 - level) / 2.0);
        prop_assert!(wider.low <= ci.low && wider.high >= ci.high);
    }
}

/// 2000 simulated pairs of 5 vs 5 runs with CV 15 %: (coverage of `true_ratio` by the
/// 95 % interval, rejection rate at α = 0.05).
fn simulate(seed: u64, true_ratio: f64, profile: Option<NoiseProfile>) -> (f64, f64) {
    let sigma = sigma_of_cv(0.15);
    let mut d = Draws::new(seed);
    let (mut covered, mut rejected, trials) = (0, 0, 2000);
    for _ in 0..trials {
        let base = d.runs(5, 100.0, sigma);
        let cur = d.runs(
            if profile.is_some() { 1 } else { 5 },
            100.0 * true_ratio,
            sigma,
        );
        let w = test(
            &LogSide::from_runs(&base, None).unwrap(),
            &LogSide::from_runs(&cur, profile).unwrap(),
        );
        let ci = w.ratio_interval(0.95);
        covered += usize::from(ci.low <= true_ratio && true_ratio <= ci.high);
        rejected += usize::from(w.p_value < 0.05);
    }
    (
        covered as f64 / trials as f64,
        rejected as f64 / trials as f64,
    )
}

#[test]
fn intervals_cover_and_false_alarms_stay_at_alpha_on_lognormal_runs() {
    let (coverage, false_positive) = simulate(11, 1.0, None);
    eprintln!("5 vs 5, CV 15 %, A/A: coverage {coverage:.4}, false positives {false_positive:.4}");
    assert!((0.93..=0.97).contains(&coverage), "{coverage}");
    assert!((0.03..=0.07).contains(&false_positive), "{false_positive}");
    let (coverage, _) = simulate(12, 1.2, None);
    eprintln!("5 vs 5, CV 15 %, true ratio 1.2: coverage {coverage:.4}");
    assert!((0.93..=0.97).contains(&coverage), "{coverage}");
    // One current run against a 30-run profile of the true noise.
    let profile = NoiseProfile::new(sigma_of_cv(0.15), 30).unwrap();
    let (coverage, false_positive) = simulate(13, 1.0, Some(profile));
    eprintln!("5 vs 1 + profile: coverage {coverage:.4}, false positives {false_positive:.4}");
    assert!((0.93..=0.97).contains(&coverage), "{coverage}");
    assert!((0.03..=0.07).contains(&false_positive), "{false_positive}");
}
