//! `nestbench report RUN_DIR`: regenerate every export and chart from run.json, and
//! list the files written on stdout. With `--quiet` nothing is listed: the files are
//! the product, the listing only tells where they went.
//!
//! `nestbench report INPUT… [--label NAME]… --out DIR`: two or more inputs, each a run
//! or a set of runs of one configuration given as `compare` takes them, side by side
//! level by level (`reports::configs`) in DIR. `--out` is required then (a comparison
//! belongs to no one run directory), and `--label` is given once per input or not at
//! all; anything else is a one-line usage error.

use crate::cli::ReportArgs;
use crate::exit::{CmdResult, Failure, Outcome};
use crate::{histopt, runsel};
use reports::configs::{Configs, Input};
use std::path::Path;

/// Entry point of `nestbench report`.
pub fn report(args: ReportArgs) -> CmdResult {
    crate::progress::set_quiet(args.quiet);
    check(&args)?;
    let files = if args.inputs.len() == 1 {
        reports::render_run_dir(Path::new(&args.inputs[0]))
            .map_err(|e| Failure::error(e.to_string()))?
            .files
    } else {
        compare_configs(&args)?
    };
    if !args.quiet {
        for f in &files {
            println!("{}", f.display());
        }
    }
    Ok(Outcome::Ok)
}

/// The usage rules of the arguments, before anything is read.
fn check(args: &ReportArgs) -> Result<(), Failure> {
    let n = args.inputs.len();
    if n == 1 {
        if args.out.is_some() || !args.labels.is_empty() {
            return Err(Failure::usage(
                "--out and --label are for two or more inputs: a single run's report is written into its run directory",
            ));
        }
        if args.inputs[0].starts_with(runsel::HISTORY_PREFIX) {
            return Err(Failure::usage(
                "report of one input takes a run directory; to compare history selections give two or more and --out DIR",
            ));
        }
        return Ok(());
    }
    if args.out.is_none() {
        return Err(Failure::usage(format!(
            "{n} inputs need --out DIR: the comparison is written there (report.md, report.html, charts/)"
        )));
    }
    if !args.labels.is_empty() && args.labels.len() != n {
        return Err(Failure::usage(format!(
            "--label given {} times for {n} inputs: give one per input, in order, or none",
            args.labels.len()
        )));
    }
    Ok(())
}

fn compare_configs(args: &ReportArgs) -> Result<Vec<std::path::PathBuf>, Failure> {
    let wants = args
        .inputs
        .iter()
        .any(|i| i.starts_with(runsel::HISTORY_PREFIX));
    let mut h = if wants { args.history.open()? } else { None };
    let mut inputs = Vec::new();
    for (i, input) in args.inputs.iter().enumerate() {
        let set = runsel::resolve(input, &mut |sel| histopt::select(h.as_mut(), sel))?;
        inputs.push(Input {
            set,
            label: args.labels.get(i).cloned(),
        });
    }
    let configs = Configs::new(inputs);
    let out = args.out.as_deref().unwrap_or(Path::new("."));
    reports::configs::render(&configs, out).map_err(|e| Failure::error(e.to_string()))
}

/// Write results.csv, report.md, report.html and charts/ into `run_dir`.
pub fn render(run_dir: &Path) -> anyhow::Result<()> {
    reports::render_run_dir(run_dir)?;
    Ok(())
}
