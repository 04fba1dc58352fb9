//! `nestbench calibrate`: this host's run-to-run noise for one configuration. With
//! `--runs N` it makes N back-to-back runs (each a full run, stack included, into
//! `--out`/runK, oldest first); with `--from INPUT` it uses runs already made. It prints
//! every level × metric's run-to-run CV next to its in-run CV and the change a compare
//! could detect with 1, 3, 5 and 10 runs per side (`reports::calibrate`). `--json`
//! prints the calibration as one document instead (`format` nestbench-calibrate,
//! `version` 1 — the fields it had before `format` was added are unchanged); progress
//! and notes stay on stderr, and `--quiet` silences them.

use crate::cli::CalibrateArgs;
use crate::config::RunConfig;
use crate::exit::{CmdResult, Failure, Outcome};
use crate::progress::note;
use crate::{cleanup, histopt, rundir, runsel};
use model::rundoc::RunStatus;
use reports::compare::RunSet;
use std::path::PathBuf;

/// Entry point of `nestbench calibrate`.
pub fn calibrate(args: CalibrateArgs) -> CmdResult {
    crate::progress::set_quiet(args.run.quiet);
    if !(args.significance > 0.0 && args.significance < 1.0) {
        return Err(Failure::usage(format!(
            "--significance {}: give a family-wise error rate in (0, 1)",
            args.significance
        )));
    }
    let hist = args.run.history.clone();
    let set =
        match (&args.from, args.runs) {
            (Some(input), None) => {
                let mut h = if input.starts_with(runsel::HISTORY_PREFIX) {
                    hist.open()?
                } else {
                    None
                };
                runsel::resolve(input, &mut |sel| histopt::select(h.as_mut(), sel))?
            }
            (None, Some(n)) if n >= 2 => make_runs(n, args.run)?,
            (None, Some(_)) => return Err(Failure::usage(
                "--runs must be at least 2: a spread needs two runs (5 or more give a usable one)",
            )),
            _ => return Err(Failure::usage(
                "give --runs N (make N runs now) or --from DIR|history:… (use runs already made)",
            )),
        };
    let c = reports::calibrate::calibrate(&set, args.significance);
    // The profiles are what single-run compares on this host borrow.
    if let Some(mut h) = hist.open()? {
        let n = histopt::store_profiles(&mut h, &set, &c)?;
        note(&format!(
            "calibrate: {n} noise profiles stored in {} for this host and configuration",
            h.location()
        ));
    }
    if args.json {
        super::print_stdout(&json_document(&c)?)?;
    } else {
        super::print_stdout(&reports::calibrate::text(&c))?;
    }
    Ok(Outcome::Ok)
}

/// `format` of the `--json` document.
pub const JSON_FORMAT: &str = "nestbench-calibrate";

/// The `--json` document: the calibration's own fields (its `version` among them) and
/// `format`, so every nestbench document names itself the same way.
fn json_document(c: &reports::calibrate::Calibration) -> Result<String, Failure> {
    let fail = |e: serde_json::Error| Failure::error(e.to_string());
    let mut doc = serde_json::to_value(c).map_err(fail)?;
    if let Some(o) = doc.as_object_mut() {
        o.insert("format".into(), JSON_FORMAT.into());
    }
    let mut text = serde_json::to_string_pretty(&doc).map_err(fail)?;
    text.push('\n');
    Ok(text)
}

/// `n` runs of the run options, into `--out`/run1 … runN.
fn make_runs(n: usize, args: crate::cli::RunArgs) -> Result<RunSet, Failure> {
    cleanup::install_signal_handlers();
    let base = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("nestbench-results").join(format!("calibrate-{}", rundir::new_run_id()))
    });
    let template = RunConfig::from_args(args, rundir::new_run_id())?;
    let mut runs = Vec::with_capacity(n);
    for k in 1..=n {
        note(&format!("calibrate: run {k} of {n}"));
        let cfg = RunConfig {
            run_id: rundir::new_run_id(),
            out: base.join(format!("run{k}")),
            ..template.clone()
        };
        let run = crate::commands::run::run_once(&cfg)?;
        if cleanup::interrupted() {
            return Err(Failure::error("calibration interrupted"));
        }
        if run.status == RunStatus::Failed {
            return Err(Failure::error(format!(
                "run {k}: L0 could not be measured: {}; the runs made so far are in {}",
                run.l0_failure.unwrap_or_default(),
                base.display()
            )));
        }
        runs.push(reports::load_run(&run.root).map_err(|e| Failure::error(e.to_string()))?);
    }
    RunSet::new(base.display().to_string(), runs).map_err(|e| Failure::error(e.to_string()))
}
