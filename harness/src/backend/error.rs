//! Why a level could not be brought up, as data: the level it is about, what went
//! wrong, and — where the backend read one — the last lines of the level's console,
//! kept apart from the one-line message so that the run loop can print the line and
//! record the whole story in run.json.

use super::qemu::error::QemuError;
use crate::remote::RemoteError;
use model::Level;
use std::fmt;

/// Why level [`BackendError::level`] could not be brought up.
#[derive(Debug)]
pub struct BackendError {
    /// The level.
    pub level: Level,
    /// What went wrong (boxed: some kinds carry several strings, and the error
    /// travels on every level's `Result`).
    pub kind: Box<BackendErrorKind>,
    /// The end of the level's console, when the backend read it.
    pub console: Option<ConsoleTail>,
}

/// What went wrong while bringing a level up.
#[derive(Debug, thiserror::Error)]
pub enum BackendErrorKind {
    /// The QEMU backend could not start the level or it did not come up.
    #[error(transparent)]
    Qemu(#[from] QemuError),
    /// The backend's plan has no such level.
    #[error("the plan has {depth} levels below L0, not this one")]
    NotPlanned {
        /// Levels below L0 in the plan.
        depth: u32,
    },
    /// The inventory has no entry for the level.
    #[error("the inventory lists only {listed} levels")]
    NotListed {
        /// How many levels it lists.
        listed: usize,
    },
    /// The level's SSH server could not be reached, or refused the controller.
    #[error(transparent)]
    Connect(#[from] RemoteError),
    /// The run was interrupted while the level came up.
    #[error("interrupted")]
    Interrupted,
    /// The backend cannot do what was asked of it (e.g. relaunch a lost level).
    #[error("{0}")]
    NotSupported(String),
    /// The Hyper-V backend: a host or parent refused an operation, or the level never
    /// reported an address (in the words of the operation that failed).
    #[error("{0}")]
    Hyperv(String),
}

/// The last lines of a level's console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleTail {
    /// Where the whole console is, relative to the run directory
    /// (`logs/L2.console.log`).
    pub log: String,
    /// Its last non-empty lines; empty when the console was.
    pub lines: String,
}

impl BackendError {
    /// Level `level` failed for `kind`; no console read.
    pub fn new(level: impl Into<Level>, kind: impl Into<BackendErrorKind>) -> Self {
        BackendError {
            level: level.into(),
            kind: Box::new(kind.into()),
            console: None,
        }
    }

    /// The same error with the console's last lines.
    pub fn with_console(mut self, console: ConsoleTail) -> Self {
        self.console = Some(console);
        self
    }

    /// The whole story without the level's name, as run.json records it: what went
    /// wrong, then the console's last lines (on lines of their own) or that it was
    /// empty.
    pub fn message(&self) -> String {
        match &self.console {
            None => self.kind.to_string(),
            Some(c) if c.lines.is_empty() => {
                format!("{}; nothing on its console ({})", self.kind, c.log)
            }
            Some(c) => format!(
                "{}; last console lines ({}):\n{}",
                self.kind, c.log, c.lines
            ),
        }
    }
}

/// `L2: what went wrong`, and where the console is; its lines are in
/// [`BackendError::message`].
impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.level, self.kind)?;
        match &self.console {
            None => Ok(()),
            Some(c) if c.lines.is_empty() => write!(f, "; nothing on its console ({})", c.log),
            Some(c) => write!(f, "; its last console lines are in {}", c.log),
        }
    }
}

impl std::error::Error for BackendError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_follows_the_message_and_stays_out_of_the_line() {
        let tail = ConsoleTail {
            log: "logs/L2.console.log".into(),
            lines: "a\nKernel panic".into(),
        };
        let e = BackendError::new(2, BackendErrorKind::Interrupted).with_console(tail);
        assert_eq!(
            e.message(),
            "interrupted; last console lines (logs/L2.console.log):\na\nKernel panic"
        );
        assert_eq!(
            e.to_string(),
            "L2: interrupted; its last console lines are in logs/L2.console.log"
        );
        let empty = ConsoleTail {
            log: "logs/L3.console.log".into(),
            lines: String::new(),
        };
        let e = BackendError::new(3, BackendErrorKind::NotListed { listed: 2 }).with_console(empty);
        assert_eq!(
            e.message(),
            "the inventory lists only 2 levels; nothing on its console (logs/L3.console.log)"
        );
        assert!(!e.to_string().contains('\n'));
        assert_eq!(
            BackendError::new(1, BackendErrorKind::Interrupted).message(),
            "interrupted"
        );
    }
}
