//! Statistics, exports, charts and regression comparison over run.json.
//!
//! Two entry points for the controller:
//! - [`render_run_dir`] turns a run directory's `run.json` into `results.csv`,
//!   `report.md`, `report.html` and `charts/*.{svg,png}` (`nestbench report`);
//! - [`compare`] turns two runs into a verdict for CI (`nestbench compare`), also as an
//!   HTML page;
//! - [`configs`] sets several configurations side by side, level by level
//!   (`nestbench report INPUT… --out DIR`).
//!
//! Data flow, one way: run.json → [`analysis::Analysis`] (statistics per level × metric,
//! fractions of L0, category means) → [`export`] and [`charts`]. Nothing derived is
//! written back into run.json.

#![warn(missing_docs)]

pub mod analysis;
pub mod calibrate;
pub mod charts;
pub mod compare;
pub mod configs;
mod error;
pub mod export;
#[cfg(feature = "fixtures")]
pub mod fixtures;
mod load;
mod render;
pub mod stats;
pub mod trend;

pub use error::ReportError;
pub use load::{load_run, run_json_path};
pub use render::{load_analysis, render_run_dir, RenderSummary};
