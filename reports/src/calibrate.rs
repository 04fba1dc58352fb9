//! Calibration: the run-to-run noise of one configuration on one host, from N runs of
//! it. For every level × metric, the log-scale standard deviation of the per-run medians
//! (the spread `compare` lends a single-run side), its coefficient of variation, and the
//! smallest change a compare could detect with 1, 3, 5 and 10 runs per side at 80 %
//! power and the per-row level α/m of a compare over the same m rows
//! ([`crate::stats::mde`]). A single-run side uses the profile's σ with its N − 1
//! degrees of freedom.
//!
//! Run-to-run drift here is heavy-tailed (one run in twenty far off), so calibration also
//! fits a Student-t tail per level, one shape shared by that level's metrics
//! ([`crate::stats::tails`]); a single-run compare is judged against it as well, and the
//! 1-run detectable effect quoted here includes it. The fit needs at least
//! [`crate::stats::tails::MIN_RUNS`] runs and sees only the tails those runs showed:
//! calibrate with 20 runs or more.
//!
//! The σ is a sample standard deviation of N runs: with N = 5 its own relative standard
//! error is about 35 %, with N = 20 about 16 %. Runs must be back to back or
//! interleaved on an otherwise idle host to measure that host's drift; what the runs do
//! not vary over (a kernel update, another host) is not in σ.

use crate::compare::RunSet;
use crate::stats::mde::{mde_log, Side, POWER};
use crate::stats::tails::{fit_shared, sum_mde, Tail};
use crate::stats::welch::NoiseProfile;
use model::{Level, MetricId};
use serde::Serialize;

/// Runs per side the report quotes a detectable effect for.
pub const DESIGNS: [usize; 4] = [1, 3, 5, 10];

/// The noise of one level × metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoiseRow {
    /// The level.
    pub level: Level,
    /// The metric.
    #[serde(rename = "metric")]
    pub id: MetricId,
    /// Runs it was measured in.
    pub runs: usize,
    /// Log-scale SD of the per-run medians.
    pub log_sigma: f64,
    /// Coefficient of variation of the per-run medians.
    pub cv: f64,
    /// The in-run CV of the first run, for comparison with the run-to-run one.
    pub in_run_cv: Option<f64>,
    /// Student-t shape of the level's drift (shared by its metrics), when fitted.
    pub tail_nu: Option<f64>,
    /// This metric's Student-t scale (log scale), when fitted.
    pub tail_scale: Option<f64>,
    /// Detectable relative change with `DESIGNS[i]` runs per side.
    pub mde: Vec<(usize, f64)>,
}

/// A calibration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    /// Format version of the JSON document.
    pub version: u32,
    /// Runs it is made of.
    pub runs: usize,
    /// The family-wise α the detectable effects assume.
    pub alpha: f64,
    /// Rows in the family (m): the per-row level is α/m.
    pub family: usize,
    /// Every level × metric measured in at least two runs.
    pub rows: Vec<NoiseRow>,
    /// The tail fitted at each level.
    pub tails: Vec<LevelTail>,
}

/// The heavy tail fitted to one level's drift.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelTail {
    /// The level.
    pub level: Level,
    /// Student-t shape ν (`null` in JSON for normal drift).
    pub nu: f64,
    /// Metrics that took part.
    pub metrics: usize,
    /// Values (runs × metrics) that took part.
    pub values: usize,
}

impl Calibration {
    /// The profile `compare` uses for a single-run side of this row.
    pub fn profile(row: &NoiseRow) -> Option<NoiseProfile> {
        let p = NoiseProfile::new(row.log_sigma, row.runs).ok()?;
        Some(match (row.tail_nu, row.tail_scale) {
            (Some(nu), Some(scale)) => p.with_tail(Tail { nu, scale }),
            _ => p,
        })
    }
}

/// Calibrate from `set`; detectable effects at family-wise `alpha`.
pub fn calibrate(set: &RunSet, alpha: f64) -> Calibration {
    let (figures, _) = set.figures();
    let measured: Vec<_> = figures
        .into_iter()
        .filter(|f| f.medians.len() >= 2 && f.medians.iter().all(|v| *v > 0.0))
        .collect();
    let family = measured.len().max(1);
    let row_alpha = alpha / family as f64;
    // The detectable log change is proportional to σ for a given design: computed once
    // per design (and number of runs behind the profile) for σ = 1, then scaled.
    let mut unit: std::collections::HashMap<(usize, usize), f64> = Default::default();
    let mut unit_mde = |k: usize, runs: usize| -> Option<f64> {
        if let Some(v) = unit.get(&(k, runs)) {
            return Some(*v);
        }
        let side = if k == 1 {
            Side::profiled(NoiseProfile::new(1.0, runs).ok()?)
        } else {
            Side::estimated(k, 1.0).ok()?
        };
        let v = mde_log(&side, &side, row_alpha, POWER);
        unit.insert((k, runs), v);
        Some(v)
    };
    let (mut rows, logs): (Vec<NoiseRow>, Vec<Vec<f64>>) = measured
        .into_iter()
        .filter_map(|f| {
            let profile = NoiseProfile::from_runs(&f.medians).ok()?;
            let (runs, log_sigma) = (profile.runs(), profile.sigma());
            let lin = crate::stats::Sample::new(&f.medians).ok()?;
            let mde = DESIGNS
                .iter()
                .filter_map(|&k| Some((k, (unit_mde(k, runs)? * log_sigma).exp_m1())))
                .collect();
            let row = NoiseRow {
                level: f.level,
                id: f.id,
                runs,
                log_sigma,
                cv: lin.cv().unwrap_or(f64::NAN),
                in_run_cv: f.in_run_cv,
                tail_nu: None,
                tail_scale: None,
                mde,
            };
            Some((row, f.medians.iter().map(|v| v.ln()).collect()))
        })
        .unzip();
    let tails = fit_tails(&mut rows, &logs, row_alpha);
    Calibration {
        // Fields are only added within a version (tails and tail_* joined version 1).
        version: 1,
        runs: set.runs.len(),
        alpha,
        family,
        rows,
        tails,
    }
}

