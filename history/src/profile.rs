//! Noise profiles: how much a metric moves from run to run on one host in one
//! configuration (the standard deviation of log medians), kept so that a single new
//! run can be judged against calibrated noise instead of its own samples alone, and,
//! since schema version 2, the Student-t tail fitted to it (NULL when none was). The
//! history stores and returns them; the statistics that compute them live in `reports`.

use crate::engine::Value;
use crate::{History, HistoryError};
use model::Level;

/// One metric's run-to-run noise at one level, for one host and configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileRow {
    /// Host fingerprint (`model::fingerprint::host`).
    pub host_fp: String,
    /// Configuration fingerprint (`model::fingerprint::config`).
    pub config_fp: String,
    /// Level.
    pub level: Level,
    /// Workload id.
    pub workload: String,
    /// Metric id within the workload.
    pub metric: String,
    /// Standard deviation of the natural log of per-run medians.
    pub log_sigma: f64,
    /// How many runs it was computed from.
    pub runs: usize,
    /// Student-t shape of the level's drift, when a heavy tail was fitted.
    pub tail_nu: Option<f64>,
    /// This metric's Student-t scale (log scale), with `tail_nu`.
    pub tail_scale: Option<f64>,
    /// RFC 3339 time it was computed.
    pub updated_at: String,
}

impl History {
    /// Store `p`, replacing the profile of the same host, configuration, level and metric.
    pub fn put_profile(&mut self, p: &ProfileRow) -> Result<(), HistoryError> {
        let values = [
            Value::Text(p.host_fp.clone()),
            Value::Text(p.config_fp.clone()),
            Value::I64(p.level.depth().into()),
            Value::Text(p.workload.clone()),
            Value::Text(p.metric.clone()),
            Value::F64(p.log_sigma),
            Value::I64(p.runs as i64),
            Value::Text(p.updated_at.clone()),
            Value::OptF64(p.tail_nu),
            Value::OptF64(p.tail_scale),
        ];
        self.db.transaction(|db| {
            db.execute(
                "INSERT INTO noise_profiles (host_fp, config_fp, level, workload, metric, \
                 log_sigma, runs, updated_at, tail_nu, tail_scale) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (host_fp, config_fp, level, workload, metric) DO UPDATE SET \
                 log_sigma = excluded.log_sigma, runs = excluded.runs, \
                 updated_at = excluded.updated_at, tail_nu = excluded.tail_nu, \
                 tail_scale = excluded.tail_scale",
                &values,
            )
            .map(drop)
        })
    }

    /// The profiles of one host and configuration, by level, workload and metric.
    pub fn profiles(
        &mut self,
        host_fp: &str,
        config_fp: &str,
    ) -> Result<Vec<ProfileRow>, HistoryError> {
        let rows = self.db.query(
            "SELECT host_fp, config_fp, level, workload, metric, log_sigma, runs, updated_at, \
             tail_nu, tail_scale FROM noise_profiles WHERE host_fp = $1 AND config_fp = $2 \
             ORDER BY level, workload, metric",
            &[Value::Text(host_fp.into()), Value::Text(config_fp.into())],
        )?;
        Ok(rows
            .iter()
            .map(|r| ProfileRow {
                host_fp: r.text(0),
                config_fp: r.text(1),
                level: Level(r.i64(2) as u32),
                workload: r.text(3),
                metric: r.text(4),
                log_sigma: r.f64(5),
                runs: r.i64(6) as usize,
                updated_at: r.text(7),
                tail_nu: r.opt_f64(8),
                tail_scale: r.opt_f64(9),
            })
            .collect())
    }
}
