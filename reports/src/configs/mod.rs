//! Comparing configurations: two or more inputs (each a run or a set of runs of one
//! configuration, as `compare` takes them) side by side, level by level —
//! `nestbench report INPUT… [--label NAME]… --out DIR`.
//!
//! Where `compare` asks "did this change make it worse?" for CI, this answers "how do
//! these configurations differ at each depth?" for people: one figure per input × level
//! × metric, with its interval, and each input's ratio to the first.
//!
//! **The figure of an input.** With several runs: the median of the runs' medians, and
//! the 95 % percentile-bootstrap interval of that median across runs (runs are the
//! replicates of a configuration; one run's samples share a boot and a host state, see
//! `compare`). With one run: its median and the in-run 95 % bootstrap interval, which
//! is narrower than the run-to-run spread; every table, legend and tooltip says which
//! ([`Spread`]). A level that failed in every run of an input has no figure there and
//! says so; a metric that does not apply says `n/a`.
//!
//! **Labels** say what differs between the inputs (`fields`), unless given. Ratios are
//! raw — input / first input — so above 1 is larger; whether larger is better is the
//! metric's direction. A ratio is marked better or worse only when the two intervals do
//! not overlap and the figures differ by 5 % or more: a reading aid, not a test (use
//! `compare` for the gate).
//!
//! Layout: `fields` (what differs, labels), `document` (the report's content),
//! `render` (the files).

pub mod document;
pub mod fields;
pub mod render;

use crate::compare::RunSet;
use crate::stats::{median_ci, Sample};
use model::rundoc::{LevelStatus, RunDoc};
use model::{Level, MetricId};

pub use fields::Differing;
pub use render::render;

/// The smallest difference a ratio is marked better or worse for (with intervals that
/// do not overlap): `compare`'s default noise threshold.
pub const CLEARLY: f64 = 0.05;

/// One input as the user gave it.
#[derive(Debug, Clone)]
pub struct Input {
    /// The runs.
    pub set: RunSet,
    /// `--label`, if given.
    pub label: Option<String>,
}

/// Which interval an input's figures carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    /// Several runs: the bootstrap interval of the median across the runs' medians.
    AcrossRuns,
    /// One run: the bootstrap interval of its median over its own samples.
    InRun,
}

impl Spread {
    /// In words, for tables and legends.
    pub fn describe(self) -> &'static str {
        match self {
            Spread::AcrossRuns => "median of run medians, interval across runs",
            Spread::InRun => "one run: in-run interval",
        }
    }
}

/// An input's figure at one level × metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figure {
    /// Median (of run medians, or of the run's samples).
    pub median: f64,
    /// Interval low.
    pub low: f64,
    /// Interval high.
    pub high: f64,
    /// Runs that measured it.
    pub runs: usize,
    /// Samples in all those runs.
    pub samples: usize,
}

/// What an input has at one level × metric.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A figure.
    Figure(Figure),
    /// The metric does not apply there, with the reason.
    NotApplicable(String),
    /// The level was not measured in any run (`failed`, `skipped`).
    Failed(&'static str),
    /// Not there (the input's runs do not have that level, or the metric failed).
    Missing,
}

/// One input, as the report shows it.
#[derive(Debug, Clone)]
pub struct Side {
    /// The label the charts and tables use.
    pub label: String,
    /// How it was given (a path, a history selection).
    pub source: String,
    /// Its runs.
    pub runs: usize,
    /// Which interval its figures carry.
    pub spread: Spread,
    /// Its first run, for the level axis and the environment.
    pub doc: RunDoc,
}

/// Several configurations, level by level.
#[derive(Debug, Clone)]
pub struct Configs {
    /// The inputs, in the order given; ratios are to the first.
    pub sides: Vec<Side>,
    /// What differs between them.
    pub differing: Vec<Differing>,
    /// Every level any input has, in order.
    pub levels: Vec<Level>,
    /// Every metric any input has, in order of first appearance.
    pub metrics: Vec<MetricId>,
    /// `cells[side][level index][metric index]`.
    cells: Vec<Vec<Vec<Cell>>>,
}

fn cell(set: &RunSet, level: Level, id: &MetricId) -> Cell {
    let records: Vec<_> = set.runs.iter().filter_map(|r| r.level(level)).collect();
    let ok: Vec<_> = records
        .iter()
        .filter(|l| l.status == LevelStatus::Ok)
        .collect();
    let samples: Vec<Sample> = ok
        .iter()
        .filter_map(|l| l.result(id))
        .filter_map(|r| Sample::new(&r.samples).ok())
        .collect();
    if let [one] = samples.as_slice() {
        let ci = median_ci(one);
        return Cell::Figure(Figure {
            median: ci.estimate,
            low: ci.low,
            high: ci.high,
            runs: 1,
            samples: one.len(),
        });
    }
    if !samples.is_empty() {
        let medians: Vec<f64> = samples.iter().map(|s| s.median()).collect();
        if let Ok(m) = Sample::new(&medians) {
            let ci = median_ci(&m);
            return Cell::Figure(Figure {
                median: ci.estimate,
                low: ci.low,
                high: ci.high,
                runs: samples.len(),
                samples: samples.iter().map(|s| s.len()).sum(),
            });
        }
    }
    if let Some(n) = ok.iter().find_map(|l| l.not_applicable(id)) {
        return Cell::NotApplicable(n.reason.clone());
    }
    match records.first() {
        Some(l) if ok.is_empty() => Cell::Failed(l.status.word()),
        _ => Cell::Missing,
    }
}

