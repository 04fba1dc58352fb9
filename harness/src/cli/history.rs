//! The options of `nestbench history import|list|prune`: the run history's own
//! maintenance, next to the `--history`/`--no-history` every command shares
//! ([`crate::histopt`]).

use super::examples;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `nestbench history …`
#[derive(Debug, Args)]
pub struct HistoryCmd {
    /// What to do.
    #[command(subcommand)]
    pub action: HistoryAction,
    /// The history.
    #[command(flatten)]
    pub history: crate::histopt::HistoryArgs,
}

/// `nestbench history import|list|prune`
#[derive(Debug, Subcommand)]
pub enum HistoryAction {
    /// Record run directories made earlier (a run directory, or a directory of them).
    #[command(after_help = examples::HISTORY_IMPORT)]
    Import {
        /// Run directories, or directories of run directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
    },
    /// The runs a selection holds, oldest first.
    #[command(after_help = examples::HISTORY_LIST)]
    List {
        /// KEY=VALUE,… (last=N, tag=K=V, host=, config=, levels=, suite=, backend=,
        /// tool=, status=, since=, before=); with or without the history: prefix.
        selection: Option<String>,
        /// One JSON document on stdout (format nestbench-history, version 1).
        #[arg(long)]
        json: bool,
    },
    /// Drop old runs (noise profiles are kept).
    #[command(after_help = examples::HISTORY_PRUNE)]
    Prune {
        /// Keep the N most recent runs.
        #[arg(long)]
        keep_last: Option<usize>,
        /// Drop runs that started before this RFC 3339 time.
        #[arg(long)]
        before: Option<String>,
    },
}
