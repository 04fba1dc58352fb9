//! `nestbench trend INPUT`: every level × metric's per-run median over the runs INPUT
//! names (oldest first), with change points, as a table on stdout and, with `--out`,
//! trend.md, trend.json and one chart per level. Exit 3 when a change for the worse
//! starts within the last `--recent` runs (for post-merge CI).

use crate::cli::TrendArgs;
use crate::exit::{CmdResult, Failure, Outcome};
use crate::{histopt, runsel};
use model::Level;
use reports::stats::changepoint::Options;
use reports::trend::{self, Filter};

/// Entry point of `nestbench trend`.
pub fn trend(args: TrendArgs) -> CmdResult {
    crate::progress::set_quiet(args.quiet);
    let mut h = if args.input.starts_with(runsel::HISTORY_PREFIX) {
        args.history.open()?
    } else {
        None
    };
    // One configuration: a trend across configurations would show their differences as
    // change points.
    let set = runsel::resolve(&args.input, &mut |sel| histopt::select(h.as_mut(), sel))?;
    let runs = set.runs;
    if let Some(m) = &args.metric {
        let known = m
            .split_once('/')
            .is_some_and(|(w, name)| model::catalog::metric(w, name).is_some());
        if !known {
            return Err(Failure::usage(format!(
                "--metric {m:?}: expected WORKLOAD/METRIC of the catalog, e.g. mem.stream/triad"
            )));
        }
    }
    let filter = Filter {
        level: args.level.map(Level),
        metric: args.metric.clone(),
    };
    let t = trend::trend(&runs, &filter, args.recent, &Options::default());
    let md = t.markdown();
    super::print_stdout(&md)?;
    if let Some(dir) = &args.out {
        let fail = |e: &dyn std::fmt::Display| {
            Failure::error(format!(
                "cannot write into {}: {e}; check the path",
                dir.display()
            ))
        };
        std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
        std::fs::write(dir.join("trend.md"), &md).map_err(|e| fail(&e))?;
        let json = serde_json::to_string_pretty(&t).map_err(|e| fail(&e))?;
        std::fs::write(dir.join("trend.json"), json).map_err(|e| fail(&e))?;
        for chart in reports::charts::trend::TrendChart::per_level(&t.series) {
            reports::charts::write(&chart, dir).map_err(|e| fail(&e))?;
        }
    }
    Ok(if t.recent_regressions().is_empty() {
        Outcome::Ok
    } else {
        Outcome::Regression
    })
}
