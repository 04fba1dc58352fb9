//! The options of the commands that judge runs already made: `compare` (the CI gate)
//! and `trend` (a history over time).

use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// What `compare` prints on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompareFormat {
    /// The aligned table for a terminal (default).
    Text,
    /// The Markdown summary that --summary writes.
    Markdown,
    /// One versioned JSON document (format nestbench-compare): every row with its
    /// verdict, ratio and interval, p-values, MDE, runs per side, and the settings.
    Json,
    /// JUnit XML: one testcase per level × metric; a regression is a failure, a
    /// missing metric an error, an inconclusive one skipped.
    Junit,
    /// One self-contained HTML page: the verdict, every row in tables that sort, the
    /// detectable effects, the compare chart with values on hover.
    Html,
}

/// `nestbench compare …`
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline: a run directory, a run.json, a directory of run directories, or
    /// history:KEY=VALUE,…
    pub baseline: String,
    /// The current runs, given the same way.
    pub current: String,
    /// Smallest relative change that counts (0.05 = 5%).
    #[arg(long, default_value_t = 0.05)]
    pub noise_threshold: f64,
    /// Family-wise error rate over every level × metric compared (Holm).
    #[arg(long, default_value_t = 0.05)]
    pub significance: f64,
    /// Exit 5 when nothing regressed but some metric is inconclusive (the runs could not
    /// have detected a change of the noise threshold).
    #[arg(long)]
    pub fail_on_inconclusive: bool,
    /// The history that history: inputs and noise profiles come from.
    #[command(flatten)]
    pub history: crate::histopt::HistoryArgs,
    /// What to print on stdout; the exit code is the same for every format.
    #[arg(long, value_enum, default_value_t = CompareFormat::Text)]
    pub format: CompareFormat,
    /// Also write the Markdown summary (for a CI job summary) to this file, whatever
    /// --format says.
    #[arg(long)]
    pub summary: Option<PathBuf>,
    /// A level or metric missing from the current run is not a regression.
    #[arg(long)]
    pub allow_missing: bool,
    /// Refuse runs that are not comparable instead of warning.
    #[arg(long)]
    pub strict: bool,
    /// Print nothing on stderr but errors (no warnings or notes); stdout, the summary
    /// and the exit code are as without it.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `nestbench trend …`
#[derive(Debug, Args)]
pub struct TrendArgs {
    /// The runs, of one configuration: a directory of run directories, or
    /// history:KEY=VALUE,… (default: every run in the history).
    #[arg(default_value = "history:")]
    pub input: String,
    /// Only this level (0, 1, …).
    #[arg(long)]
    pub level: Option<u32>,
    /// Only this metric, WORKLOAD/METRIC (e.g. mem.stream/triad).
    #[arg(long)]
    pub metric: Option<String>,
    /// Exit 3 when a change for the worse starts within this many most recent runs.
    #[arg(long, default_value_t = 5)]
    pub recent: usize,
    /// Where to write trend.md, trend.json and the charts (created).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print nothing on stderr but errors; the table on stdout, the files and the exit
    /// code are as without it.
    #[arg(long, short)]
    pub quiet: bool,
    /// The history that history: inputs come from.
    #[command(flatten)]
    pub history: crate::histopt::HistoryArgs,
}
