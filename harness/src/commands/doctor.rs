//! `nestbench doctor`: what nesting needs, checked, with the fix for each failure.

use crate::cli::DoctorArgs;
use crate::exit::{CmdResult, Failure};

/// Entry point of `nestbench doctor`.
pub fn doctor(args: DoctorArgs) -> CmdResult {
    let _ = args;
    Err(Failure::error("doctor is not available in this build yet"))
}
