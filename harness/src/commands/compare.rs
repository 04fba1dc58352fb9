//! `nestbench compare BASELINE CURRENT`: the CI regression gate.

use crate::cli::CompareArgs;
use crate::exit::{CmdResult, Failure};

/// Entry point of `nestbench compare`.
pub fn compare(args: CompareArgs) -> CmdResult {
    let _ = args;
    Err(Failure::error("compare is not available in this build yet"))
}
