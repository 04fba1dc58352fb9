//! `nestbench image build`: the default guest image, built from Debian packages.

use crate::cli::ImageAction;
use crate::exit::{CmdResult, Failure};

/// Entry point of `nestbench image`.
pub fn image(action: ImageAction) -> CmdResult {
    let _ = action;
    Err(Failure::error(
        "image build is not available in this build yet",
    ))
}
