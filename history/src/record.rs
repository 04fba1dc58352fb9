//! Recording a run: the whole run.json for reading it back, and beside it the fields
//! queries select on — fingerprints, tags, and per level × metric the median and the
//! sample count — so that listing, selecting and calibrating never parse JSON.
//! Recording is idempotent on the run id: a run already there is left as it is.

use crate::engine::{Db, Value};
use crate::{History, HistoryError};
use model::fingerprint;
use model::rundoc::RunDoc;
use std::path::Path;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// What [`History::record`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The run is new to the history.
    Inserted,
    /// A run with this id was there already; nothing was changed.
    AlreadyThere,
}

const INSERT_RUN: &str =
    "INSERT INTO runs (run_id, started_at, started_unix, finished_at, status, \
     tool_version, backend, levels, suite, host_fp, config_fp, source_dir, recorded_at, doc) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
     ON CONFLICT (run_id) DO NOTHING";

const INSERT_TAG: &str = "INSERT INTO run_tags (run_id, tag_key, tag_value) VALUES ($1, $2, $3)";

// A run.json with the same metric twice at one level keeps the first.
const INSERT_METRIC: &str = "INSERT INTO run_metrics (run_id, level, workload, metric, unit, \
     higher_is_better, median, samples) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (run_id, level, workload, metric) DO NOTHING";

impl History {
    /// Record `doc` (made in, or imported from, `source_dir`). Idempotent on the run id.
    pub fn record(
        &mut self,
        doc: &RunDoc,
        source_dir: Option<&Path>,
    ) -> Result<Recorded, HistoryError> {
        let started = started_unix(doc)?;
        let run = Value::Text(doc.run_id.clone());
        let values = vec![
            run.clone(),
            Value::Text(doc.started_at.clone()),
            Value::I64(started),
            Value::OptText(doc.finished_at.clone()),
            Value::Text(doc.status.word().into()),
            Value::Text(doc.tool_version.clone()),
            Value::Text(doc.config.backend.to_string()),
            Value::I64(doc.config.levels.into()),
            Value::Text(doc.config.suite.name().into()),
            Value::Text(fingerprint::host(doc)),
            Value::Text(fingerprint::config(doc)),
            Value::OptText(source_dir.map(|p| p.display().to_string())),
            Value::Text(crate::now_rfc3339()),
            Value::Text(doc.to_json()),
        ];
        self.db.transaction(|db| {
            if db.execute(INSERT_RUN, &values)? == 0 {
                return Ok(Recorded::AlreadyThere);
            }
            for (k, v) in &doc.config.tags {
                db.execute(
                    INSERT_TAG,
                    &[run.clone(), Value::Text(k.clone()), Value::Text(v.clone())],
                )?;
            }
            insert_metrics(db, doc, &run)?;
            Ok(Recorded::Inserted)
        })
    }
}

fn insert_metrics(db: &mut Db, doc: &RunDoc, run: &Value) -> Result<(), HistoryError> {
    for level in &doc.levels {
        for r in &level.results {
            let Some((median, n)) = median(&r.samples) else {
                continue;
            };
            db.execute(
                INSERT_METRIC,
                &[
                    run.clone(),
                    Value::I64(level.level.depth().into()),
                    Value::Text(r.id.workload.clone()),
                    Value::Text(r.id.metric.clone()),
                    Value::Text(r.id.unit.clone()),
                    Value::I64(r.id.higher_is_better.into()),
                    Value::F64(median),
                    Value::I64(n as i64),
                ],
            )?;
        }
    }
    Ok(())
}

/// The run's start as Unix seconds (what selections and pruning compare).
fn started_unix(doc: &RunDoc) -> Result<i64, HistoryError> {
    OffsetDateTime::parse(&doc.started_at, &Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| HistoryError::BadRun {
            run_id: doc.run_id.clone(),
            why: format!("started_at {:?} is not an RFC 3339 time", doc.started_at),
        })
}

/// The median of the finite samples and how many there are; `None` when there are none.
pub(crate) fn median(samples: &[f64]) -> Option<(f64, usize)> {
    let mut v: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let m = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some((m, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_finite_samples() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some((2.0, 3)));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some((2.5, 4)));
        assert_eq!(median(&[f64::NAN, 5.0]), Some((5.0, 1)));
        assert_eq!(median(&[]), None);
    }
}
