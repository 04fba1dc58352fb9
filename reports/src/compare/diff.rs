//! Matching two run sets level by level and metric by metric, and deciding every row
//! that both sides measured as one family (module header of [`super`]). A metric that
//! does not apply on a side is matched too, so it becomes an "n/a" row with its reason
//! instead of a missing one.

use super::sets::{Figures, NotApplicableAt};
use super::{warnings, Change, CompareOptions, Comparison, Profiles, RunSet, SideFigures, Status};
use crate::stats::mde::{runs_needed, POWER};
use crate::stats::verdict::{self, GateOptions, Reason, Row, Verdict};
use model::rundoc::{LevelStatus, RunDoc};
use model::{Level, MetricId};

/// How many times the in-run spread the run-to-run spread of a median is assumed to be
/// when no history says (measured on this project's machines: 2–3×).
pub const DRIFT_OVER_IN_RUN: f64 = 2.5;

/// Compare `current` against `baseline`; `profiles` give the run-to-run noise for sides
/// with a single run.
pub fn compare(
    baseline: &RunSet,
    current: &RunSet,
    options: &CompareOptions,
    profiles: &Profiles,
) -> Comparison {
    let (bf, b_left) = baseline.figures();
    let (cf, c_left) = current.figures();
    let (bna, cna) = (baseline.not_applicable(), current.not_applicable());
    let mut changes: Vec<Change> = Vec::new();
    // Rows both sides measured, to be decided as one family: (index in changes, b, c).
    let mut pairs: Vec<(usize, &Figures, &Figures)> = Vec::new();
    for b in &bf {
        let mut row = blank(b.level, &b.id, Some(side(b)), Status::Missing);
        match cf.iter().find(|c| c.level == b.level && c.id.same(&b.id)) {
            Some(c) => {
                row.current = Some(side(c));
                if c.id.unit != b.id.unit {
                    row.note = Some(format!("unit changed from {} to {}", b.id.unit, c.id.unit));
                }
                pairs.push((changes.len(), b, c));
            }
            None => match reason(&cna, b.level, &b.id) {
                Some(why) => not_applicable(&mut row, None, Some(why)),
                None => row.note = Some(missing_reason(b, &current.runs)),
            },
        }
        changes.push(row);
    }
    for c in cf
        .iter()
        .filter(|c| !bf.iter().any(|b| b.level == c.level && b.id.same(&c.id)))
    {
        let mut row = blank(c.level, &c.id, None, Status::New);
        row.current = Some(side(c));
        match reason(&bna, c.level, &c.id) {
            Some(why) => not_applicable(&mut row, Some(why), None),
            None => row.note = Some("not in the baseline".into()),
        }
        changes.push(row);
    }
    // Not applicable on one side or both, measured on neither.
    let measured = |n: &NotApplicableAt| {
        bf.iter()
            .chain(&cf)
            .any(|f| f.level == n.level && f.id.same(&n.id))
    };
    for n in bna.iter().chain(&cna).filter(|n| !measured(n)) {
        if changes
            .iter()
            .any(|c| c.level == n.level && c.id.same(&n.id))
        {
            continue;
        }
        let mut row = blank(n.level, &n.id, None, Status::NotApplicable);
        let (b, c) = (reason(&bna, n.level, &n.id), reason(&cna, n.level, &n.id));
        not_applicable(&mut row, b, c);
        changes.push(row);
    }
    for row in &mut changes {
        row.change = match (&row.baseline, &row.current) {
            (Some(b), Some(c)) if b.center != 0.0 => Some(c.center / b.center - 1.0),
            _ => None,
        };
    }
    let (tested, interval_level, tails) = decide(&mut changes, &pairs, options, profiles);
    let runs = (baseline.runs.len(), current.runs.len());
    let single_run_note = single_run_note(&changes, runs, tested.max(pairs.len()), options)
        .or_else(|| heavy_tail_note(&tails));
    Comparison {
        baseline_label: baseline.label.clone(),
        current_label: current.label.clone(),
        runs,
        failed_levels: (b_left, c_left),
        options: *options,
        tested,
        interval_level,
        changes,
        warnings: match (baseline.runs.first(), current.runs.first()) {
            (Some(b), Some(c)) => warnings::detect(b, c),
            _ => vec![],
        },
        single_run_note,
    }
}

