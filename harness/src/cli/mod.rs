//! The command line (README.md "Usage" documents it). Only parsing lives here: raw
//! values are validated into a [`crate::config::RunConfig`] once, and nothing reads
//! flags later. The definitions are also the source of `nestbench completions` and
//! `nestbench man`, so what a shell completes and what the man page says cannot drift
//! from what the parser accepts.
//!
//! Layout: this file holds the top level and the small subcommands; [`run`] the
//! options of `run` and `calibrate` (which makes runs with the same options),
//! [`analysis`] those of `compare` and `trend`, [`history`] those of `history`,
//! [`hyperv`] those of `hyperv` (with its own examples), and [`examples`] the example
//! that ends every other subcommand's `--help`.

pub mod analysis;
pub mod examples;
pub mod history;
pub mod hyperv;
pub mod run;

pub use analysis::{CompareArgs, CompareFormat, TrendArgs};
pub use history::{HistoryAction, HistoryCmd};
pub use hyperv::{HypervAction, HypervCmd};
pub use run::{AccelArg, BackendArg, CalibrateArgs, HypervRunArgs, RunArgs, RunCmd};

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Measure what nested virtualization costs.
#[derive(Debug, Parser)]
#[command(name = "nestbench", version, about, long_about = None, after_help = examples::TOP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Stand up a nested stack, run the suite at L0 and every level, write a run directory.
    #[command(after_help = examples::RUN)]
    Run(RunCmd),
    /// Regenerate results.csv, report.md, report.html and charts from RUN_DIR/run.json;
    /// with two or more inputs and --out, compare configurations level by level.
    #[command(after_help = examples::REPORT)]
    Report(ReportArgs),
    /// Compare two run sets for CI: exit 0 no regression, 3 regression, 5 inconclusive
    /// (with --fail-on-inconclusive), 1 bad input.
    #[command(after_help = examples::COMPARE)]
    Compare(CompareArgs),
    /// Measure this host's run-to-run noise: N back-to-back runs (or runs already made),
    /// each metric's CV and the change a compare could detect with 1, 3, 5, 10 runs.
    #[command(after_help = examples::CALIBRATE)]
    Calibrate(CalibrateArgs),
    /// Each metric's per-run median over a history of runs, with change points; exit 3
    /// when a change for the worse starts within the last --recent runs.
    #[command(after_help = examples::TREND)]
    Trend(TrendArgs),
    /// The run history: import run directories, list runs, prune old ones.
    #[command(after_help = examples::HISTORY)]
    History(HistoryCmd),
    /// Check what nesting needs on this host (and with --boot, inside real guests).
    #[command(after_help = examples::DOCTOR)]
    Doctor(DoctorArgs),
    /// Nested Hyper-V: check (and with --apply, fix) a VM on a Hyper-V host over SSH.
    #[command(after_help = hyperv::EXAMPLES)]
    Hyperv(HypervCmd),
    /// Guest image management.
    #[command(after_help = examples::IMAGE)]
    Image {
        /// What to do with the image.
        #[command(subcommand)]
        action: ImageAction,
    },
    /// Tear down a stack that `run --keep` left up.
    #[command(after_help = examples::DOWN)]
    Down {
        /// The run directory of the kept stack.
        run_dir: PathBuf,
    },
    /// Print a shell completion script for bash, zsh or fish on stdout.
    #[command(after_help = examples::COMPLETIONS)]
    Completions(CompletionsArgs),
    /// Print nestbench's man page (roff, every subcommand and option) on stdout.
    #[command(after_help = examples::MAN)]
    Man,
}

/// `nestbench image …`
#[derive(Debug, Subcommand)]
pub enum ImageAction {
    /// Build (or reuse from cache) the default guest image.
    #[command(after_help = examples::IMAGE_BUILD)]
    Build,
}

/// `nestbench report …`
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run directory (its report is rewritten in place); or two or more inputs to
    /// compare side by side — run directories, run.json files, directories of runs,
    /// history:KEY=VALUE,… — with --out.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// The name of an input in the charts and tables, once per input in order (default:
    /// what differs between them).
    #[arg(long = "label", value_name = "NAME")]
    pub labels: Vec<String>,
    /// Where the comparison of two or more inputs goes (created): report.md,
    /// report.html, charts/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The history that history: inputs come from.
    #[command(flatten)]
    pub history: crate::histopt::HistoryArgs,
    /// Print nothing but errors (the files are written as without it).
    #[arg(long, short)]
    pub quiet: bool,
}

/// `nestbench doctor …`
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Depth to check the budget for.
    #[arg(long, default_value_t = 4)]
    pub levels: u32,
    /// Also boot real guests level by level and check nesting inside them.
    #[arg(long)]
    pub boot: bool,
    /// Print one JSON document on stdout (format nestbench-doctor, version 1) instead
    /// of the ✔/⚠/✘ lines; boot progress stays on stderr.
    #[arg(long)]
    pub json: bool,
}

/// The shells `nestbench completions` writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShellArg {
    /// GNU bash (bash-completion).
    Bash,
    /// zsh (compsys).
    Zsh,
    /// fish.
    Fish,
}

/// `nestbench completions …`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: ShellArg,
}

/// The whole command tree as clap sees it, for completions, the man page and tests.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Every subcommand of `cmd`, depth first, with its path of names from the top
/// (`["history", "list"]`); clap's generated `help` is left out.
pub fn subcommands(cmd: &clap::Command) -> Vec<(Vec<String>, &clap::Command)> {
    let mut out = vec![];
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        out.push((vec![sub.get_name().to_string()], sub));
        for (mut path, deeper) in subcommands(sub) {
            path.insert(0, sub.get_name().to_string());
            out.push((path, deeper));
        }
    }
    out
}

#[cfg(test)]
mod tests;
