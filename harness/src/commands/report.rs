//! `nestbench report RUN_DIR`: regenerate every export and chart from run.json.

use crate::exit::{CmdResult, Failure, Outcome};
use std::path::Path;

/// Entry point of `nestbench report`.
pub fn report(run_dir: &Path) -> CmdResult {
    render(run_dir).map_err(Failure::from)?;
    Ok(Outcome::Ok)
}

/// Write results.csv, report.md, report.html and charts/ into `run_dir`.
pub fn render(run_dir: &Path) -> anyhow::Result<()> {
    let _ = run_dir;
    anyhow::bail!("reports are not available in this build yet")
}
