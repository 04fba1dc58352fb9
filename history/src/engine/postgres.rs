//! The shared engine: a PostgreSQL server (the sync `postgres` crate), reached as
//! [`super::pgconnect`] describes. Statements are the same text as SQLite's; values
//! are bound with the Rust type matching each column type (`BIGINT` ↔ `i64`,
//! `DOUBLE PRECISION` ↔ `f64`, `TEXT` ↔ `String`), and rows are read by column type.

use super::{pgconnect, Cell, Row, Value};
use crate::error::{chain, one_line};
use crate::{HistoryError, PgUrl};
use postgres::types::{ToSql, Type};
use postgres::Client;

/// An open connection to a PostgreSQL history.
pub(crate) struct Pg {
    client: Client,
    shown: String,
}

impl Pg {
    /// Connect to `url`.
    pub fn connect(url: &PgUrl) -> Result<Pg, HistoryError> {
        Ok(Pg {
            client: pgconnect::connect(url)?,
            shown: url.to_string(),
        })
    }

    /// Run statements without parameters.
    pub fn batch(&mut self, sql: &str) -> Result<(), HistoryError> {
        self.client
            .batch_execute(sql)
            .map_err(|e| error(&self.shown, &e))
    }

    /// Run a statement; the rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, HistoryError> {
        self.client
            .execute(sql, &refs(params))
            .map_err(|e| error(&self.shown, &e))
    }

    /// Run a query; its rows.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, HistoryError> {
        let rows = self
            .client
            .query(sql, &refs(params))
            .map_err(|e| error(&self.shown, &e))?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| cell(r, i))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Row)
                    .map_err(|e| error(&self.shown, &e))
            })
            .collect()
    }
}

fn refs(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|v| -> &(dyn ToSql + Sync) {
            match v {
                Value::I64(n) => n,
                Value::F64(x) => x,
                Value::Text(s) => s,
                Value::OptText(o) => o,
                Value::OptF64(o) => o,
            }
        })
        .collect()
}

fn cell(r: &postgres::Row, i: usize) -> Result<Cell, postgres::Error> {
    let ty = r.columns()[i].type_().clone();
    Ok(match ty {
        Type::INT8 => r
            .try_get::<_, Option<i64>>(i)?
            .map_or(Cell::Null, Cell::I64),
        Type::INT4 => r
            .try_get::<_, Option<i32>>(i)?
            .map_or(Cell::Null, |n| Cell::I64(n.into())),
        Type::INT2 => r
            .try_get::<_, Option<i16>>(i)?
            .map_or(Cell::Null, |n| Cell::I64(n.into())),
        Type::FLOAT8 => r
            .try_get::<_, Option<f64>>(i)?
            .map_or(Cell::Null, Cell::F64),
        Type::FLOAT4 => r
            .try_get::<_, Option<f32>>(i)?
            .map_or(Cell::Null, |x| Cell::F64(x.into())),
        Type::BOOL => r
            .try_get::<_, Option<bool>>(i)?
            .map_or(Cell::Null, |b| Cell::I64(b.into())),
        _ => r
            .try_get::<_, Option<String>>(i)?
            .map_or(Cell::Null, Cell::Text),
    })
}

/// A statement's error: the server's words, or unreachable when the connection went.
fn error(shown: &str, e: &postgres::Error) -> HistoryError {
    match e.as_db_error() {
        Some(db) => HistoryError::Database {
            location: shown.into(),
            detail: one_line(&format!("{}: {}", db.severity(), db.message())),
        },
        None if e.is_closed() => HistoryError::Unreachable {
            location: shown.into(),
            detail: chain(e),
        },
        None => HistoryError::Database {
            location: shown.into(),
            detail: chain(e),
        },
    }
}
