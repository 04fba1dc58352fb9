//! The two engines behind one small interface, so every query in this crate is written
//! once, in SQL both understand: `$1`, `$2`, … placeholders (PostgreSQL's; SQLite reads
//! `$1` as a parameter named "1", and [`sqlite`] binds by that name, so a placeholder
//! may appear in any order or more than once), `TEXT`, `BIGINT` and
//! `DOUBLE PRECISION` columns, `INSERT … ON CONFLICT`, `LIMIT`. Only connecting,
//! starting a write transaction and the migration lock differ, and they live here.

mod pgconnect;
pub(crate) mod pgpass;
pub(crate) mod pgurl;
mod postgres;
mod sqlite;

use crate::{HistoryError, Location};

/// A parameter of a statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A `BIGINT`.
    I64(i64),
    /// A `DOUBLE PRECISION`.
    F64(f64),
    /// A `TEXT`.
    Text(String),
    /// A `TEXT` that may be NULL.
    OptText(Option<String>),
    /// A `DOUBLE PRECISION` that may be NULL.
    OptF64(Option<f64>),
}

/// One column of a result row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// SQL NULL.
    Null,
    /// An integer.
    I64(i64),
    /// A float.
    F64(f64),
    /// Text.
    Text(String),
}

/// A result row, read by position.
#[derive(Debug, Clone)]
pub(crate) struct Row(pub Vec<Cell>);

impl Row {
    fn cell(&self, i: usize) -> &Cell {
        self.0.get(i).unwrap_or(&Cell::Null)
    }

    /// Column `i` as text (NULL reads as empty).
    pub fn text(&self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }

    /// Column `i` as a float, or `None` for NULL.
    pub fn opt_f64(&self, i: usize) -> Option<f64> {
        match self.cell(i) {
            Cell::Null => None,
            _ => Some(self.f64(i)),
        }
    }

    /// Column `i` as text or NULL.
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.cell(i) {
            Cell::Text(s) => Some(s.clone()),
            Cell::I64(n) => Some(n.to_string()),
            Cell::F64(x) => Some(x.to_string()),
            Cell::Null => None,
        }
    }

    /// Column `i` as an integer (NULL and text read as 0).
    pub fn i64(&self, i: usize) -> i64 {
        match self.cell(i) {
            Cell::I64(n) => *n,
            Cell::F64(x) => *x as i64,
            Cell::Text(s) => s.parse().unwrap_or(0),
            Cell::Null => 0,
        }
    }

    /// Column `i` as a float (NULL reads as NaN).
    pub fn f64(&self, i: usize) -> f64 {
        match self.cell(i) {
            Cell::F64(x) => *x,
            Cell::I64(n) => *n as f64,
            Cell::Text(s) => s.parse().unwrap_or(f64::NAN),
            Cell::Null => f64::NAN,
        }
    }
}

/// An open connection to either engine.
pub(crate) enum Db {
    /// An embedded SQLite file.
    Sqlite(sqlite::Sqlite),
    /// A PostgreSQL server.
    Postgres(postgres::Pg),
}

impl Db {
    /// Connect to `location` (for SQLite: create the file and its directory).
    pub fn connect(location: &Location) -> Result<Db, HistoryError> {
        Ok(match location {
            Location::Sqlite(path) => Db::Sqlite(sqlite::Sqlite::open(path)?),
            Location::Postgres(url) => Db::Postgres(postgres::Pg::connect(url)?),
        })
    }

    /// Run a statement; the number of rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, HistoryError> {
        match self {
            Db::Sqlite(db) => db.execute(sql, params),
            Db::Postgres(db) => db.execute(sql, params),
        }
    }

    /// Run a query; its rows.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, HistoryError> {
        match self {
            Db::Sqlite(db) => db.query(sql, params),
            Db::Postgres(db) => db.query(sql, params),
        }
    }

    /// Start a transaction that will write (SQLite: `BEGIN IMMEDIATE`, so two writers
    /// wait for each other instead of failing on a lock upgrade).
    pub fn begin(&mut self) -> Result<(), HistoryError> {
        match self {
            Db::Sqlite(db) => db.batch("BEGIN IMMEDIATE"),
            Db::Postgres(db) => db.batch("BEGIN"),
        }
    }

    /// Inside a transaction: wait until no other process is migrating (SQLite's
    /// `BEGIN IMMEDIATE` already excludes them; PostgreSQL takes an advisory lock that
    /// ends with the transaction).
    pub fn lock_schema(&mut self) -> Result<(), HistoryError> {
        match self {
            Db::Sqlite(_) => Ok(()),
            // Any constant will do: it only has to be nestbench's.
            Db::Postgres(db) => db.batch("SELECT pg_advisory_xact_lock(7956000585893815144)"),
        }
    }

    /// End the transaction, keeping its changes.
    pub fn commit(&mut self) -> Result<(), HistoryError> {
        match self {
            Db::Sqlite(db) => db.batch("COMMIT"),
            Db::Postgres(db) => db.batch("COMMIT"),
        }
    }

    /// End the transaction, dropping its changes.
    pub fn rollback(&mut self) -> Result<(), HistoryError> {
        match self {
            Db::Sqlite(db) => db.batch("ROLLBACK"),
            Db::Postgres(db) => db.batch("ROLLBACK"),
        }
    }

    /// Run `f` in a write transaction: committed when it returns `Ok`, rolled back
    /// otherwise.
    pub fn transaction<T>(
        &mut self,
        f: impl FnOnce(&mut Db) -> Result<T, HistoryError>,
    ) -> Result<T, HistoryError> {
        self.begin()?;
        match f(self) {
            Ok(v) => {
                self.commit()?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.rollback();
                Err(e)
            }
        }
    }
}
