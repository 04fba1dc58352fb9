//! `nestbench image build`: the default guest image, built from Debian packages (or
//! found in the cache when its inputs are unchanged).

use crate::cli::ImageAction;
use crate::exit::{CmdResult, Failure, Outcome};
use crate::image;
use crate::progress::note;

/// Entry point of `nestbench image`.
pub fn image(action: ImageAction) -> CmdResult {
    match action {
        ImageAction::Build => {
            let img = image::ensure(&mut |s| note(s))
                .map_err(|e| Failure::error(format!("image build failed: {e:#}")))?;
            let mib = image::size_bytes(&img) as f64 / (1024.0 * 1024.0);
            let how = if img.build_s > 0.0 {
                format!("built in {:.1} s", img.build_s)
            } else {
                "cached".to_string()
            };
            note(&format!(
                "image {} ({}, kernel {}): {} ({mib:.1} MiB)",
                img.digest,
                how,
                img.kernel_package,
                img.dir.display()
            ));
            Ok(Outcome::Ok)
        }
    }
}
