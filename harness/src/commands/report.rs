//! `nestbench report RUN_DIR`: regenerate every export and chart from run.json.

use crate::exit::{CmdResult, Failure, Outcome};
use std::path::Path;

/// Entry point of `nestbench report`.
pub fn report(run_dir: &Path) -> CmdResult {
    let summary = reports::render_run_dir(run_dir).map_err(|e| Failure::error(e.to_string()))?;
    for f in &summary.files {
        println!("{}", f.display());
    }
    Ok(Outcome::Ok)
}

/// Write results.csv, report.md, report.html and charts/ into `run_dir`.
pub fn render(run_dir: &Path) -> anyhow::Result<()> {
    reports::render_run_dir(run_dir)?;
    Ok(())
}
