//! The history's tables and how a database gets them: numbered migrations, applied in
//! order, each in the same transaction as the row that records it, so a database is
//! always at exactly one version.
//!
//! **The rule.** `schema_migrations` holds one row per applied step; the database's
//! version is the highest. Opening applies every step above it, under a lock (SQLite's
//! write lock, a PostgreSQL advisory lock) so two processes opening a new database do
//! not both migrate it. A database whose version is higher than [`SCHEMA_VERSION`]
//! was migrated by a newer nestbench and is refused without a change. A step, once
//! released, is never edited: a change is a new step. Steps use only SQL both engines
//! run the same way (`TEXT`, `BIGINT`, `DOUBLE PRECISION`, `IF NOT EXISTS`).

use crate::engine::{Db, Value};
use crate::HistoryError;

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = 2;

/// One numbered step.
struct Migration {
    version: i64,
    description: &'static str,
    statements: &'static [&'static str],
}

/// Every step, in order; `MIGRATIONS.last().version == SCHEMA_VERSION`.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "runs, tags, per-metric medians, noise profiles",
        statements: &[
            // One row per run: the indexed fields, and the whole run.json (schema 2) in
            // `doc`, from which the run is read back exactly.
            "CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            started_at TEXT NOT NULL,
            started_unix BIGINT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,
            tool_version TEXT NOT NULL,
            backend TEXT NOT NULL,
            levels BIGINT NOT NULL,
            suite TEXT NOT NULL,
            host_fp TEXT NOT NULL,
            config_fp TEXT NOT NULL,
            source_dir TEXT,
            recorded_at TEXT NOT NULL,
            doc TEXT NOT NULL
        )",
            "CREATE INDEX runs_by_start ON runs (started_unix, run_id)",
            "CREATE INDEX runs_by_fingerprint ON runs (host_fp, config_fp)",
            "CREATE TABLE run_tags (
            run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            tag_key TEXT NOT NULL,
            tag_value TEXT NOT NULL,
            PRIMARY KEY (run_id, tag_key)
        )",
            "CREATE INDEX run_tags_by_tag ON run_tags (tag_key, tag_value)",
            // Per run × level × metric: the median of the samples and how many there were.
            "CREATE TABLE run_metrics (
            run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            level BIGINT NOT NULL,
            workload TEXT NOT NULL,
            metric TEXT NOT NULL,
            unit TEXT NOT NULL,
            higher_is_better BIGINT NOT NULL,
            median DOUBLE PRECISION NOT NULL,
            samples BIGINT NOT NULL,
            PRIMARY KEY (run_id, level, workload, metric)
        )",
            // Calibrated run-to-run noise per host and configuration.
            "CREATE TABLE noise_profiles (
            host_fp TEXT NOT NULL,
            config_fp TEXT NOT NULL,
            level BIGINT NOT NULL,
            workload TEXT NOT NULL,
            metric TEXT NOT NULL,
            log_sigma DOUBLE PRECISION NOT NULL,
            runs BIGINT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (host_fp, config_fp, level, workload, metric)
        )",
        ],
    },
    Migration {
        version: 2,
        description: "a noise profile's heavy tail (Student-t shape and scale)",
        statements: &[
            // NULL for profiles calibrated before tails were fitted, or with normal drift.
            "ALTER TABLE noise_profiles ADD COLUMN tail_nu DOUBLE PRECISION",
            "ALTER TABLE noise_profiles ADD COLUMN tail_scale DOUBLE PRECISION",
        ],
    },
];

/// Bring the database to [`SCHEMA_VERSION`], or refuse one that is newer.
///
/// A database already at the version is only read: no lock, no DDL, so a role that
/// may read and write the tables but not create any (PostgreSQL 15's default for
/// non-owners) opens a shared history that its owner migrated.
pub(crate) fn migrate(db: &mut Db, shown: &str) -> Result<(), HistoryError> {
    match version(db) {
        Ok(v) if v == SCHEMA_VERSION => return Ok(()),
        Ok(v) if v > SCHEMA_VERSION => return Err(too_new(shown, v)),
        Err(e @ HistoryError::Corrupt { .. }) => return Err(e),
        // Older, or no schema_migrations table yet: migrate (which reads it again).
        _ => {}
    }
    db.transaction(|db| {
        db.lock_schema()?;
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY,
                description TEXT NOT NULL,
                applied_at TEXT NOT NULL
            )",
            &[],
        )?;
        let current = version(db)?;
        if current > SCHEMA_VERSION {
            return Err(too_new(shown, current));
        }
        for m in MIGRATIONS.iter().filter(|m| m.version > current) {
            for sql in m.statements {
                db.execute(sql, &[])?;
            }
            db.execute(
                "INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)",
                &[
                    Value::I64(m.version),
                    Value::Text(m.description.into()),
                    Value::Text(crate::now_rfc3339()),
                ],
            )?;
        }
        Ok(())
    })
}

fn too_new(shown: &str, found: i64) -> HistoryError {
    HistoryError::TooNew {
        location: shown.into(),
        found,
        known: SCHEMA_VERSION,
    }
}

/// The database's version: the highest applied step, 0 for none.
pub(crate) fn version(db: &mut Db) -> Result<i64, HistoryError> {
    Ok(db
        .query("SELECT MAX(version) FROM schema_migrations", &[])?
        .first()
        .map_or(0, |r| r.i64(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_numbered_one_by_one_up_to_the_version() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.description);
        }
        assert_eq!(MIGRATIONS.last().unwrap().version, SCHEMA_VERSION);
    }
}
