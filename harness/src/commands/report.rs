//! `nestbench report RUN_DIR`: regenerate every export and chart from run.json, and
//! list the files written on stdout. With `--quiet` nothing is listed: the files are
//! the product, the listing only tells where they went.

use crate::cli::ReportArgs;
use crate::exit::{CmdResult, Failure, Outcome};
use std::path::Path;

/// Entry point of `nestbench report`.
pub fn report(args: ReportArgs) -> CmdResult {
    crate::progress::set_quiet(args.quiet);
    let summary =
        reports::render_run_dir(&args.run_dir).map_err(|e| Failure::error(e.to_string()))?;
    if !args.quiet {
        for f in &summary.files {
            println!("{}", f.display());
        }
    }
    Ok(Outcome::Ok)
}

/// Write results.csv, report.md, report.html and charts/ into `run_dir`.
pub fn render(run_dir: &Path) -> anyhow::Result<()> {
    reports::render_run_dir(run_dir)?;
    Ok(())
}
