//! Reading the history back through a [`Selection`]: a summary per run (`list`), the
//! runs themselves (`select`), their per-metric medians (`medians`), and dropping old
//! runs (`prune`). A selection becomes one `WHERE` clause, the same for both engines
//! and the same rules as [`Selection::admits`].

use crate::engine::{Row, Value};
use crate::selection::status_from_word;
use crate::{History, HistoryError, Selection};
use model::rundoc::{RunDoc, RunStatus};
use model::{Level, MetricId};
use std::collections::BTreeMap;
use std::path::PathBuf;
use time::OffsetDateTime;

/// A recorded run's indexed fields, without its results.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// Run id.
    pub run_id: String,
    /// RFC 3339 start, as in run.json.
    pub started_at: String,
    /// The start as Unix seconds.
    pub started_unix: i64,
    /// RFC 3339 finish, `None` if it never finished.
    pub finished_at: Option<String>,
    /// Status.
    pub status: RunStatus,
    /// nestbench version that made it.
    pub tool_version: String,
    /// Backend name.
    pub backend: String,
    /// Planned depth (`--levels`).
    pub levels: u32,
    /// Suite name.
    pub suite: String,
    /// Host fingerprint (`model::fingerprint::host`).
    pub host_fp: String,
    /// Configuration fingerprint (`model::fingerprint::config`).
    pub config_fp: String,
    /// Its `--tag K=V` labels.
    pub tags: BTreeMap<String, String>,
    /// The run directory it was recorded from, when known.
    pub source_dir: Option<PathBuf>,
    /// RFC 3339 time it was recorded.
    pub recorded_at: String,
}

/// A recorded run read back: its summary and its whole run.json.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRun {
    /// Indexed fields, fingerprints and tags.
    pub summary: RunSummary,
    /// The run as recorded.
    pub doc: RunDoc,
}

/// The median of one metric at one level of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct MedianRow {
    /// Run id.
    pub run_id: String,
    /// Level.
    pub level: Level,
    /// Which metric.
    pub id: MetricId,
    /// Median of its finite samples.
    pub median: f64,
    /// How many finite samples.
    pub samples: usize,
}

const COLUMNS: &str = "run_id, started_at, started_unix, finished_at, status, tool_version, \
     backend, levels, suite, host_fp, config_fp, source_dir, recorded_at";

/// Tags are fetched for this many runs per statement.
const CHUNK: usize = 500;

/// A selection as SQL: the condition on `runs` and its parameters, `$1` first.
struct Filter {
    cond: String,
    params: Vec<Value>,
}

impl Filter {
    fn of(sel: &Selection) -> Filter {
        let mut f = Filter {
            cond: String::new(),
            params: vec![],
        };
        let mut conds: Vec<String> = vec![];
        for (k, v) in &sel.tags {
            let (pk, pv) = (
                f.param(Value::Text(k.clone())),
                f.param(Value::Text(v.clone())),
            );
            conds.push(format!(
                "EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.run_id \
                 AND t.tag_key = {pk} AND t.tag_value = {pv})"
            ));
        }
        let mut text = |col: &str, op: &str, v: Option<String>, f: &mut Filter| {
            if let Some(v) = v {
                conds.push(format!("{col} {op} {}", f.param(Value::Text(v))));
            }
        };
        text(
            "host_fp",
            "LIKE",
            sel.host.as_ref().map(|p| format!("{p}%")),
            &mut f,
        );
        text(
            "config_fp",
            "LIKE",
            sel.config.as_ref().map(|p| format!("{p}%")),
            &mut f,
        );
        text("suite", "=", sel.suite.map(|s| s.name().into()), &mut f);
        text("backend", "=", sel.backend.clone(), &mut f);
        text("tool_version", "=", sel.tool.clone(), &mut f);
        text("status", "=", sel.status.map(|s| s.word().into()), &mut f);
        let mut int = |col: &str, op: &str, v: Option<i64>, f: &mut Filter| {
            if let Some(v) = v {
                conds.push(format!("{col} {op} {}", f.param(Value::I64(v))));
            }
        };
        int("levels", "=", sel.levels.map(i64::from), &mut f);
        int(
            "started_unix",
            ">=",
            sel.since.map(OffsetDateTime::unix_timestamp),
            &mut f,
        );
        int(
            "started_unix",
            "<",
            sel.before.map(OffsetDateTime::unix_timestamp),
            &mut f,
        );
        f.cond = if conds.is_empty() {
            "1 = 1".into()
        } else {
            conds.join(" AND ")
        };
        f
    }

    /// Add a parameter; its placeholder.
    fn param(&mut self, v: Value) -> String {
        self.params.push(v);
        format!("${}", self.params.len())
    }

    /// `SELECT cols FROM runs …`, newest first, limited to `last`.
    fn runs(mut self, cols: &str, last: Option<usize>) -> (String, Vec<Value>) {
        let mut sql = format!(
            "SELECT {cols} FROM runs WHERE {} ORDER BY started_unix DESC, run_id DESC",
            self.cond
        );
        if let Some(n) = last {
            let p = self.param(Value::I64(n as i64));
            sql.push_str(&format!(" LIMIT {p}"));
        }
        (sql, self.params)
    }
}

