//! `nestbench compare BASELINE CURRENT`: the CI regression gate over run sets. Exit 0
//! when nothing regressed, 3 when something did (or, with `--strict`, when the runs are
//! not comparable), 5 with `--fail-on-inconclusive` when nothing regressed but some
//! metric could not have shown a change of the threshold, 1 for unreadable or mixed
//! input, 2 for bad option values — whatever `--format` prints.
//!
//! stdout is the product: the table, Markdown, JSON, JUnit or HTML document alone (so
//! `--format junit > report.xml` is a valid file); warnings and notes go to stderr,
//! and `--quiet` silences them, never the document.

use crate::cli::{CompareArgs, CompareFormat};
use crate::exit::{CmdResult, Failure, Outcome};
use crate::progress::{note, warn};
use crate::{histopt, runsel};
use reports::compare::{self, CompareOptions, GateFlags, GateResult, Profiles};

/// Entry point of `nestbench compare`.
pub fn compare(args: CompareArgs) -> CmdResult {
    crate::progress::set_quiet(args.quiet);
    let opts = CompareOptions::new(args.noise_threshold, args.significance)
        .map_err(|e| Failure::usage(e.to_string()))?;
    // The history is needed for history: inputs and for single-run sides' noise.
    let single = |s: &reports::compare::RunSet| s.runs.len() == 1;
    let wants = |i: &str| i.starts_with(runsel::HISTORY_PREFIX);
    let mut h = if wants(&args.baseline) || wants(&args.current) {
        args.history.open()?
    } else {
        None
    };
    let mut select = |sel: &str| histopt::select(h.as_mut(), sel);
    let baseline = runsel::resolve(&args.baseline, &mut select)?;
    let current = runsel::resolve(&args.current, &mut select)?;
    let profiles = if single(&baseline) || single(&current) {
        if h.is_none() {
            h = quiet_open(&args.history);
        }
        histopt::profiles(
            h.as_mut(),
            if single(&baseline) {
                &baseline
            } else {
                &current
            },
        )?
    } else {
        Profiles::none()
    };
    let cmp = compare::compare(&baseline, &current, &opts, &profiles);
    for w in &cmp.warnings {
        warn(&w.to_string());
    }
    let flags = GateFlags {
        allow_missing: args.allow_missing,
        strict: args.strict,
        fail_on_inconclusive: args.fail_on_inconclusive,
    };
    super::print_stdout(&match args.format {
        CompareFormat::Text => compare::text::render(&cmp),
        CompareFormat::Markdown => compare::markdown::render(&cmp, args.allow_missing),
        CompareFormat::Json => compare::json::render(&cmp, &flags),
        CompareFormat::Junit => compare::junit::render(&cmp, &flags),
        CompareFormat::Html => compare::document::html(&cmp, &flags)
            .map_err(|e| Failure::error(format!("cannot draw the compare chart: {e}")))?,
    })?;
    if let Some(path) = &args.summary {
        std::fs::write(path, compare::markdown::render(&cmp, args.allow_missing)).map_err(|e| {
            Failure::error(format!(
                "cannot write summary {}: {e}; check the path",
                path.display()
            ))
        })?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        if let Err(e) = reports::charts::compare::write(&cmp, dir) {
            warn(&format!("compare chart not written: {e}"));
        }
    }
    if args.strict && !cmp.warnings.is_empty() {
        note("nestbench: --strict: the runs are not comparable (see warnings above)");
    }
    match cmp.gate(&flags) {
        GateResult::Regression => Ok(Outcome::Regression),
        GateResult::Inconclusive => {
            note(&format!(
                "nestbench: {} of {} rows inconclusive: the runs could not have shown a change of {:.0} % there (see MDE); compare more runs per side",
                cmp.inconclusive(),
                cmp.changes.len(),
                opts.noise_threshold * 100.0
            ));
            Ok(if flags.fail_on_inconclusive {
                Outcome::Inconclusive
            } else {
                Outcome::Ok
            })
        }
        GateResult::Pass => Ok(Outcome::Ok),
    }
}

/// The history for noise profiles only: one that does not exist yet or cannot be opened
/// just means no profiles (said once), not an error.
fn quiet_open(args: &histopt::HistoryArgs) -> Option<history::History> {
    match args.open() {
        Ok(h) => h,
        Err(e) => {
            warn(&format!("no noise profiles: {}", e.message));
            None
        }
    }
}
