//! The two sides of a comparison: run sets of one configuration, their per-run figures
//! (one median per level × metric), and the run-to-run noise profiles a single-run side
//! borrows from the history.

use crate::stats::welch::NoiseProfile;
use crate::stats::Sample;
use model::fingerprint::{config_fields, first_difference};
use model::rundoc::{LevelStatus, RunDoc};
use model::{Level, MetricId};
use std::collections::{BTreeMap, HashMap};

/// One side of a comparison: runs of one configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSet {
    /// How the side was given (a path, a history selection), for messages.
    pub label: String,
    /// The runs, oldest first.
    pub runs: Vec<RunDoc>,
}

/// A side that cannot be compared as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    /// No run at all.
    #[error("{label} holds no run: give a run directory, a run.json, a directory of run directories or a history selection that matches runs")]
    Empty {
        /// The side.
        label: String,
    },
    /// Runs of different configurations.
    #[error("{label} mixes configurations: {field} differs ({runs}); compare runs of one configuration per side")]
    Mixed {
        /// The side.
        label: String,
        /// The configuration field that differs.
        field: String,
        /// Which runs have which values, in words.
        runs: String,
    },
}

impl RunSet {
    /// The runs of `label`, refused when empty or when their configurations differ.
    pub fn new(label: impl Into<String>, runs: Vec<RunDoc>) -> Result<RunSet, SetError> {
        let label = label.into();
        let Some(first) = runs.first() else {
            return Err(SetError::Empty { label });
        };
        let reference = config_fields(first);
        for r in &runs[1..] {
            if let Some((field, value_a, value_b)) = first_difference(&reference, &config_fields(r))
            {
                let runs = format!(
                    "run {} has {value_a:?}, run {} has {value_b:?}",
                    first.run_id, r.run_id
                );
                return Err(SetError::Mixed { label, field, runs });
            }
        }
        Ok(RunSet { label, runs })
    }

    /// Every level × metric some run (at an ok level) reported as not applicable and no
    /// run measured, in order of first appearance.
    pub fn not_applicable(&self) -> Vec<NotApplicableAt> {
        let ok = || {
            self.runs
                .iter()
                .flat_map(|r| &r.levels)
                .filter(|l| l.status == LevelStatus::Ok)
        };
        let mut out: Vec<NotApplicableAt> = Vec::new();
        for level in ok() {
            for n in &level.not_applicable {
                let measured = ok().any(|l| l.level == level.level && l.result(&n.id).is_some());
                let seen = out
                    .iter()
                    .any(|o| o.level == level.level && o.id.same(&n.id));
                if !measured && !seen {
                    out.push(NotApplicableAt {
                        level: level.level,
                        id: n.id.clone(),
                        reason: n.reason.clone(),
                    });
                }
            }
        }
        out
    }

    /// The per-run figures of every level × metric, in order of first appearance, and
    /// how many level × run pairs were left out because the level was not ok.
    pub fn figures(&self) -> (Vec<Figures>, usize) {
        let mut order: Vec<(Level, MetricId)> = Vec::new();
        let mut by_key: HashMap<(Level, String), Figures> = HashMap::new();
        let mut left_out = 0;
        for run in &self.runs {
            for level in &run.levels {
                if level.status != LevelStatus::Ok {
                    left_out += 1;
                    continue;
                }
                for r in &level.results {
                    let Ok(s) = Sample::new(&r.samples) else {
                        continue;
                    };
                    let key = (level.level, r.id.key());
                    let f = by_key.entry(key).or_insert_with(|| {
                        order.push((level.level, r.id.clone()));
                        Figures {
                            level: level.level,
                            id: r.id.clone(),
                            medians: vec![],
                            in_run_cv: s.cv(),
                        }
                    });
                    f.medians.push(s.median());
                }
            }
        }
        let out = order
            .into_iter()
            .filter_map(|(l, id)| by_key.remove(&(l, id.key())))
            .collect();
        (out, left_out)
    }
}

/// A level × metric that a side's runs reported as not applicable and none measured.
#[derive(Debug, Clone, PartialEq)]
pub struct NotApplicableAt {
    /// The level.
    pub level: Level,
    /// The metric (as the first run recorded it).
    pub id: MetricId,
    /// The first run's reason.
    pub reason: String,
}

/// One level × metric of a side: the median of each run that measured it.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// The level.
    pub level: Level,
    /// The metric (as the first run recorded it).
    pub id: MetricId,
    /// One median per run, in run order.
    pub medians: Vec<f64>,
    /// The first run's in-run coefficient of variation.
    pub in_run_cv: Option<f64>,
}

/// Run-to-run noise per level × metric (`workload/metric`), from the history's
/// calibration of this host and configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profiles(BTreeMap<(Level, String), NoiseProfile>);

impl Profiles {
    /// No profile at all.
    pub fn none() -> Profiles {
        Profiles::default()
    }

    /// Add the profile of `level` × `key`.
    pub fn insert(&mut self, level: Level, key: &str, p: NoiseProfile) {
        self.0.insert((level, key.to_string()), p);
    }

    /// The profile of `level` × `key`, if calibrated.
    pub fn get(&self, level: Level, key: &str) -> Option<NoiseProfile> {
        self.0.get(&(level, key.to_string())).copied()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
