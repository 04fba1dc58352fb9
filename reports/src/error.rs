//! Typed errors of the reports crate. Each carries the path it concerns and its message
//! says what to do next.

use model::rundoc::RunDocError;
use std::path::PathBuf;

/// Why a report or comparison could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The run directory or run.json could not be read.
    #[error(
        "cannot read {path}: {source}; check that it is a nestbench run directory or its run.json"
    )]
    Read {
        /// What was read.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// run.json is corrupt or from a newer nestbench.
    #[error(transparent)]
    RunDoc(#[from] RunDocError),
    /// An output file could not be written.
    #[error(
        "cannot write {path}: {source}; check free space and permissions of the run directory"
    )]
    Write {
        /// What was written.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// A chart could not be drawn.
    #[error(
        "cannot draw chart {path}: {message}; the other outputs were written, report this as a bug"
    )]
    Chart {
        /// The chart file.
        path: PathBuf,
        /// What plotters said.
        message: String,
    },
}

impl ReportError {
    /// Is this about unreadable input (exit code 1 in `nestbench compare`)?
    pub fn is_input_error(&self) -> bool {
        matches!(self, ReportError::Read { .. } | ReportError::RunDoc(_))
    }
}

/// Write `bytes` to `path`, mapping the error.
pub(crate) fn write_file(
    path: &std::path::Path,
    bytes: impl AsRef<[u8]>,
) -> Result<(), ReportError> {
    std::fs::write(path, bytes).map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    })
}
