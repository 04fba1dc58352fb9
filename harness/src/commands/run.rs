//! `nestbench run`: validate, pick the backend, hand over to the orchestrator.

use crate::backend::inventory::InventoryBackend;
use crate::backend::Backend;
use crate::cli::RunArgs;
use crate::config::{BackendConfig, RunConfig};
use crate::exit::{CmdResult, Failure};
use crate::{cleanup, orchestrate, rundir};

/// Entry point of `nestbench run`.
pub fn run(args: RunArgs) -> CmdResult {
    let cfg = RunConfig::from_args(args, rundir::new_run_id())?;
    cleanup::install_signal_handlers();
    let backend: Option<Box<dyn Backend>> = match &cfg.backend {
        BackendConfig::HostOnly => None,
        BackendConfig::Qemu(_) => {
            return Err(Failure::error(
                "the qemu backend is not available in this build yet; use --levels 0 or --backend inventory",
            ))
        }
        BackendConfig::Inventory(file) => Some(Box::new(
            InventoryBackend::load(file).map_err(Failure::usage)?,
        )),
    };
    orchestrate::execute(&cfg, backend)
}
