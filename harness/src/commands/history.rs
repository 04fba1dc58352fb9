//! `nestbench history import|list|prune`: backfill the run history from run
//! directories, list what a selection holds, drop old runs. A history that cannot be
//! opened (corrupt, newer schema, server down) is one line and exit 1. `list --json`
//! prints one document (`format` nestbench-history, `version` 1) on stdout and nothing
//! else; the count line of the table goes to stderr.

use crate::cli::{HistoryAction, HistoryCmd};
use crate::exit::{CmdResult, Failure, Outcome};
use history::{OffsetDateTime, Selection};

/// Entry point of `nestbench history`.
pub fn history(cmd: HistoryCmd) -> CmdResult {
    let mut h = cmd
        .history
        .open()?
        .ok_or_else(|| Failure::usage("`nestbench history` needs a history: drop --no-history"))?;
    let err = |e: history::HistoryError| Failure::error(e.to_string());
    match cmd.action {
        HistoryAction::Import { dirs } => {
            let mut skipped = 0;
            for d in &dirs {
                let r = h.import_dir(d).map_err(err)?;
                println!(
                    "{}: {} recorded, {} already there, {} skipped",
                    d.display(),
                    r.inserted.len(),
                    r.already_there.len(),
                    r.skipped.len()
                );
                for (path, why) in &r.skipped {
                    eprintln!("nestbench: warning: skipped {}: {why}", path.display());
                }
                skipped += r.skipped.len();
            }
            if skipped > 0 {
                eprintln!("nestbench: {skipped} run.json files could not be imported (see above)");
            }
            Ok(Outcome::Ok)
        }
        HistoryAction::List { selection, json } => {
            let text = selection.unwrap_or_default();
            let text = text
                .strip_prefix(history::selection::PREFIX)
                .unwrap_or(&text);
            let sel: Selection = text
                .parse()
                .map_err(|e: history::SelectionError| Failure::usage(format!("selection: {e}")))?;
            let runs = h.list(&sel).map_err(err)?;
            if json {
                let doc = serde_json::json!({
                    "format": "nestbench-history",
                    "version": 1,
                    "history": h.location().to_string(),
                    "runs": runs.iter().map(|r| serde_json::json!({
                        "run_id": r.run_id,
                        "started_at": r.started_at,
                        "status": r.status.word(),
                        "backend": r.backend,
                        "levels": r.levels,
                        "suite": r.suite,
                        "tool_version": r.tool_version,
                        "host": r.host_fp,
                        "config": r.config_fp,
                        "tags": r.tags,
                    })).collect::<Vec<_>>(),
                });
                println!("{doc:#}");
            } else {
                println!(
                    "{:<28} {:<21} {:<9} {:<9} {:>6} {:<8} {:<16} tags",
                    "run", "started", "status", "backend", "levels", "suite", "config"
                );
                for r in &runs {
                    let tags: Vec<String> =
                        r.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    println!(
                        "{:<28} {:<21} {:<9} {:<9} {:>6} {:<8} {:<16} {}",
                        r.run_id,
                        r.started_at,
                        r.status.word(),
                        r.backend,
                        r.levels,
                        r.suite,
                        r.config_fp,
                        tags.join(",")
                    );
                }
                eprintln!("{} runs in {}", runs.len(), h.location());
            }
            Ok(Outcome::Ok)
        }
        HistoryAction::Prune { keep_last, before } => {
            let before = before
                .map(|b| {
                    OffsetDateTime::parse(&b, &time::format_description::well_known::Rfc3339)
                        .map_err(|e| {
                            Failure::usage(format!(
                                "--before {b:?}: {e}; give an RFC 3339 time such as 2026-11-01T00:00:00Z"
                            ))
                        })
                })
                .transpose()?;
            if keep_last.is_none() && before.is_none() {
                return Err(Failure::usage(
                    "history prune needs --keep-last N and/or --before TIME (a run is dropped when every rule given says so)",
                ));
            }
            let n = h.prune(keep_last, before).map_err(err)?;
            println!("{n} runs pruned from {}", h.location());
            Ok(Outcome::Ok)
        }
    }
}
