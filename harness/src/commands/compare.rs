//! `nestbench compare BASELINE CURRENT`: the CI regression gate. Exit 0 when nothing
//! regressed, 3 when something did (or, with `--strict`, when the runs are not
//! comparable), 1 for unreadable input, 2 for bad option values.

use crate::cli::CompareArgs;
use crate::exit::{CmdResult, Failure, Outcome};
use reports::compare::{self, CompareOptions};

/// Entry point of `nestbench compare`.
pub fn compare(args: CompareArgs) -> CmdResult {
    let opts = CompareOptions::new(args.noise_threshold, args.significance)
        .map_err(|e| Failure::usage(e.to_string()))?;
    let load =
        |p: &std::path::Path| compare::load_run(p).map_err(|e| Failure::error(e.to_string()));
    let baseline = load(&args.baseline)?;
    let current = load(&args.current)?;
    let cmp = compare::compare(&baseline, &current, &opts);
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
    Ok(if cmp.fails(args.allow_missing, args.strict) {
        Outcome::Regression
    } else {
        Outcome::Ok
    })
}
