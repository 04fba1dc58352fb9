//! Reading a run: accepts a run directory or the path of its run.json.

use crate::ReportError;
use model::rundoc::RunDoc;
use std::path::{Path, PathBuf};

/// The run.json inside `path` if it is a directory, else `path` itself.
pub fn run_json_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("run.json")
    } else {
        path.to_path_buf()
    }
}

/// Read and parse a run from a run directory or a run.json path.
pub fn load_run(path: &Path) -> Result<RunDoc, ReportError> {
    let file = run_json_path(path);
    let text = std::fs::read_to_string(&file).map_err(|source| ReportError::Read {
        path: file.clone(),
        source,
    })?;
    Ok(RunDoc::from_json(&text, &file.display().to_string())?)
}
