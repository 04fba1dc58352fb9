//! Where the history lives: a SQLite file (the default, embedded) or a PostgreSQL
//! server shared by many hosts. One text form is read from `--history`, from
//! `NESTBENCH_HISTORY` and from messages' users alike: a `postgres://` or
//! `postgresql://` URL is a server, anything else a path.
//!
//! A server URL may carry a password (`postgres://user:pw@host/db`); it is used but
//! never shown: `Display` and `Debug` print the URL without it, and that is the only
//! form that reaches messages and logs. Put the password in a password file instead
//! (docs/ARCHITECTURE.md, "History").

use crate::engine::pgurl;
use crate::HistoryError;
use std::fmt;
use std::path::PathBuf;

/// The environment variable with the same meaning as `--history`.
pub const ENV_VAR: &str = "NESTBENCH_HISTORY";

/// A history database.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// An embedded SQLite file, created (with its directory) on first use.
    Sqlite(PathBuf),
    /// A PostgreSQL server.
    Postgres(PgUrl),
}

/// A PostgreSQL URL, checked; its `Display` and `Debug` omit the password.
#[derive(Clone, PartialEq, Eq)]
pub struct PgUrl {
    url: String,
    shown: String,
}

impl PgUrl {
    /// The URL as given, password included: for connecting only, never for messages.
    pub(crate) fn secret_url(&self) -> &str {
        &self.url
    }
}

impl fmt::Display for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgUrl({:?})", self.shown)
    }
}

impl Location {
    /// Read a location: a `postgres://` or `postgresql://` URL (checked now, so a typo
    /// fails before anything runs), else a path to a SQLite file.
    pub fn parse(text: &str) -> Result<Location, HistoryError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(HistoryError::BadLocation {
                text: String::new(),
                why: "empty; give a path to a SQLite file or a postgres:// URL".into(),
            });
        }
        if !pgurl::is_postgres_url(trimmed) {
            return Ok(Location::Sqlite(PathBuf::from(trimmed)));
        }
        let shown = pgurl::redact(trimmed);
        pgurl::parse(trimmed).map_err(|why| HistoryError::BadLocation {
            text: shown.clone(),
            why,
        })?;
        Ok(Location::Postgres(PgUrl {
            url: trimmed.to_string(),
            shown,
        }))
    }

    /// `NESTBENCH_HISTORY` when set and not empty, else
    /// `$XDG_DATA_HOME/nestbench/history.sqlite`, else
    /// `~/.local/share/nestbench/history.sqlite`.
    pub fn from_env_or_default() -> Result<Location, HistoryError> {
        Location::from_vars(|k| std::env::var(k).ok())
    }

    /// As [`Location::from_env_or_default`], reading variables through `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Location, HistoryError> {
        let set = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        if let Some(v) = set(ENV_VAR) {
            return Location::parse(&v);
        }
        // The XDG spec: a relative XDG_DATA_HOME is invalid and ignored.
        let data = set("XDG_DATA_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| set("HOME").map(|h| PathBuf::from(h).join(".local/share")))
            .ok_or_else(|| HistoryError::BadLocation {
                text: "(default)".into(),
                why: "neither XDG_DATA_HOME nor HOME is set; set NESTBENCH_HISTORY or pass --history PATH".into(),
            })?;
        Ok(Location::Sqlite(
            data.join("nestbench").join("history.sqlite"),
        ))
    }

    /// Whether this is a server.
    pub fn is_server(&self) -> bool {
        matches!(self, Location::Postgres(_))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{}", p.display()),
            Location::Postgres(u) => u.fmt(f),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(p) => f.debug_tuple("Sqlite").field(p).finish(),
            Location::Postgres(u) => f.debug_tuple("Postgres").field(u).finish(),
        }
    }
}

impl std::str::FromStr for Location {
    type Err = HistoryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Location::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn urls_are_servers_and_everything_else_a_path() {
        let l = Location::parse("postgres://ci@db.example/nb").unwrap();
        assert!(l.is_server());
        assert!(Location::parse("postgresql://ci@db.example/nb")
            .unwrap()
            .is_server());
        assert_eq!(
            Location::parse("./h.sqlite").unwrap(),
            Location::Sqlite("./h.sqlite".into())
        );
        assert!(Location::parse("  ").is_err());
        let bad = Location::parse("postgres://u:pw@h/db?sslmode=sometimes").unwrap_err();
        let text = bad.to_string();
        assert!(text.contains("sslmode"), "{text}");
        assert!(!text.contains("pw@"), "{text}");
    }

    #[test]
    fn the_password_is_never_shown() {
        let l =
            Location::parse("postgres://ci:hunter2@db:5433/nb?password=hunter2&sslmode=require")
                .unwrap();
        for shown in [l.to_string(), format!("{l:?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("ci@db:5433/nb"), "{shown}");
            assert!(shown.contains("sslmode=require"), "{shown}");
        }
    }

    #[test]
    fn env_then_xdg_then_home() {
        let from = |p: &[(&str, &str)]| Location::from_vars(vars(p)).unwrap();
        assert_eq!(
            from(&[(ENV_VAR, "/x/h.sqlite"), ("HOME", "/root")]),
            Location::Sqlite("/x/h.sqlite".into())
        );
        assert_eq!(
            from(&[(ENV_VAR, ""), ("XDG_DATA_HOME", "/d"), ("HOME", "/root")]),
            Location::Sqlite("/d/nestbench/history.sqlite".into())
        );
        assert_eq!(
            from(&[("XDG_DATA_HOME", "relative"), ("HOME", "/root")]),
            Location::Sqlite("/root/.local/share/nestbench/history.sqlite".into())
        );
        assert!(Location::from_vars(vars(&[])).is_err());
    }
}
