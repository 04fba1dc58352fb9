use super::*;
use crate::stats::sim::{sigma_of_cv, Draws};

fn row<'a>(baseline: &'a [f64], current: &'a [f64], higher_is_better: bool) -> Row<'a> {
    Row {
        baseline,
        current,
        higher_is_better,
        threshold: 0.05,
        profile: None,
    }
}

/// `metrics` pairs of 5 vs 5 runs with CV `cv`; the current side of metric 0 is
/// multiplied by `factor`.
fn family(
    seed: u64,
    metrics: usize,
    runs: usize,
    cv: f64,
    factor: f64,
) -> Vec<(Vec<f64>, Vec<f64>)> {
    let mut d = Draws::new(seed);
    let sigma = sigma_of_cv(cv);
    (0..metrics)
        .map(|i| {
            let base = d.runs(runs, 1000.0, sigma);
            let cur = d.runs(runs, 1000.0 * if i == 0 { factor } else { 1.0 }, sigma);
            (base, cur)
        })
        .collect()
}

fn verdicts(data: &[(Vec<f64>, Vec<f64>)], higher_is_better: bool) -> Vec<Verdict> {
    let rows: Vec<Row> = data
        .iter()
        .map(|(b, c)| row(b, c, higher_is_better))
        .collect();
    decide(&rows, &GateOptions::default())
        .unwrap()
        .decisions
        .iter()
        .map(|d| d.verdict)
        .collect()
}

#[test]
fn identical_data_never_regresses() {
    let data: Vec<_> = family(1, 21, 5, 0.03, 1.0)
        .into_iter()
        .map(|(b, _)| (b.clone(), b))
        .collect();
    let v = verdicts(&data, true);
    assert!(
        v.iter()
            .all(|v| !matches!(v, Verdict::Regressed | Verdict::Improved)),
        "{v:?}"
    );
}

#[test]
fn a_20_percent_drop_at_cv_3_is_the_only_regression() {
    // 21 metrics, 5 vs 5 runs, CV 3 %; metric 0's rate falls by 20 %.
    let data = family(2, 21, 5, 0.03, 0.8);
    let rows: Vec<Row> = data.iter().map(|(b, c)| row(b, c, true)).collect();
    let d = decide(&rows, &GateOptions::default()).unwrap().decisions[0];
    let ci = d.ratio.unwrap();
    eprintln!(
        "20 % drop, CV 3 %, 5 vs 5, 21 rows: ratio {:.3} [{:.3}, {:.3}], Holm p {:.2e}, MDE {:.1} %",
        ci.estimate, ci.low, ci.high, d.p_adjusted.unwrap(), 100.0 * d.mde.unwrap()
    );
    let v = verdicts(&data, true);
    assert_eq!(v[0], Verdict::Regressed);
    assert!(
        v[1..]
            .iter()
            .all(|v| !matches!(v, Verdict::Regressed | Verdict::Improved)),
        "{v:?}"
    );
    // The same numbers as a latency: falling is better.
    assert_eq!(verdicts(&data, false)[0], Verdict::Improved);
    // Swapping the runs swaps the verdict.
    let swapped: Vec<_> = data.iter().map(|(b, c)| (c.clone(), b.clone())).collect();
    assert_eq!(verdicts(&swapped, true)[0], Verdict::Improved);
    assert_eq!(verdicts(&swapped, false)[0], Verdict::Regressed);
}

#[test]
fn a_20_percent_drop_at_cv_25_with_3_runs_is_inconclusive() {
    for seed in 0..20 {
        let data = family(100 + seed, 21, 3, 0.25, 0.8);
        let v = verdicts(&data, true);
        assert_eq!(
            v[0],
            Verdict::Inconclusive(Reason::Underpowered),
            "seed {seed}"
        );
        assert!(v.iter().all(|v| *v != Verdict::Unchanged));
    }
}

