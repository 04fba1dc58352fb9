//! `nestbench down RUN_DIR`: remove a stack that `run --keep` left up.

use crate::exit::{CmdResult, Failure};
use std::path::Path;

/// Entry point of `nestbench down`.
pub fn down(run_dir: &Path) -> CmdResult {
    let _ = run_dir;
    Err(Failure::error("down is not available in this build yet"))
}
