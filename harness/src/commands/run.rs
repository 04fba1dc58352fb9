//! `nestbench run`: validate, pick the backend, hand over to the orchestrator.

use crate::backend::inventory::InventoryBackend;
use crate::backend::qemu::QemuBackend;
use crate::backend::Backend;
use crate::cli::RunArgs;
use crate::config::{BackendConfig, QemuOptions, RunConfig};
use crate::exit::{CmdResult, Failure};
use crate::progress::note;
use crate::{cleanup, orchestrate, rundir};

/// Entry point of `nestbench run`.
pub fn run(args: RunArgs) -> CmdResult {
    let cfg = RunConfig::from_args(args, rundir::new_run_id())?;
    cleanup::install_signal_handlers();
    let backend: Option<Box<dyn Backend>> = match &cfg.backend {
        BackendConfig::HostOnly => None,
        BackendConfig::Qemu(opts) => Some(qemu_backend(&cfg, opts)?),
        BackendConfig::Inventory(file) => Some(Box::new(
            InventoryBackend::load(file).map_err(|e| Failure::usage(e.to_string()))?,
        )),
    };
    orchestrate::execute(&cfg, backend)
}

/// Plan the QEMU stack (refused before anything starts when it doesn't fit), then make
/// sure the guest image exists.
fn qemu_backend(cfg: &RunConfig, opts: &QemuOptions) -> Result<Box<dyn Backend>, Failure> {
    // The doctor's host checks first: refuse early, in its words.
    let checks = crate::doctor::host::for_run(cfg.levels, Some(opts));
    if let Some(why) = crate::doctor::first_failure_line(&checks) {
        return Err(Failure::error(format!(
            "{why} (`nestbench doctor --levels {}` shows every check)",
            cfg.levels
        )));
    }
    let image = || crate::image::ensure(&mut |s| note(s));
    let backend = QemuBackend::new(cfg.levels, opts, &cfg.out, cfg.keep, image)
        .map_err(|e| Failure::error(e.to_string()))?;
    Ok(Box::new(backend))
}