#[test]
fn unchanged_needs_the_power_to_see_the_threshold() {
    // 20 vs 20 runs at CV 1 %: a 5 % change is well within reach, and nothing moved.
    let data = family(3, 21, 20, 0.01, 1.0);
    let rows: Vec<Row> = data.iter().map(|(b, c)| row(b, c, true)).collect();
    let fam = decide(&rows, &GateOptions::default()).unwrap();
    assert!(fam
        .decisions
        .iter()
        .all(|d| d.verdict == Verdict::Unchanged));
    assert!(fam.decisions.iter().all(|d| d.mde.unwrap() < 0.05));
    assert_eq!(fam.tested, 21);
    assert!((fam.interval_level - (1.0 - 0.05 / 21.0)).abs() < 1e-15);
    // The MDE follows the per-row σ: the same design, different noise.
    let (d0, d1) = (fam.decisions[0], fam.decisions[1]);
    let ratio = d0.mde.unwrap().ln_1p() / d1.mde.unwrap().ln_1p();
    assert!((ratio - d0.sigma.unwrap() / d1.sigma.unwrap()).abs() < 1e-9);
}

#[test]
fn an_estimate_beyond_the_threshold_with_an_interval_inside_it_is_unconfirmed() {
    // 10 vs 10 runs, log SD 0.02, a log shift of 0.06 (6.2 %) against a 5 % threshold:
    // the MDE (≈ 1.33 σ = 2.7 %) is below 5 %, the interval (≈ ±0.02) reaches into it.
    let offsets = [-1.5, -1.2, -0.8, -0.4, -0.1, 0.1, 0.4, 0.8, 1.2, 1.5];
    let base: Vec<f64> = offsets.iter().map(|o: &f64| (0.02 * o).exp()).collect();
    let cur: Vec<f64> = base.iter().map(|b| b * 0.06f64.exp()).collect();
    let fam = decide(&[row(&base, &cur, true)], &GateOptions::default()).unwrap();
    let d = fam.decisions[0];
    assert!(
        d.mde.unwrap() < 0.05 && d.ratio.unwrap().low < 1.05,
        "{d:?}"
    );
    assert_eq!(d.verdict, Verdict::Inconclusive(Reason::Unconfirmed));
}

#[test]
fn single_runs_need_a_profile() {
    let base = [100.0, 101.0, 99.0, 100.5, 99.5];
    let fam = decide(
        &[row(&base, &[80.0], true), row(&base, &[100.0], true)],
        &GateOptions::default(),
    )
    .unwrap();
    assert_eq!(fam.tested, 0);
    assert!(fam
        .decisions
        .iter()
        .all(|d| d.verdict == Verdict::Inconclusive(Reason::TooFewRuns)));
    assert_eq!(fam.runs_needed(0, 0.05, 100), None);

    let profile = NoiseProfile::new(0.01, 30).ok();
    let with = |r: Row<'static>| Row { profile, ..r };
    let (b1, b2): (&'static [f64], &'static [f64]) = (&[100.0], &[80.0]);
    let fam = decide(
        &[with(row(b1, b2, true)), with(row(b1, &[100.5], true))],
        &GateOptions::default(),
    )
    .unwrap();
    assert_eq!(fam.tested, 2);
    assert_eq!(fam.decisions[0].verdict, Verdict::Regressed);
    assert_eq!(fam.decisions[0].sigma, Some(0.01));
    let n = fam.runs_needed(1, 0.05, 100).unwrap();
    assert!((2..=10).contains(&n), "{n}");
}

#[test]
fn bad_values_name_their_row() {
    let good = [1.0, 2.0];
    let err = decide(
        &[row(&good, &good, true), row(&good, &[1.0, -3.0], true)],
        &GateOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.row, 1);
    assert_eq!(
        err.source,
        RunsError::NotPositive {
            index: 1,
            value: -3.0
        }
    );
}

#[test]
fn null_families_rarely_flag_anything() {
    // 40 families of 105 rows, 5 vs 5 runs, CV from 2 % to 25 %, nothing changed.
    let mut flagged_families = 0;
    for seed in 0..40 {
        let mut d = Draws::new(1000 + seed);
        let data: Vec<(Vec<f64>, Vec<f64>)> = (0..105)
            .map(|i| {
                let sigma = sigma_of_cv(0.02 + 0.23 * (i % 21) as f64 / 20.0);
                (d.runs(5, 50.0, sigma), d.runs(5, 50.0, sigma))
            })
            .collect();
        let v = verdicts(&data, true);
        flagged_families += usize::from(
            v.iter()
                .any(|v| matches!(v, Verdict::Regressed | Verdict::Improved)),
        );
    }
    eprintln!("null families with any flag: {flagged_families} of 40");
    assert!(flagged_families <= 4, "{flagged_families}");
}

