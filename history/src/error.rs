//! Everything that can go wrong with the history, each as one line that says what to do.
//!
//! `history` and `compare` print one of these and exit non-zero; `run` prints it as a
//! warning and keeps its results. A location in a message is always
//! [`crate::Location`]'s `Display`, which never shows a password, and server messages
//! are folded onto one line.

use std::path::PathBuf;

/// Why the history could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// `--history`, `NESTBENCH_HISTORY` or the default location is unusable.
    #[error("history location {text}: {why}")]
    BadLocation {
        /// The location as given (password removed).
        text: String,
        /// What is wrong and what to write instead.
        why: String,
    },
    /// The file is not a SQLite database, or a damaged one.
    #[error("{location} is not a usable nestbench history database ({detail}); move it aside (a new one is created) or point --history / NESTBENCH_HISTORY elsewhere")]
    Corrupt {
        /// Where.
        location: String,
        /// What the engine said.
        detail: String,
    },
    /// The database was migrated by a newer nestbench; it was not changed.
    #[error("{location} has history schema version {found}, newer than this nestbench understands ({known}); upgrade nestbench (the database was left as it is)")]
    TooNew {
        /// Where.
        location: String,
        /// Version found in the database.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// No connection to the server: down, wrong host or port, a firewall, TLS failed.
    #[error("cannot reach the history server {location}: {detail}; check that it is up and the URL is right, or pass --no-history")]
    Unreachable {
        /// Where (password removed).
        location: String,
        /// What failed.
        detail: String,
    },
    /// The server answered but refused the login or the database.
    #[error("the history server {location} refused the connection: {detail}; {hint}")]
    Refused {
        /// Where (password removed).
        location: String,
        /// The server's words (never the password).
        detail: String,
        /// What to do (where the password is looked up, a password file that was ignored).
        hint: String,
    },
    /// A statement failed for another reason.
    #[error("history database {location}: {detail}")]
    Database {
        /// Where.
        location: String,
        /// What the engine said.
        detail: String,
    },
    /// A file or directory could not be read or created.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A run that cannot be recorded or read back (e.g. its start time is not RFC 3339).
    #[error("run {run_id}: {why}")]
    BadRun {
        /// The run.
        run_id: String,
        /// What is wrong.
        why: String,
    },
    /// `import` found no run.json.
    #[error("{} has no run.json, nor do its subdirectories; point at a run directory or the directory that holds run directories", dir.display())]
    NoRuns {
        /// The directory given.
        dir: PathBuf,
    },
}

/// `text` on one line: runs of whitespace (a server's DETAIL/HINT lines) become one space.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `e` and its causes, `: `-separated, on one line (tokio-postgres's `Display` alone
/// says only "error connecting to server", its cause says why).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let t = c.to_string();
        if !text.contains(&t) {
            text = format!("{text}: {t}");
        }
        cause = c.source();
    }
    one_line(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line() {
        assert_eq!(one_line("FATAL:  x\nDETAIL: y\n"), "FATAL: x DETAIL: y");
        let e = HistoryError::TooNew {
            location: "/tmp/h.sqlite".into(),
            found: 9,
            known: 1,
        };
        assert!(!e.to_string().contains('\n'));
        assert!(e.to_string().contains("upgrade nestbench"));
    }
}
