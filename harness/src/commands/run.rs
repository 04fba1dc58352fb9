//! `nestbench run`: validate, pick the backend, run, then render the report and choose
//! the exit code from the run's status. `--dry-run` validates the same way and hands
//! the configuration to [`super::dryrun`], which prints the plan and commands and can
//! start nothing. `--quiet` silences progress, notes and warnings; the run directory
//! and exit code do not change.

use crate::backend::host::HostBackend;
use crate::backend::inventory::InventoryBackend;
use crate::backend::qemu::QemuBackend;
use crate::backend::Backend;
use crate::cli::RunCmd;
use crate::config::{BackendConfig, QemuOptions, RunConfig};
use crate::exit::{CmdResult, Failure, Outcome};
use crate::progress::note;
use crate::{cleanup, orchestrate, rundir};
use model::rundoc::RunStatus;

/// Entry point of `nestbench run`.
pub fn run(cmd: RunCmd) -> CmdResult {
    crate::progress::set_quiet(cmd.run.quiet);
    let cfg = RunConfig::from_args(cmd.run, rundir::new_run_id())?;
    if cmd.dry_run {
        super::print_stdout(&super::dryrun::render(&cfg)?)?;
        return Ok(Outcome::Ok);
    }
    cleanup::install_signal_handlers();
    let run = run_once(&cfg)?;
    match run.status {
        RunStatus::Complete => Ok(Outcome::Ok),
        RunStatus::Failed => Err(Failure::error(format!(
            "L0 could not be measured: {}",
            run.l0_failure.as_deref().unwrap_or("no reason recorded")
        ))),
        RunStatus::Partial | RunStatus::Running => Ok(Outcome::Partial),
    }
}

/// One whole run of `cfg` (backend, measurement, report), for `run` and `calibrate`.
pub fn run_once(cfg: &RunConfig) -> Result<orchestrate::RunSummary, Failure> {
    let backend: Box<dyn Backend> = match &cfg.backend {
        BackendConfig::HostOnly => Box::new(HostBackend),
        BackendConfig::Qemu(opts) => qemu_backend(cfg, opts)?,
        BackendConfig::Hyperv(opts) => Box::new(
            crate::backend::hyperv::HypervBackend::connect(cfg.levels, opts)
                .map_err(Failure::error)?,
        ),
        BackendConfig::Inventory(file) => {
            Box::new(InventoryBackend::load(file).map_err(|e| Failure::usage(e.to_string()))?)
        }
    };
    let run = orchestrate::execute(cfg, backend)?;
    if let Err(e) = crate::commands::report::render(&run.root) {
        crate::progress::warn(&format!(
            "report not generated: {e:#}; run `nestbench report {}`",
            run.root.display()
        ));
    }
    for line in &run.kept {
        note(line);
    }
    if let Ok(doc) = reports::load_run(&run.root) {
        if let Some(w) = cfg.history.record_run(&doc, &run.root) {
            crate::progress::warn(&w);
        }
    }
    note(&format!("results: {}", run.root.display()));
    Ok(run)
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
