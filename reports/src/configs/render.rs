//! The files of a configuration comparison, in order of cost like a run's report:
//! `report.md`, then `charts/configs-<category>.{svg,png}`, then `report.html` with the
//! charts inline. `DIR` is created; files already there are replaced, nothing else in
//! it is touched.

use super::{document, Configs};
use crate::charts::{self, configs::ConfigsChart};
use crate::error::write_file;
use crate::export;
use crate::ReportError;
use std::path::{Path, PathBuf};

/// Write the report of `c` into `dir`; every file written, in order.
pub fn render(c: &Configs, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let chart_dir = dir.join("charts");
    std::fs::create_dir_all(&chart_dir).map_err(|source| ReportError::Write {
        path: chart_dir.clone(),
        source,
    })?;
    let mut files = Vec::new();
    let doc = document::build(c);
    let md = dir.join("report.md");
    write_file(&md, export::markdown::render(&doc).as_bytes())?;
    files.push(md);
    let mut svgs = Vec::new();
    for cat in c.categories() {
        let chart = ConfigsChart::new(c, &cat);
        let written = charts::write(&chart, &chart_dir)?;
        files.extend([written.svg_path.clone(), written.png_path.clone()]);
        svgs.push((charts::Chart::name(&chart), written.svg));
    }
    let html = dir.join("report.html");
    write_file(&html, export::html::render(&doc, &svgs).as_bytes())?;
    files.push(html);
    Ok(files)
}