/// Per-run log medians of `metrics` metrics whose drift is Student-t ν = 2, scale 1 %.
fn heavy_runs(d: &mut Draws, metrics: usize, runs: usize) -> Vec<Vec<f64>> {
    use crate::stats::dist::t_quantile;
    (0..metrics)
        .map(|_| {
            (0..runs)
                .map(|_| 1000.0 * (0.01 * t_quantile(d.uniform(), 2.0)).exp())
                .collect()
        })
        .collect()
}

#[test]
fn heavy_tailed_drift_raises_no_single_run_alarms_once_its_tail_is_fitted() {
    use crate::stats::tails::fit_shared;
    // Calibrate on 20 runs of 21 metrics, then judge 200 single-run A/A pairs with the
    // normal profile alone and with the fitted tail.
    let mut d = Draws::new(77);
    let cal = heavy_runs(&mut d, 21, 20);
    let logs: Vec<Vec<f64>> = cal
        .iter()
        .map(|m| m.iter().map(|v| v.ln()).collect())
        .collect();
    let fit = fit_shared(&logs).unwrap();
    assert!(fit.nu <= 3.0, "ν {}", fit.nu);
    let normal: Vec<NoiseProfile> = cal
        .iter()
        .map(|m| NoiseProfile::from_runs(m).unwrap())
        .collect();
    let tailed: Vec<NoiseProfile> = normal
        .iter()
        .enumerate()
        .map(|(i, p)| p.with_tail(fit.tail(i).unwrap()))
        .collect();
    let (mut alarms_normal, mut alarms_tailed, trials) = (0, 0, 200);
    for _ in 0..trials {
        let pair = heavy_runs(&mut d, 21, 2);
        let alarm = |profiles: &[NoiseProfile]| {
            let rows: Vec<Row> = pair
                .iter()
                .zip(profiles)
                .map(|(m, p)| Row {
                    profile: Some(*p),
                    ..row(&m[..1], &m[1..], true)
                })
                .collect();
            decide(&rows, &GateOptions::default())
                .unwrap()
                .decisions
                .iter()
                .any(|x| matches!(x.verdict, Verdict::Regressed | Verdict::Improved))
        };
        alarms_normal += alarm(&normal) as usize;
        alarms_tailed += alarm(&tailed) as usize;
    }
    // The family-wise rate is 5 %; with the tail it holds (8/200 here), without it the
    // wild draws of t₂ get through far more often.
    assert!(
        alarms_tailed * 100 <= 5 * trials,
        "with the tail: {alarms_tailed}/{trials}"
    );
    assert!(
        alarms_normal * 100 >= 10 * trials,
        "normal profile: {alarms_normal}/{trials}"
    );
}

#[test]
fn a_tail_widens_a_single_run_interval_and_its_detectable_effect() {
    let p = NoiseProfile::new(0.02, 20).unwrap();
    let t = p.with_tail(crate::stats::tails::Tail {
        nu: 2.0,
        scale: 0.02,
    });
    let decide_one = |p: NoiseProfile| {
        let rows = [Row {
            profile: Some(p),
            ..row(&[1000.0], &[850.0], true)
        }];
        decide(&rows, &GateOptions::default()).unwrap().decisions[0]
    };
    let (a, b) = (decide_one(p), decide_one(t));
    assert_eq!(a.tail, None);
    assert_eq!(b.tail, t.tail());
    let (ia, ib) = (a.ratio.unwrap(), b.ratio.unwrap());
    assert!(ib.low < ia.low && ib.high > ia.high, "{ia:?} vs {ib:?}");
    assert!(b.mde.unwrap() > a.mde.unwrap());
    assert!(b.p_adjusted.unwrap() >= a.p_adjusted.unwrap());
    // A 15 % drop against a 2 % normal spread is a regression; against a t₂ tail of
    // scale 2 % the interval reaches into the noise band, so it is not confirmed.
    assert_eq!(a.verdict, Verdict::Regressed);
    assert_ne!(b.verdict, Verdict::Regressed);
    // A tail with a useless scale is dropped rather than trusted.
    assert_eq!(
        p.with_tail(crate::stats::tails::Tail {
            nu: 2.0,
            scale: 0.0
        })
        .tail(),
        None
    );
}
