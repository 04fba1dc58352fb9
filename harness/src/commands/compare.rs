//! `nestbench compare BASELINE CURRENT`: the CI regression gate over run sets. Exit 0
//! when nothing regressed, 3 when something did (or, with `--strict`, when the runs are
//! not comparable), 5 with `--fail-on-inconclusive` when nothing regressed but some
//! metric could not have shown a change of the threshold, 1 for unreadable or mixed
//! input, 2 for bad option values.

use crate::cli::CompareArgs;
use crate::exit::{CmdResult, Failure, Outcome};
use crate::runsel;
use model::rundoc::RunDoc;
use reports::compare::{self, CompareOptions, Profiles};

/// Entry point of `nestbench compare`.
pub fn compare(args: CompareArgs) -> CmdResult {
    let opts = CompareOptions::new(args.noise_threshold, args.significance)
        .map_err(|e| Failure::usage(e.to_string()))?;
    let mut history = |_: &str| -> Result<Vec<RunDoc>, Failure> {
        Err(Failure::error(
            "history selections need the run history, which this build does not have yet",
        ))
    };
    let baseline = runsel::resolve(&args.baseline, &mut history)?;
    let current = runsel::resolve(&args.current, &mut history)?;
    let cmp = compare::compare(&baseline, &current, &opts, &Profiles::none());
    for w in &cmp.warnings {
        eprintln!("nestbench: warning: {w}");
    }
    print!("{}", compare::text::render(&cmp));
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
            eprintln!("nestbench: warning: compare chart not written: {e}");
        }
    }
    if args.strict && !cmp.warnings.is_empty() {
        eprintln!("nestbench: --strict: the runs are not comparable (see warnings above)");
    }
    if cmp.fails(args.allow_missing, args.strict) {
        return Ok(Outcome::Regression);
    }
    if cmp.inconclusive() > 0 {
        eprintln!(
            "nestbench: {} of {} rows inconclusive: the runs could not have shown a change of {:.0} % there (see MDE); compare more runs per side",
            cmp.inconclusive(),
            cmp.changes.len(),
            opts.noise_threshold * 100.0
        );
        if args.fail_on_inconclusive {
            return Ok(Outcome::Inconclusive);
        }
    }
    Ok(Outcome::Ok)
}