impl History {
    /// Summaries of the selected runs, oldest first.
    pub fn list(&mut self, sel: &Selection) -> Result<Vec<RunSummary>, HistoryError> {
        Ok(self
            .fetch(sel, false)?
            .into_iter()
            .map(|(s, _)| s)
            .collect())
    }

    /// The selected runs, oldest first (`last=N`: the N most recent).
    pub fn select(&mut self, sel: &Selection) -> Result<Vec<StoredRun>, HistoryError> {
        self.fetch(sel, true)?
            .into_iter()
            .map(|(summary, doc)| {
                let doc = RunDoc::from_json(
                    &doc.unwrap_or_default(),
                    &format!("history run {}", summary.run_id),
                )
                .map_err(|e| HistoryError::BadRun {
                    run_id: summary.run_id.clone(),
                    why: e.to_string(),
                })?;
                Ok(StoredRun { summary, doc })
            })
            .collect()
    }

    /// Per level × metric medians of the selected runs, oldest run first.
    pub fn medians(&mut self, sel: &Selection) -> Result<Vec<MedianRow>, HistoryError> {
        let (ids, params) = Filter::of(sel).runs("run_id", sel.last);
        let sql = format!(
            "SELECT m.run_id, m.level, m.workload, m.metric, m.unit, m.higher_is_better, \
             m.median, m.samples FROM run_metrics m JOIN runs r ON r.run_id = m.run_id \
             WHERE m.run_id IN ({ids}) \
             ORDER BY r.started_unix, m.run_id, m.level, m.workload, m.metric"
        );
        let rows = self.db.query(&sql, &params)?;
        Ok(rows
            .iter()
            .map(|r| MedianRow {
                run_id: r.text(0),
                level: Level(r.i64(1) as u32),
                id: MetricId {
                    workload: r.text(2),
                    metric: r.text(3),
                    unit: r.text(4),
                    higher_is_better: r.i64(5) != 0,
                },
                median: r.f64(6),
                samples: r.i64(7) as usize,
            })
            .collect())
    }

    /// Drop runs: those beyond the `keep_last` most recent, and (both given: that are
    /// also) started before `before`. A run is dropped only when every rule given says
    /// so; with neither, nothing is. Their tags and medians go with them; noise
    /// profiles stay. Returns how many runs were dropped.
    pub fn prune(
        &mut self,
        keep_last: Option<usize>,
        before: Option<OffsetDateTime>,
    ) -> Result<usize, HistoryError> {
        let mut conds = vec![];
        let mut params = vec![];
        if let Some(n) = keep_last {
            params.push(Value::I64(n as i64));
            conds.push(format!(
                "run_id NOT IN (SELECT run_id FROM runs ORDER BY started_unix DESC, run_id DESC LIMIT ${})",
                params.len()
            ));
        }
        if let Some(t) = before {
            params.push(Value::I64(t.unix_timestamp()));
            conds.push(format!("started_unix < ${}", params.len()));
        }
        if conds.is_empty() {
            return Ok(0);
        }
        let sql = format!("DELETE FROM runs WHERE {}", conds.join(" AND "));
        self.db
            .transaction(|db| db.execute(&sql, &params))
            .map(|n| n as usize)
    }

    /// The selected runs' summaries, and with `doc` their run.json texts, oldest first.
    fn fetch(
        &mut self,
        sel: &Selection,
        doc: bool,
    ) -> Result<Vec<(RunSummary, Option<String>)>, HistoryError> {
        let cols = if doc {
            format!("{COLUMNS}, doc")
        } else {
            COLUMNS.to_string()
        };
        let (sql, params) = Filter::of(sel).runs(&cols, sel.last);
        let mut runs: Vec<(RunSummary, Option<String>)> = self
            .db
            .query(&sql, &params)?
            .iter()
            .map(|r| Ok((summary(r)?, r.opt_text(13))))
            .collect::<Result<_, HistoryError>>()?;
        runs.reverse();
        for chunk in runs.chunks_mut(CHUNK) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let ids: Vec<Value> = chunk
                .iter()
                .map(|(s, _)| Value::Text(s.run_id.clone()))
                .collect();
            let sql = format!(
                "SELECT run_id, tag_key, tag_value FROM run_tags WHERE run_id IN ({})",
                marks.join(", ")
            );
            let mut tags: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
            for r in self.db.query(&sql, &ids)? {
                tags.entry(r.text(0))
                    .or_default()
                    .insert(r.text(1), r.text(2));
            }
            for (s, _) in chunk.iter_mut() {
                s.tags = tags.remove(&s.run_id).unwrap_or_default();
            }
        }
        Ok(runs)
    }
}

fn summary(r: &Row) -> Result<RunSummary, HistoryError> {
    let run_id = r.text(0);
    let status = status_from_word(&r.text(4)).ok_or_else(|| HistoryError::BadRun {
        run_id: run_id.clone(),
        why: format!("unknown status {:?} in the history", r.text(4)),
    })?;
    Ok(RunSummary {
        run_id,
        started_at: r.text(1),
        started_unix: r.i64(2),
        finished_at: r.opt_text(3),
        status,
        tool_version: r.text(5),
        backend: r.text(6),
        levels: r.i64(7) as u32,
        suite: r.text(8),
        host_fp: r.text(9),
        config_fp: r.text(10),
        tags: BTreeMap::new(),
        source_dir: r.opt_text(11).map(PathBuf::from),
        recorded_at: r.text(12),
    })
}
