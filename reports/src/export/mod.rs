//! Exports into the run directory, one file per format. Each exporter is a pure function
//! from an [`crate::analysis::Analysis`] (or the [`document::Document`] built from it)
//! to bytes, so they are snapshot-tested without touching the disk.

mod caveats;
pub mod csv;
pub mod document;
pub mod format;
pub mod html;
pub mod markdown;
mod summary;
