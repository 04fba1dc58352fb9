//! nestbench's run history: every run recorded — configuration, fingerprints, status,
//! tags, every level's samples — so that a regression can be judged against many past
//! runs instead of one baseline, and run-to-run noise can be calibrated per host.
//!
//! It exists as a crate of its own so that the CLI (`run` records, `history` lists,
//! imports and prunes, `compare` selects) and the statistics share one store and one
//! selection syntax, and neither knows which database is behind it.
//!
//! - [`Location`]: where — an embedded SQLite file (the default,
//!   `$XDG_DATA_HOME/nestbench/history.sqlite`) or a PostgreSQL server shared by many
//!   hosts (`postgres://user@host/db`; the password never stored or shown).
//! - [`open`]: connect and migrate ([`schema`]); a corrupt database, a newer schema or
//!   a server that is down is one [`HistoryError`] line.
//! - [`History`]: [`record`](History::record) a run, [`select`](History::select) /
//!   [`list`](History::list) / [`medians`](History::medians) through a [`Selection`],
//!   [`prune`](History::prune), [`import_dir`](History::import_dir), noise
//!   [`profiles`](History::profiles).
//! - [`Selection`]: the one `history:KEY=VALUE,…` syntax ([`selection`]).
//!
//! Both engines run the same SQL (see `engine`); docs/ARCHITECTURE.md, "History",
//! has the schema and the PostgreSQL conventions.

#![warn(missing_docs)]

mod engine;
mod error;
mod import;
mod location;
mod profile;
mod query;
mod record;
pub mod schema;
pub mod selection;

pub use error::HistoryError;
pub use import::ImportReport;
pub use location::{Location, PgUrl, ENV_VAR};
pub use profile::ProfileRow;
pub use query::{MedianRow, RunSummary, StoredRun};
pub use record::Recorded;
pub use schema::SCHEMA_VERSION;
pub use selection::{Selection, SelectionError};
pub use time::OffsetDateTime;

use engine::Db;

/// An open history, migrated to [`SCHEMA_VERSION`].
pub struct History {
    db: Db,
    location: Location,
}

/// Open the history at `location`: SQLite creates the file and its directory;
/// both engines are migrated to [`SCHEMA_VERSION`], and one migrated by a newer
/// nestbench is refused unchanged.
pub fn open(location: &Location) -> Result<History, HistoryError> {
    let mut db = Db::connect(location)?;
    schema::migrate(&mut db, &location.to_string())?;
    Ok(History {
        db,
        location: location.clone(),
    })
}

impl History {
    /// Where this history is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The database's schema version (after `open`, [`SCHEMA_VERSION`]).
    pub fn schema_version(&mut self) -> Result<i64, HistoryError> {
        schema::version(&mut self.db)
    }
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// Now, RFC 3339, UTC.
pub(crate) fn now_rfc3339() -> String {
    use time::format_description::well_known::Rfc3339;
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}
