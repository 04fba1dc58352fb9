//! Trends over a run history: each level × metric's per-run median, in time order, with
//! its change points (E-Divisive with a permutation test, [`crate::stats::changepoint`]),
//! and whether a change for the worse starts within the most recent runs — the check a
//! post-merge CI job runs (`nestbench trend --recent K`, exit 3).
//!
//! Each series is tested on its own at the change-point significance; over many series
//! a few false change points are expected (the significance per series, 0.005 by
//! default, times the number of series), which is why the exit code looks only at the
//! last K runs and at changes for the worse, and the report lists every point with its
//! p-value. What it cannot detect is in the change-point module's header: in particular
//! a change within `min_segment` runs of the newest run is not confirmed until that many
//! runs follow it; compare the newest runs against the ones before with `compare`.

use crate::stats::changepoint::{self, ChangePoint, Options};
use crate::stats::{median_ci, Interval, Sample};
use model::rundoc::{LevelStatus, RunDoc};
use model::{Level, MetricId};
use serde::Serialize;

/// One run's figure in a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// The run.
    pub run_id: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// The median of its samples, with the 95 % bootstrap interval.
    pub median: f64,
    /// Interval low.
    pub low: f64,
    /// Interval high.
    pub high: f64,
}

/// A change point of a series, in the words a report needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// First run of the new regime (index into the series' points).
    pub index: usize,
    /// That run's id.
    pub run_id: String,
    /// When it started.
    pub started_at: String,
    /// Mean median before.
    pub before: f64,
    /// Mean median after.
    pub after: f64,
    /// `after / before − 1`.
    pub change: f64,
    /// Whether it is a change for the worse (a rate down, a latency up).
    pub worse: bool,
    /// Permutation p-value.
    pub p_value: f64,
}

/// One level × metric over time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// The level.
    pub level: Level,
    /// The metric.
    #[serde(rename = "metric")]
    pub id: MetricId,
    /// One point per run that measured it, oldest first.
    pub points: Vec<Point>,
    /// Its change points, ascending.
    pub changes: Vec<Change>,
}

/// What `trend` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    /// Format version of the JSON document.
    pub version: u32,
    /// Runs considered, oldest first.
    pub runs: usize,
    /// The recent window checked for the exit code.
    pub recent: usize,
    /// Change-point significance per series.
    pub significance: f64,
    /// Every series.
    pub series: Vec<Series>,
}

/// Which series to build.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Only this level.
    pub level: Option<Level>,
    /// Only this `workload/metric`.
    pub metric: Option<String>,
}

/// The trend of `runs` (any order; sorted by start time here).
pub fn trend(runs: &[RunDoc], filter: &Filter, recent: usize, options: &Options) -> Trend {
    let mut runs: Vec<&RunDoc> = runs.iter().collect();
    runs.sort_by(|a, b| a.started_at.cmp(&b.started_at));
    let mut series: Vec<Series> = Vec::new();
    for run in &runs {
        for level in run.levels.iter().filter(|l| l.status == LevelStatus::Ok) {
            if filter.level.is_some_and(|f| f != level.level) {
                continue;
            }
            for r in &level.results {
                if filter.metric.as_ref().is_some_and(|m| *m != r.id.key()) {
                    continue;
                }
                let Ok(s) = Sample::new(&r.samples) else {
                    continue;
                };
                let ci: Interval = median_ci(&s);
                let point = Point {
                    run_id: run.run_id.clone(),
                    started_at: run.started_at.clone(),
                    median: ci.estimate,
                    low: ci.low,
                    high: ci.high,
                };
                match series
                    .iter_mut()
                    .find(|x| x.level == level.level && x.id.same(&r.id))
                {
                    Some(x) => x.points.push(point),
                    None => series.push(Series {
                        level: level.level,
                        id: r.id.clone(),
                        points: vec![point],
                        changes: vec![],
                    }),
                }
            }
        }
    }
    for s in &mut series {
        let values: Vec<f64> = s.points.iter().map(|p| p.median).collect();
        s.changes = changepoint::detect(&values, options)
            .into_iter()
            .map(|c| describe(s, &c))
            .collect();
    }
    Trend {
        version: 1,
        runs: runs.len(),
        recent,
        significance: options.significance,
        series,
    }
}

fn describe(s: &Series, c: &ChangePoint) -> Change {
    let p = &s.points[c.index];
    let up = c.relative_change > 0.0;
    Change {
        index: c.index,
        run_id: p.run_id.clone(),
        started_at: p.started_at.clone(),
        before: c.before_mean,
        after: c.after_mean,
        change: c.relative_change,
        worse: up != s.id.higher_is_better,
        p_value: c.p_value,
    }
}

impl Trend {
    /// Changes for the worse that start within the last `recent` runs of their series.
    pub fn recent_regressions(&self) -> Vec<(&Series, &Change)> {
        self.series
            .iter()
            .flat_map(|s| s.changes.iter().map(move |c| (s, c)))
            .filter(|(s, c)| c.worse && c.index + self.recent >= s.points.len())
            .collect()
    }