/// Decide the rows both sides measured; returns m, the interval level, and the levels
/// whose single-run rows were judged against a heavy tail (with its shape and profile
/// runs).
fn decide(
    changes: &mut [Change],
    pairs: &[(usize, &Figures, &Figures)],
    options: &CompareOptions,
    profiles: &Profiles,
) -> (usize, f64, Vec<(Level, f64, usize)>) {
    // A non-positive median has no logarithm: such rows are left out of the family.
    let testable: Vec<&(usize, &Figures, &Figures)> = pairs
        .iter()
        .filter(|(i, b, c)| {
            let ok = b.medians.iter().chain(&c.medians).all(|v| *v > 0.0);
            if !ok {
                changes[*i].status = Status::Inconclusive(Reason::TooFewRuns);
                changes[*i].note = Some("a run's median is not positive: not testable".into());
            }
            ok
        })
        .collect();
    let rows: Vec<Row> = testable
        .iter()
        .map(|(_, b, c)| Row {
            baseline: &b.medians,
            current: &c.medians,
            higher_is_better: b.id.higher_is_better,
            threshold: options.noise_threshold,
            profile: profiles.get(b.level, &b.id.key()),
        })
        .collect();
    let gate = GateOptions {
        alpha: options.significance,
        power: POWER,
    };
    let family = match verdict::decide(&rows, &gate) {
        Ok(f) => f,
        // Unreachable after the positivity filter; make every row say so if it happens.
        Err(e) => {
            for (i, _, _) in &testable {
                changes[*i].status = Status::Inconclusive(Reason::TooFewRuns);
                changes[*i].note = Some(format!("not testable: {e}"));
            }
            return (0, 1.0, vec![]);
        }
    };
    let mut tails: Vec<(Level, f64, usize)> = Vec::new();
    for (((i, _, _), d), r) in testable.iter().zip(&family.decisions).zip(&rows) {
        let row = &mut changes[*i];
        row.p_value = d.test.map(|t| t.p_value);
        row.p_adjusted = d.p_adjusted;
        row.ratio = d.ratio;
        row.mde = d.mde;
        if let (Some(t), Some(p)) = (d.tail, r.profile) {
            if !tails.iter().any(|(l, _, _)| *l == row.level) {
                tails.push((row.level, t.nu, p.runs()));
            }
        }
        row.status = match d.verdict {
            Verdict::Regressed => Status::Regressed,
            Verdict::Improved => Status::Improved,
            Verdict::Unchanged => Status::Unchanged,
            Verdict::Inconclusive(r) => Status::Inconclusive(r),
        };
    }
    (family.tested, family.interval_level, tails)
}

/// Says that single-run rows were also held against the host's heavy-tailed drift.
fn heavy_tail_note(tails: &[(Level, f64, usize)]) -> Option<String> {
    if tails.is_empty() {
        return None;
    }
    let parts: Vec<String> = tails
        .iter()
        .map(|(l, nu, runs)| format!("Student-t ν = {nu} at {l} from {runs} calibration runs"))
        .collect();
    Some(format!(
        "single-run rows were also judged against this host's heavy-tailed run-to-run drift ({}): a wild run one time in twenty widens their intervals instead of raising an alarm, so a change must stand out from the host's worst runs",
        parts.join(", ")
    ))
}

fn side(f: &Figures) -> SideFigures {
    let logs: Vec<f64> = f
        .medians
        .iter()
        .filter(|v| **v > 0.0)
        .map(|v| v.ln())
        .collect();
    let center = if logs.len() == f.medians.len() && !logs.is_empty() {
        (logs.iter().sum::<f64>() / logs.len() as f64).exp()
    } else {
        crate::stats::Sample::new(&f.medians).map_or(f64::NAN, |s| s.median())
    };
    let run_cv = (f.medians.len() >= 2)
        .then(|| {
            crate::stats::Sample::new(&f.medians)
                .ok()
                .and_then(|s| s.cv())
        })
        .flatten();
    SideFigures {
        medians: f.medians.clone(),
        center,
        run_cv,
        in_run_cv: f.in_run_cv,
    }
}