impl Configs {
    /// Compare `inputs` (two or more, though one works).
    pub fn new(inputs: Vec<Input>) -> Configs {
        let docs: Vec<&RunDoc> = inputs.iter().map(|i| &i.set.runs[0]).collect();
        let differing = fields::differing(&docs);
        let given: Vec<Option<String>> = inputs.iter().map(|i| i.label.clone()).collect();
        let fallback: Vec<String> = inputs.iter().map(|i| short_source(&i.set.label)).collect();
        let labels = fields::labels(&given, &differing, &fallback);
        let mut levels: Vec<Level> = Vec::new();
        let mut metrics: Vec<MetricId> = Vec::new();
        for i in &inputs {
            for l in i.set.runs.iter().flat_map(|r| &r.levels) {
                if !levels.contains(&l.level) {
                    levels.push(l.level);
                }
                let ids = l.results.iter().map(|r| &r.id);
                for id in ids.chain(l.not_applicable.iter().map(|n| &n.id)) {
                    if !metrics.iter().any(|m| m.same(id)) {
                        metrics.push(id.clone());
                    }
                }
            }
        }
        levels.sort();
        let cells = inputs
            .iter()
            .map(|i| {
                levels
                    .iter()
                    .map(|&l| metrics.iter().map(|m| cell(&i.set, l, m)).collect())
                    .collect()
            })
            .collect();
        let sides = inputs
            .into_iter()
            .zip(labels)
            .map(|(i, label)| Side {
                label,
                source: i.set.label.clone(),
                runs: i.set.runs.len(),
                spread: if i.set.runs.len() > 1 {
                    Spread::AcrossRuns
                } else {
                    Spread::InRun
                },
                doc: i.set.runs[0].clone(),
            })
            .collect();
        Configs {
            sides,
            differing,
            levels,
            metrics,
            cells,
        }
    }

    /// What input `side` has at `level` × `metric` (the index into [`Self::metrics`]).
    pub fn cell(&self, side: usize, level: Level, metric: usize) -> &Cell {
        let li = self.levels.iter().position(|l| *l == level);
        li.and_then(|li| self.cells.get(side)?.get(li)?.get(metric))
            .unwrap_or(&Cell::Missing)
    }

    /// Input `side`'s figure over the first input's, raw; `None` unless both have one.
    pub fn ratio(&self, side: usize, level: Level, metric: usize) -> Option<f64> {
        match (self.cell(0, level, metric), self.cell(side, level, metric)) {
            (Cell::Figure(a), Cell::Figure(b)) if a.median > 0.0 => Some(b.median / a.median),
            _ => None,
        }
    }

    /// Whether input `side` is better (`Some(true)`) or worse than the first at
    /// `level` × `metric`: their intervals do not overlap and the figures differ by
    /// [`CLEARLY`] or more; `None` otherwise.
    pub fn clearly(&self, side: usize, level: Level, metric: usize) -> Option<bool> {
        let r = self.ratio(side, level, metric)?;
        if (r.ln()).abs() < (1.0 + CLEARLY).ln() {
            return None;
        }
        let (Cell::Figure(a), Cell::Figure(b)) =
            (self.cell(0, level, metric), self.cell(side, level, metric))
        else {
            return None;
        };
        let higher = self.metrics[metric].higher_is_better;
        if b.low > a.high {
            Some(higher)
        } else if b.high < a.low {
            Some(!higher)
        } else {
            None
        }
    }

    /// Categories present, in the canonical order.
    pub fn categories(&self) -> Vec<String> {
        crate::analysis::category::ordered(self.metrics.iter().map(|m| m.category()))
    }

    /// Indices of the metrics of `category`.
    pub fn metrics_of(&self, category: &str) -> Vec<usize> {
        (0..self.metrics.len())
            .filter(|&i| self.metrics[i].category() == category)
            .collect()
    }

    /// The geometric mean of input `side`'s oriented ratios to the first input (below 1
    /// is slower) over the metrics `of` at `level`, and how many went into it.
    pub fn geo_mean(&self, side: usize, level: Level, of: &[usize]) -> Option<(f64, usize)> {
        let logs: Vec<f64> = of
            .iter()
            .filter_map(|&m| {
                let r = self.ratio(side, level, m)?;
                let r = if self.metrics[m].higher_is_better {
                    r
                } else {
                    1.0 / r
                };
                (r > 0.0 && r.is_finite()).then(|| r.ln())
            })
            .collect();
        (!logs.is_empty()).then(|| {
            (
                (logs.iter().sum::<f64>() / logs.len() as f64).exp(),
                logs.len(),
            )
        })
    }
}

/// The last part of a path (`runs/qemu-8`), or a history selection as given.
fn short_source(source: &str) -> String {
    if source.starts_with("history:") {
        return source.to_string();
    }
    let p = std::path::Path::new(source);
    let p = if p.file_name().is_some_and(|n| n == "run.json") {
        p.parent().unwrap_or(p)
    } else {
        p
    };
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| source.to_string())
}