    /// The change points as Markdown: one table, worst recent ones first.
    pub fn markdown(&self) -> String {
        let bad = self.recent_regressions();
        let mut out = format!(
            "## nestbench trend: {}\n\n{} runs, {} series; change points by E-Divisive (permutation test, p ≤ {} per series); exit 3 for a change for the worse within the last {} runs.\n\n",
            if bad.is_empty() { "✅ no recent regression" } else { "❌ recent regression" },
            self.runs,
            self.series.len(),
            self.significance,
            self.recent
        );
        let rows: Vec<(&Series, &Change)> = self
            .series
            .iter()
            .flat_map(|s| s.changes.iter().map(move |c| (s, c)))
            .collect();
        if rows.is_empty() {
            out.push_str("No change point.\n");
            return out;
        }
        out.push_str("| level | metric | from run | when | before → after | change | p | |\n|---|---|---|---|---|---|---|---|\n");
        for (s, c) in rows {
            let recent = c.index + self.recent >= s.points.len();
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} → {} {} | {:+.1} % | {:.3} | {} |\n",
                s.level,
                s.id.key(),
                c.run_id,
                c.started_at,
                crate::export::format::sig(c.before, 4),
                crate::export::format::sig(c.after, 4),
                s.id.unit,
                c.change * 100.0,
                c.p_value,
                match (c.worse, recent) {
                    (true, true) => "**worse, recent**",
                    (true, false) => "worse",
                    (false, _) => "better",
                }
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs_with_step(n: usize, at: usize, factor: f64) -> Vec<RunDoc> {
        let base = RunDoc::from_json(
            include_str!("../tests/fixtures/complete.json"),
            "complete.json",
        )
        .unwrap();
        (0..n)
            .map(|i| {
                let mut d = base.clone();
                d.run_id = format!("r{i:02}");
                d.started_at = format!("2026-01-01T00:{i:02}:00Z");
                for l in &mut d.levels {
                    for r in &mut l.results {
                        // 1 % deterministic wobble, and the step on one metric.
                        let wobble = 1.0 + 0.01 * (((i * 37 + 11) % 7) as f64 - 3.0) / 3.0;
                        let step = if i >= at && l.level == 1 && r.id.key() == "cpu.int/ops" {
                            factor
                        } else {
                            1.0
                        };
                        r.samples.iter_mut().for_each(|s| *s *= wobble * step);
                    }
                }
                d
            })
            .collect()
    }

    #[test]
    fn a_recent_slowdown_is_found_where_it_is_and_only_there() {
        let runs = runs_with_step(30, 22, 0.85);
        let filter = Filter {
            level: Some(Level(1)),
            metric: None,
        };
        let t = trend(&runs, &filter, 10, &Options::default());
        assert_eq!(t.runs, 30);
        let bad = t.recent_regressions();
        assert_eq!(bad.len(), 1, "{}", t.markdown());
        let (s, c) = bad[0];
        assert_eq!(s.id.key(), "cpu.int/ops");
        assert!((c.index as i64 - 22).abs() <= 2, "{c:?}");
        assert!((c.change + 0.15).abs() < 0.03, "{c:?}");
        assert!(t.markdown().contains("worse, recent"));
        // Outside the recent window it is reported, not failed on.
        let t = trend(&runs, &filter, 3, &Options::default());
        assert!(t.recent_regressions().is_empty());
        assert!(t.markdown().contains("cpu.int/ops"));
    }

    #[test]
    fn the_trend_chart_draws_every_series_and_its_change_points() {
        let runs = runs_with_step(30, 22, 0.85);
        let filter = Filter {
            level: Some(Level(1)),
            metric: None,
        };
        let t = trend(&runs, &filter, 10, &Options::default());
        let charts = crate::charts::trend::TrendChart::per_level(&t.series);
        assert_eq!(charts.len(), 1);
        let dir = std::env::temp_dir().join(format!("nb-trend-chart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let w = crate::charts::write(&charts[0], &dir).unwrap();
        assert!(
            w.svg.contains("cpu.int/ops") && w.svg.contains("-15 %"),
            "no change label"
        );
        assert_eq!(
            w.svg.matches("(higher is better)").count()
                + w.svg.matches("(lower is better)").count(),
            21
        );
        let png = std::fs::read(&w.png_path).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        if std::env::var_os("KEEP_CHARTS").is_none() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    #[test]
    fn an_improvement_is_not_a_regression() {
        let runs = runs_with_step(30, 22, 1.2);
        let t = trend(
            &runs,
            &Filter {
                level: Some(Level(1)),
                metric: Some("cpu.int/ops".into()),
            },
            10,
            &Options::default(),
        );
        assert_eq!(t.series.len(), 1);
        assert_eq!(t.series[0].changes.len(), 1);
        assert!(!t.series[0].changes[0].worse);
        assert!(t.recent_regressions().is_empty());
    }
}
