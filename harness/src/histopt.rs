//! The run history as the CLI sees it: `--history PATH|URL` (or `NESTBENCH_HISTORY`,
//! else `$XDG_DATA_HOME/nestbench/history.sqlite`) and `--no-history`, shared by every
//! command that reads or writes runs, and the glue from a history to the run selections
//! of [`crate::runsel`] and the noise profiles of `compare`.
//!
//! For `run` the history is a convenience: a history that cannot be opened or written is
//! a warning, the run directory (the source of truth) is complete, and the exit code is
//! the measurement's. For every other command it is input: the same failure is one line
//! and exit 1.

use crate::exit::Failure;
use clap::Args;
use history::{History, Location, ProfileRow, Selection};
use model::rundoc::RunDoc;
use model::{fingerprint, Level};
use reports::compare::{Profiles, RunSet};
use reports::stats::tails::Tail;
use reports::stats::welch::NoiseProfile;

/// `--history` and `--no-history`.
#[derive(Debug, Clone, Default, Args)]
pub struct HistoryArgs {
    /// The run history: a SQLite file or postgres://user@host/db (default
    /// $NESTBENCH_HISTORY, else ~/.local/share/nestbench/history.sqlite).
    #[arg(long = "history", value_name = "PATH|URL")]
    pub location: Option<String>,
    /// Neither read nor write the run history.
    #[arg(long, conflicts_with = "location")]
    pub no_history: bool,
}

impl HistoryArgs {
    /// Where the history is (None with `--no-history`).
    pub fn location(&self) -> Result<Option<Location>, history::HistoryError> {
        if self.no_history {
            return Ok(None);
        }
        match &self.location {
            Some(l) => Location::parse(l).map(Some),
            None => Location::from_env_or_default().map(Some),
        }
    }

    /// Open it for a command that needs it: failures are one line and exit 1.
    pub fn open(&self) -> Result<Option<History>, Failure> {
        let Some(loc) = self.location().map_err(|e| Failure::error(e.to_string()))? else {
            return Ok(None);
        };
        history::open(&loc)
            .map(Some)
            .map_err(|e| Failure::error(e.to_string()))
    }

    /// Record a finished run for `run`: any failure is a warning.
    pub fn record_run(&self, doc: &RunDoc, dir: &std::path::Path) -> Option<String> {
        let loc = match self.location() {
            Ok(Some(l)) => l,
            Ok(None) => return None,
            Err(e) => return Some(format!("run not recorded in the history: {e}")),
        };
        let recorded = history::open(&loc).and_then(|mut h| h.record(doc, Some(dir)));
        match recorded {
            Ok(_) => None,
            Err(e) => Some(format!(
                "run not recorded in the history ({e}); the run directory is complete: `nestbench history import {}` adds it later",
                dir.display()
            )),
        }
    }
}

/// The runs of a `history:` selection (the text after the prefix).
pub fn select(h: Option<&mut History>, selection: &str) -> Result<Vec<RunDoc>, Failure> {
    let sel: Selection = selection.parse().map_err(|e: history::SelectionError| {
        Failure::usage(format!("history:{selection}: {e}"))
    })?;
    let h = h.ok_or_else(|| {
        Failure::usage(format!(
            "history:{selection} needs the run history, but --no-history was given"
        ))
    })?;
    Ok(h.select(&sel)
        .map_err(|e| Failure::error(e.to_string()))?
        .into_iter()
        .map(|r| r.doc)
        .collect())
}

/// The noise profiles the history holds for the host and configuration of `set`'s
/// first run (what a single-run side borrows).
pub fn profiles(h: Option<&mut History>, set: &RunSet) -> Result<Profiles, Failure> {
    let mut out = Profiles::none();
    let (Some(h), Some(run)) = (h, set.runs.first()) else {
        return Ok(out);
    };
    let rows = h
        .profiles(&fingerprint::host(run), &fingerprint::config(run))
        .map_err(|e| Failure::error(e.to_string()))?;
    for r in rows {
        if let Ok(p) = NoiseProfile::new(r.log_sigma, r.runs) {
            let p = match (r.tail_nu, r.tail_scale) {
                (Some(nu), Some(scale)) => p.with_tail(Tail { nu, scale }),
                _ => p,
            };
            out.insert(r.level, &format!("{}/{}", r.workload, r.metric), p);
        }
    }
    Ok(out)
}

/// Store a calibration's profiles under the host and configuration of `set`.
pub fn store_profiles(
    h: &mut History,
    set: &RunSet,
    c: &reports::calibrate::Calibration,
) -> Result<usize, Failure> {
    let Some(run) = set.runs.first() else {
        return Ok(0);
    };
    let (host_fp, config_fp) = (fingerprint::host(run), fingerprint::config(run));
    let now = crate::rundir::now_rfc3339();
    for r in &c.rows {
        h.put_profile(&ProfileRow {
            host_fp: host_fp.clone(),
            config_fp: config_fp.clone(),
            level: Level(r.level.0),
            workload: r.id.workload.clone(),
            metric: r.id.metric.clone(),
            log_sigma: r.log_sigma,
            runs: r.runs,
            updated_at: now.clone(),
            tail_nu: r.tail_nu,
            tail_scale: r.tail_scale,
        })
        .map_err(|e| Failure::error(e.to_string()))?;
    }
    Ok(c.rows.len())
}
