//! `nestbench report RUN_DIR`: every derived file of a run directory, written in order
//! of cost (CSV, Markdown, charts, HTML) so that a failure late loses nothing earlier.

use crate::analysis::Analysis;
use crate::error::write_file;
use crate::load::load_run;
use crate::{charts, export, ReportError};
use model::rundoc::LevelStatus;
use model::Level;
use std::path::{Path, PathBuf};

/// What [`render_run_dir`] produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderSummary {
    /// Every file written, in order.
    pub files: Vec<PathBuf>,
    /// Deepest level whose status is ok.
    pub deepest_ok: Option<Level>,
    /// Levels that failed or were skipped.
    pub not_ok_levels: Vec<Level>,
    /// Results flagged noisy.
    pub noisy: usize,
}

/// Read `path` (a run directory or run.json) and derive all figures.
pub fn load_analysis(path: &Path) -> Result<Analysis, ReportError> {
    Ok(Analysis::new(load_run(path)?))
}

/// Read `run_dir/run.json` and write `results.csv`, `report.md`, `report.html` and
/// `charts/*.svg`/`*.png` next to it. run.json itself is never modified.
pub fn render_run_dir(run_dir: &Path) -> Result<RenderSummary, ReportError> {
    let analysis = load_analysis(run_dir)?;
    let mut files = Vec::new();
    let put = |files: &mut Vec<PathBuf>, name: &str, bytes: &[u8]| -> Result<(), ReportError> {
        let path = run_dir.join(name);
        write_file(&path, bytes)?;
        files.push(path);
        Ok(())
    };
    put(&mut files, "results.csv", &export::csv::to_bytes(&analysis))?;
    let doc = export::document::build(&analysis);
    put(
        &mut files,
        "report.md",
        export::markdown::render(&doc).as_bytes(),
    )?;

    let chart_dir = run_dir.join("charts");
    std::fs::create_dir_all(&chart_dir).map_err(|source| ReportError::Write {
        path: chart_dir.clone(),
        source,
    })?;
    let mut svgs = Vec::new();
    for chart in charts::run_charts(&analysis) {
        let written = charts::write(chart.as_ref(), &chart_dir)?;
        files.extend([written.svg_path.clone(), written.png_path.clone()]);
        svgs.push((chart.name(), written.svg));
    }
    put(
        &mut files,
        "report.html",
        export::html::render(&doc, &svgs).as_bytes(),
    )?;

    Ok(RenderSummary {
        files,
        deepest_ok: analysis.deepest_ok().map(|l| l.level),
        not_ok_levels: analysis
            .doc
            .levels
            .iter()
            .filter(|l| matches!(l.status, LevelStatus::Failed | LevelStatus::Skipped))
            .map(|l| l.level)
            .collect(),
        noisy: analysis
            .rows
            .iter()
            .filter(|r| r.summary.as_ref().is_some_and(|s| s.noisy))
            .count(),
    })
}