/// Fit one tail per level over its rows (`logs[i]` are row i's log medians), store each
/// row's scale, and raise its 1-run detectable effect to what the tail allows. Normal
/// drift (ν = ∞) adds nothing to Welch's test and is recorded for the level only.
fn fit_tails(rows: &mut [NoiseRow], logs: &[Vec<f64>], row_alpha: f64) -> Vec<LevelTail> {
    let mut levels: Vec<Level> = rows.iter().map(|r| r.level).collect();
    levels.dedup();
    let mut out = Vec::new();
    for level in levels {
        let idx: Vec<usize> = (0..rows.len())
            .filter(|&i| rows[i].level == level)
            .collect();
        let groups: Vec<Vec<f64>> = idx.iter().map(|&i| logs[i].clone()).collect();
        let Some(fit) = fit_shared(&groups) else {
            continue;
        };
        out.push(LevelTail {
            level,
            nu: fit.nu,
            metrics: fit.groups,
            values: fit.values,
        });
        if fit.nu.is_infinite() {
            continue;
        }
        let unit = sum_mde(row_alpha, POWER, 1.0, 1.0, fit.nu);
        for (j, &i) in idx.iter().enumerate() {
            let Some(t) = fit.tail(j) else { continue };
            let r = &mut rows[i];
            r.tail_nu = Some(t.nu);
            r.tail_scale = Some(t.scale);
            if let Some(m) = r.mde.iter_mut().find(|(k, _)| *k == 1) {
                m.1 = m.1.max((unit * t.scale).exp_m1());
            }
        }
    }
    out
}

/// The calibration as an aligned text table.
pub fn text(c: &Calibration) -> String {
    let mut out = format!(
        "noise from {} runs: run-to-run CV of each level × metric's median, and the smallest change a compare over these {} rows (family α {}, Holm, 80 % power) detects with k runs per side\n",
        c.runs, c.family, c.alpha
    );
    for t in &c.tails {
        let shape = if t.nu.is_infinite() {
            "normal".to_string()
        } else {
            format!("heavy-tailed, Student-t ν = {}", t.nu)
        };
        out.push_str(&format!(
            "{}: run-to-run drift {shape} (fitted over {} metrics, {} values); the k=1 column includes it\n",
            t.level, t.metrics, t.values
        ));
    }
    let head = format!("{:<6}{:<30}{:>9}{:>9}", "level", "metric", "CV", "in-run");
    let mut h = head;
    for k in DESIGNS {
        h.push_str(&format!("{:>9}", format!("k={k}")));
    }
    out.push_str(&h);
    out.push('\n');
    for r in &c.rows {
        let mut line = format!(
            "{:<6}{:<30}{:>8.1}%{:>8}",
            r.level.to_string(),
            r.id.key(),
            r.cv * 100.0,
            r.in_run_cv
                .map(|v| format!("{:.1}%", v * 100.0))
                .unwrap_or_else(|| "–".into())
        );
        for k in DESIGNS {
            let cell = r
                .mde
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, m)| crate::export::format::change(*m, false))
                .unwrap_or_else(|| "–".into());
            line.push_str(&format!("{cell:>9}"));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::rundoc::RunDoc;

    #[test]
    fn the_spread_of_per_run_medians_is_measured_and_more_runs_detect_less() {
        let base = RunDoc::from_json(
            include_str!("../tests/fixtures/complete.json"),
            "complete.json",
        )
        .unwrap();
        // Per-run factors with a known log-scale SD.
        let factors = [1.0, 1.05, 0.95, 1.02, 0.98, 1.04, 0.96];
        let runs: Vec<RunDoc> = factors
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let mut d = base.clone();
                d.run_id = format!("r{i}");
                for l in &mut d.levels {
                    for r in &mut l.results {
                        r.samples.iter_mut().for_each(|s| *s *= f);
                    }
                }
                d
            })
            .collect();
        let logs: Vec<f64> = factors.iter().map(|f: &f64| f.ln()).collect();
        let m = logs.iter().sum::<f64>() / 7.0;
        let want = (logs.iter().map(|l| (l - m).powi(2)).sum::<f64>() / 6.0).sqrt();
        let c = calibrate(&RunSet::new("r", runs).unwrap(), 0.05);
        assert_eq!(c.runs, 7);
        assert_eq!(c.rows.len(), 4 * 21);
        for r in &c.rows {
            assert!(
                (r.log_sigma - want).abs() < 1e-9,
                "{}: {}",
                r.id,
                r.log_sigma
            );
            let m: Vec<f64> = r.mde.iter().map(|(_, v)| *v).collect();
            assert_eq!(r.mde.len(), 4);
            // One run per side borrows the profile's 6 degrees of freedom, which can beat
            // 3 runs per side estimating their own spread; from 3 runs on, more is better.
            assert!(m[0].is_finite() && m[0] > 0.0, "{m:?}");
            assert!(m[1..].windows(2).all(|w| w[0] > w[1]), "{m:?}");
        }
        assert!(text(&c).contains("k=10"));
        assert!(Calibration::profile(&c.rows[0]).is_some());
    }
}
