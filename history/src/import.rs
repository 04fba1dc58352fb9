//! Backfilling the history from run directories on disk: a directory with a run.json,
//! a directory whose subdirectories have one (`./nestbench-results`), or a run.json
//! itself. A run.json that does not parse, or cannot be recorded, is skipped and
//! reported, never the end of the import; a database error is.

use crate::{History, HistoryError, Recorded};
use model::rundoc::RunDoc;
use std::path::{Path, PathBuf};

/// What an import did, run by run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Run ids newly recorded.
    pub inserted: Vec<String>,
    /// Run ids that were there already.
    pub already_there: Vec<String>,
    /// run.json files skipped, with why (one line each).
    pub skipped: Vec<(PathBuf, String)>,
}

impl History {
    /// Record every run under `path` (see the module header). Idempotent.
    pub fn import_dir(&mut self, path: &Path) -> Result<ImportReport, HistoryError> {
        let io = |source| HistoryError::Io {
            path: path.to_path_buf(),
            source,
        };
        let files = if path.is_file() {
            vec![path.to_path_buf()]
        } else if path.join("run.json").is_file() {
            vec![path.join("run.json")]
        } else {
            let mut subdirs: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(io)?
                .filter_map(|e| e.ok().map(|e| e.path().join("run.json")))
                .filter(|f| f.is_file())
                .collect();
            subdirs.sort();
            subdirs
        };
        if files.is_empty() {
            return Err(HistoryError::NoRuns {
                dir: path.to_path_buf(),
            });
        }
        let mut report = ImportReport::default();
        for file in files {
            let dir = file.parent().map(absolute);
            let doc = std::fs::read_to_string(&file)
                .map_err(|e| e.to_string())
                .and_then(|text| {
                    RunDoc::from_json(&text, &file.display().to_string()).map_err(|e| e.to_string())
                });
            let doc = match doc {
                Ok(doc) => doc,
                Err(why) => {
                    report.skipped.push((file, crate::error::one_line(&why)));
                    continue;
                }
            };
            match self.record(&doc, dir.as_deref()) {
                Ok(Recorded::Inserted) => report.inserted.push(doc.run_id),
                Ok(Recorded::AlreadyThere) => report.already_there.push(doc.run_id),
                Err(e @ HistoryError::BadRun { .. }) => report.skipped.push((file, e.to_string())),
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }
}

/// `p` made absolute against the working directory, so the recorded source is
/// meaningful from anywhere.
fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}
