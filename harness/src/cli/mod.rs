//! The command line (README.md "Usage" documents it). Only parsing lives here: raw
//! values are validated into a [`crate::config::RunConfig`] once, and nothing reads
//! flags later.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Measure what nested virtualization costs.
#[derive(Debug, Parser)]
#[command(name = "nestbench", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Stand up a nested stack, run the suite at L0 and every level, write a run directory.
    Run(RunArgs),
    /// Regenerate results.csv, report.md, report.html and charts from RUN_DIR/run.json.
    Report {
        /// A run directory.
        run_dir: PathBuf,
    },
    /// Compare two run sets for CI: exit 0 no regression, 3 regression, 5 inconclusive
    /// (with --fail-on-inconclusive), 1 bad input.
    Compare(CompareArgs),
    /// Measure this host's run-to-run noise: N back-to-back runs (or runs already made),
    /// each metric's CV and the change a compare could detect with 1, 3, 5, 10 runs.
    Calibrate(CalibrateArgs),
    /// Each metric's per-run median over a history of runs, with change points; exit 3
    /// when a change for the worse starts within the last --recent runs.
    Trend(TrendArgs),
    /// The run history: import run directories, list runs, prune old ones.
    History(HistoryCmd),
    /// Check what nesting needs on this host (and with --boot, inside real guests).
    Doctor(DoctorArgs),
    /// Guest image management.
    Image {
        /// What to do with the image.
        #[command(subcommand)]
        action: ImageAction,
    },
    /// Tear down a stack that `run --keep` left up.
    Down {
        /// The run directory of the kept stack.
        run_dir: PathBuf,
    },
}

/// `nestbench image …`
#[derive(Debug, Subcommand)]
pub enum ImageAction {
    /// Build (or reuse from cache) the default guest image.
    Build,
}

/// Which backend provisions the levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// QEMU guests started level inside level (default).
    Qemu,
    /// Existing machines listed in a TOML file.
    Inventory,
}

/// Acceleration choice for QEMU levels: the model's one type for it.
pub use model::AccelChoice as AccelArg;

/// `--accel` values, listed in `--help`: auto (KVM where the parent shows svm/vmx and
/// /dev/kvm works, else TCG), kvm (every level), tcg (every level).
fn accel_values() -> impl clap::builder::TypedValueParser<Value = AccelArg> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    let all = [AccelArg::Auto, AccelArg::Kvm, AccelArg::Tcg];
    PossibleValuesParser::new(all.map(|a| PossibleValue::new(a.as_str()))).map(move |s| {
        all.into_iter()
            .find(|a| a.as_str() == s)
            .expect("clap only passes listed values")
    })
}

/// `nestbench run …`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Nesting depth: 0 measures the host only.
    #[arg(long, default_value_t = 4)]
    pub levels: u32,
    /// How levels are provisioned.
    #[arg(long, value_enum, default_value_t = BackendArg::Qemu)]
    pub backend: BackendArg,
    /// The inventory file (with --backend inventory).
    #[arg(long)]
    pub inventory: Option<PathBuf>,
    /// smoke, quick or standard.
    #[arg(long, default_value = "quick")]
    pub suite: String,
    /// Run only these workloads (comma-separated ids, e.g. cpu.int,mem.stream).
    #[arg(long, value_delimiter = ',')]
    pub only: Option<Vec<String>>,
    /// The run directory (created; refused if it exists and is not empty).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Acceleration per QEMU level.
    #[arg(long, value_parser = accel_values(), default_value = "auto")]
    pub accel: AccelArg,
    /// Memory of L1 in MiB (deeper levels are derived by the plan).
    #[arg(long)]
    pub memory: Option<u64>,
    /// vCPUs of L1 (deeper levels are derived by the plan).
    #[arg(long)]
    pub cpus: Option<u32>,
    /// Leave the stack up afterwards; `nestbench down RUN_DIR` removes it.
    #[arg(long)]
    pub keep: bool,
    /// Guest kernel to boot at every level instead of the image's.
    #[arg(long)]
    pub kernel: Option<PathBuf>,
    /// Initramfs to use with --kernel.
    #[arg(long)]
    pub initrd: Option<PathBuf>,
    /// qemu-system-x86_64 binary for L1.
    #[arg(long)]
    pub qemu: Option<PathBuf>,
    /// Extra QEMU argument for a level, as LEVEL:ARG (repeatable), e.g. 2:-no-hpet.
    #[arg(
        long = "qemu-arg",
        value_name = "LEVEL:ARG",
        allow_hyphen_values = true
    )]
    pub qemu_args: Vec<String>,
    /// Working-set sizes in MiB (stream=,latency=,pagefault=,disk=); default: derived
    /// from the smallest level.
    #[arg(long)]
    pub sizes: Option<String>,
    /// The static agent binary to deploy (default: next to nestbench, or the build output).
    #[arg(long, env = "NESTBENCH_AGENT")]
    pub agent: Option<PathBuf>,
    /// A label for this run, KEY=VALUE (repeatable), e.g. --tag qemu=v8.2.0: kept in
    /// run.json and the history, selectable with history:tag=KEY=VALUE.
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// Where the run is recorded.
    #[command(flatten)]
    pub history: crate::histopt::HistoryArgs,
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
    /// Write a Markdown summary (for a CI job summary) to this file.
    #[arg(long)]
    pub summary: Option<PathBuf>,
    /// A level or metric missing from the current run is not a regression.
    #[arg(long)]
    pub allow_missing: bool,
    /// Refuse runs that are not comparable instead of warning.
    #[arg(long)]
    pub strict: bool,
}

/// `nestbench calibrate …`
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Make this many back-to-back runs (each a full run, stack included) into --out.
    #[arg(long, conflicts_with = "from")]
    pub runs: Option<usize>,
    /// Use runs already made instead: a directory of run directories, or
    /// history:KEY=VALUE,…
    #[arg(long)]
    pub from: Option<String>,
    /// Family-wise error rate the detectable effects assume.
    #[arg(long, default_value_t = 0.05)]
    pub significance: f64,
    /// Print one JSON document on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// The run options of every run (with --runs); --out is the directory of the runs.
    #[command(flatten)]
    pub run: RunArgs,
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
    /// The history that history: inputs come from.
    #[command(flatten)]
    pub history: crate::histopt::HistoryArgs,
}

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
    Import {
        /// Run directories, or directories of run directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
    },
    /// The runs a selection holds, oldest first.
    List {
        /// KEY=VALUE,… (last=N, tag=K=V, host=, config=, levels=, suite=, backend=,
        /// tool=, status=, since=, before=); with or without the history: prefix.
        selection: Option<String>,
        /// One JSON document on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Drop old runs (noise profiles are kept).
    Prune {
        /// Keep the N most recent runs.
        #[arg(long)]
        keep_last: Option<usize>,
        /// Drop runs that started before this RFC 3339 time.
        #[arg(long)]
        before: Option<String>,
    },
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
}
