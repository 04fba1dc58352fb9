//! Matching two runs level by level and metric by metric, and the verdict of each pair.

use super::{warnings, Change, CompareOptions, Comparison, Status};
use crate::analysis::relative_to_l0;
use crate::stats::{mann_whitney, Sample, Summary};
use model::rundoc::{LevelRecord, LevelStatus, RunDoc};
use model::{Level, WorkloadResult};

/// Fewer samples than this on either side cannot reach p < 0.05 reliably.
pub const MIN_SAMPLES: usize = 5;

/// Compare `current` against `baseline`.
pub fn compare(baseline: &RunDoc, current: &RunDoc, options: &CompareOptions) -> Comparison {
    let mut changes = Vec::new();
    for b_level in baseline
        .levels
        .iter()
        .filter(|l| l.status == LevelStatus::Ok)
    {
        let c_level = current.level(b_level.level);
        for b in &b_level.results {
            changes.push(pair(b_level.level, b, c_level, options));
        }
    }
    for c_level in current
        .levels
        .iter()
        .filter(|l| l.status == LevelStatus::Ok)
    {
        let b_level = baseline
            .levels
            .iter()
            .find(|l| l.level == c_level.level && l.status == LevelStatus::Ok);
        for c in &c_level.results {
            if b_level.and_then(|l| l.result(&c.id)).is_none() {
                let mut row = blank(c_level.level, c, Status::New);
                row.current = Sample::new(&c.samples).ok().map(|s| Summary::of(&s, &c.id));
                row.note = Some("not in the baseline".into());
                changes.push(row);
            }
        }
    }
    Comparison {
        baseline_id: baseline.run_id.clone(),
        current_id: current.run_id.clone(),
        options: *options,
        changes,
        warnings: warnings::detect(baseline, current),
    }
}

fn blank(level: Level, r: &WorkloadResult, status: Status) -> Change {
    Change {
        level,
        id: r.id.clone(),
        baseline: None,
        current: None,
        change: None,
        ratio: None,
        p_value: None,
        status,
        note: None,
    }
}

fn missing_reason(level: Level, c_level: Option<&LevelRecord>, b: &WorkloadResult) -> String {
    match c_level {
        None => format!("{level} is not in the current run"),
        Some(l) if l.status != LevelStatus::Ok => {
            let word = crate::export::document::status_word(l.status);
            let why = l
                .error
                .clone()
                .unwrap_or_else(|| "no reason recorded".into());
            format!("{level} {word} in the current run: {why}")
        }
        Some(l) => match l.workload_error(&b.id.workload) {
            Some(e) => format!(
                "{} failed at {level} in the current run: {}",
                b.id.workload, e.message
            ),
            None => format!("not measured at {level} in the current run"),
        },
    }
}

fn pair(
    level: Level,
    b: &WorkloadResult,
    c_level: Option<&LevelRecord>,
    opts: &CompareOptions,
) -> Change {
    let mut row = blank(level, b, Status::Missing);
    let b_sample = match Sample::new(&b.samples) {
        Ok(s) => s,
        Err(e) => {
            row.note = Some(format!("baseline samples unusable: {e}"));
            row.status = Status::Unchanged;
            return row;
        }
    };
    row.baseline = Some(Summary::of(&b_sample, &b.id));
    let c = c_level
        .filter(|l| l.status == LevelStatus::Ok)
        .and_then(|l| l.result(&b.id));
    let Some(c) = c else {
        row.note = Some(missing_reason(level, c_level, b));
        return row;
    };
    let c_sample = match Sample::new(&c.samples) {
        Ok(s) => s,
        Err(e) => {
            row.note = Some(format!("current samples unusable: {e}"));
            return row;
        }
    };
    row.current = Some(Summary::of(&c_sample, &c.id));
    let (bm, cm) = (b_sample.median(), c_sample.median());
    row.change = (bm != 0.0).then(|| cm / bm - 1.0);
    row.ratio = relative_to_l0(&b_sample, &c_sample, b.id.higher_is_better);
    let test = mann_whitney::test(&b_sample, &c_sample);
    row.p_value = Some(test.p_value);
    row.status = verdict(row.change, test.p_value, b.id.higher_is_better, opts);
    if b_sample.len().min(c_sample.len()) < MIN_SAMPLES {
        row.note = Some(format!(
            "fewer than {MIN_SAMPLES} samples on a side: the test has little power"
        ));
    }
    if c.id.unit != b.id.unit {
        row.note = Some(format!("unit changed from {} to {}", b.id.unit, c.id.unit));
    }
    row
}

/// Both gates: significant and larger than the noise threshold; direction decides.
pub fn verdict(
    change: Option<f64>,
    p_value: f64,
    higher_is_better: bool,
    opts: &CompareOptions,
) -> Status {
    let Some(change) = change else {
        return Status::Unchanged;
    };
    if p_value >= opts.significance || change.abs() <= opts.noise_threshold {
        return Status::Unchanged;
    }
    if (change > 0.0) == higher_is_better {
        Status::Improved
    } else {
        Status::Regressed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_gates_and_direction() {
        let o = CompareOptions::default();
        assert_eq!(verdict(Some(0.2), 0.01, true, &o), Status::Improved);
        assert_eq!(verdict(Some(0.2), 0.01, false, &o), Status::Regressed);
        assert_eq!(verdict(Some(-0.2), 0.01, true, &o), Status::Regressed);
        assert_eq!(verdict(Some(0.2), 0.2, false, &o), Status::Unchanged);
        assert_eq!(verdict(Some(0.03), 0.001, false, &o), Status::Unchanged);
        assert_eq!(verdict(None, 0.001, false, &o), Status::Unchanged);
    }
}