fn blank(level: Level, id: &MetricId, baseline: Option<SideFigures>, status: Status) -> Change {
    Change {
        level,
        id: id.clone(),
        baseline,
        current: None,
        change: None,
        ratio: None,
        p_value: None,
        p_adjusted: None,
        mde: None,
        status,
        note: None,
        not_applicable: (None, None),
    }
}

/// The reason a side gives for `id` not applying at `level`, if it does.
fn reason(list: &[NotApplicableAt], level: Level, id: &MetricId) -> Option<String> {
    list.iter()
        .find(|n| n.level == level && n.id.same(id))
        .map(|n| n.reason.clone())
}

/// Mark `row` not applicable with the sides' reasons, and say which side gave which.
fn not_applicable(row: &mut Change, baseline: Option<String>, current: Option<String>) {
    row.status = Status::NotApplicable;
    row.note = Some(match (&baseline, &current) {
        (Some(b), Some(c)) if b == c => format!("not applicable: {c}"),
        (Some(b), Some(c)) => format!("not applicable: {c} (baseline: {b})"),
        (Some(b), None) => format!("not applicable in the baseline: {b}"),
        (None, Some(c)) => format!("not applicable in the current runs: {c}"),
        (None, None) => "not applicable".into(),
    });
    row.not_applicable = (baseline, current);
}

/// Why no current run has `b`: the level failed or was not reached, the workload
/// failed, or it was not measured.
fn missing_reason(b: &Figures, current: &[RunDoc]) -> String {
    let level = b.level;
    let records: Vec<_> = current.iter().filter_map(|r| r.level(level)).collect();
    if records.is_empty() {
        return format!("{level} is not in the current runs");
    }
    if let Some(l) = records.iter().find(|l| l.status != LevelStatus::Ok) {
        let why = l
            .error
            .clone()
            .unwrap_or_else(|| "no reason recorded".into());
        return format!("{level} {} in the current runs: {why}", l.status.word());
    }
    match records
        .iter()
        .find_map(|l| l.workload_error(&b.id.workload))
    {
        Some(e) => format!(
            "{} failed at {level} in the current runs: {}",
            b.id.workload, e.message
        ),
        None => format!("not measured at {level} in the current runs"),
    }
}

/// The advice for a side with one run and no noise profile (module header of
/// [`super`]).
fn single_run_note(
    changes: &[Change],
    runs: (usize, usize),
    m: usize,
    options: &CompareOptions,
) -> Option<String> {
    let too_few = changes
        .iter()
        .filter(|c| c.status == Status::Inconclusive(Reason::TooFewRuns))
        .count();
    if too_few == 0 || runs.0.min(runs.1) > 1 {
        return None;
    }
    let mut cvs: Vec<f64> = changes
        .iter()
        .filter_map(|c| c.baseline.as_ref().and_then(|b| b.in_run_cv))
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    cvs.sort_by(f64::total_cmp);
    let advice = cvs.get(cvs.len() / 2).and_then(|&cv| {
        let sigma = cv * DRIFT_OVER_IN_RUN;
        let alpha = options.significance / m.max(1) as f64;
        runs_needed(sigma, options.noise_threshold, alpha, POWER, 200).map(|n| {
            format!(
                "; about {n} runs per side would detect ≥ {:.0} % in a typical metric (its in-run CV {:.1} % × {DRIFT_OVER_IN_RUN}, the run-to-run drift measured on this project's machines)",
                options.noise_threshold * 100.0,
                cv * 100.0
            )
        })
    });
    Some(format!(
        "one run per side cannot separate a change from this host's drift ({too_few} rows inconclusive; no noise profile for this host and configuration: `nestbench calibrate` records one){}",
        advice.unwrap_or_default()
    ))
}
