//! The embedded engine: one SQLite file (rusqlite, SQLite compiled in), created with
//! its directory on first use. Placeholders `$1`, `$2`, … are SQLite named parameters
//! and are bound by name, so they mean what they mean in PostgreSQL. A file that is not
//! a database, or a damaged one, is reported as [`HistoryError::Corrupt`] by every
//! statement, the first one included.

use super::{Cell, Row, Value};
use crate::HistoryError;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// How long a statement waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// An open SQLite history.
pub(crate) struct Sqlite {
    conn: Connection,
    shown: String,
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::I64(n) => ToSqlOutput::from(*n),
            Value::F64(x) => ToSqlOutput::from(*x),
            Value::Text(s) => ToSqlOutput::from(s.as_str()),
            Value::OptText(Some(s)) => ToSqlOutput::from(s.as_str()),
            Value::OptText(None) => ToSqlOutput::from(rusqlite::types::Null),
            Value::OptF64(Some(x)) => ToSqlOutput::from(*x),
            Value::OptF64(None) => ToSqlOutput::from(rusqlite::types::Null),
        })
    }
}

impl Sqlite {
    /// Open (or create) the file at `path`.
    pub fn open(path: &Path) -> Result<Sqlite, HistoryError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| HistoryError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let shown = path.display().to_string();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::CannotOpen => {
                HistoryError::Io {
                    path: path.to_path_buf(),
                    source: std::io::Error::other("cannot open or create it as a file"),
                }
            }
            e => error(&shown, e),
        })?;
        let db = Sqlite { conn, shown };
        db.conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| error(&db.shown, e))?;
        // Per connection: prune relies on ON DELETE CASCADE.
        db.batch("PRAGMA foreign_keys = ON")?;
        Ok(db)
    }

    /// Run statements without parameters.
    pub fn batch(&self, sql: &str) -> Result<(), HistoryError> {
        self.conn
            .execute_batch(sql)
            .map_err(|e| error(&self.shown, e))
    }

    fn prepared(
        &self,
        sql: &str,
        params: &[Value],
    ) -> rusqlite::Result<rusqlite::CachedStatement<'_>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        if stmt.parameter_count() != params.len() {
            return Err(rusqlite::Error::InvalidParameterCount(
                params.len(),
                stmt.parameter_count(),
            ));
        }
        for (i, v) in params.iter().enumerate() {
            let name = format!("${}", i + 1);
            let idx = stmt
                .parameter_index(&name)?
                .ok_or(rusqlite::Error::InvalidParameterName(name))?;
            stmt.raw_bind_parameter(idx, v)?;
        }
        Ok(stmt)
    }

    /// Run a statement; the rows it changed.
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, HistoryError> {
        let run = || -> rusqlite::Result<u64> {
            let mut stmt = self.prepared(sql, params)?;
            Ok(stmt.raw_execute()? as u64)
        };
        run().map_err(|e| error(&self.shown, e))
    }

    /// Run a query; its rows.
    pub fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, HistoryError> {
        let run = || -> rusqlite::Result<Vec<Row>> {
            let mut stmt = self.prepared(sql, params)?;
            let n = stmt.column_count();
            let mut rows = stmt.raw_query();
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let cells = (0..n)
                    .map(|i| {
                        Ok(match r.get_ref(i)? {
                            ValueRef::Null => Cell::Null,
                            ValueRef::Integer(n) => Cell::I64(n),
                            ValueRef::Real(x) => Cell::F64(x),
                            ValueRef::Text(t) | ValueRef::Blob(t) => {
                                Cell::Text(String::from_utf8_lossy(t).into_owned())
                            }
                        })
                    })
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                out.push(Row(cells));
            }
            Ok(out)
        };
        run().map_err(|e| error(&self.shown, e))
    }
}

/// A rusqlite error as the history's: not-a-database and corruption are
/// [`HistoryError::Corrupt`], the rest [`HistoryError::Database`].
fn error(shown: &str, e: rusqlite::Error) -> HistoryError {
    let detail = crate::error::one_line(&e.to_string());
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => HistoryError::Corrupt {
            location: shown.into(),
            detail,
        },
        _ => HistoryError::Database {
            location: shown.into(),
            detail,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollar_placeholders_bind_by_number_in_any_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = Sqlite::open(&dir.path().join("a/b/h.sqlite")).unwrap();
        db.batch("CREATE TABLE t (a TEXT, b BIGINT, c DOUBLE PRECISION)")
            .unwrap();
        let n = db
            .execute(
                "INSERT INTO t (c, a, b) VALUES ($3, $1, $2)",
                &[Value::Text("x".into()), Value::I64(7), Value::F64(0.5)],
            )
            .unwrap();
        assert_eq!(n, 1);
        let rows = db
            .query(
                "SELECT a, b, c FROM t WHERE b = $2 AND a = $1 AND b = $2",
                &[Value::Text("x".into()), Value::I64(7)],
            )
            .unwrap();
        assert_eq!(
            rows[0].0,
            [Cell::Text("x".into()), Cell::I64(7), Cell::F64(0.5)]
        );
        // A placeholder without a value is a bug, not a silent NULL.
        assert!(db.query("SELECT a FROM t WHERE b = $1", &[]).is_err());
    }
}
