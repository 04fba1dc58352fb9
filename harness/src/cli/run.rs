//! The options of a run: `nestbench run` and `nestbench calibrate --runs N`, which
//! makes N runs with the same options and so flattens the same [`RunArgs`]. Only `run`
//! has `--dry-run` ([`RunCmd`]): calibrating nothing has no meaning.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Which backend provisions the levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// QEMU guests started level inside level (default).
    Qemu,
    /// Existing machines listed in a TOML file.
    Inventory,
    /// Nested VMs created on a Hyper-V host over SSH (docs/hyperv.md).
    Hyperv,
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

/// `nestbench run …`: the run options and what only `run` has.
#[derive(Debug, Args)]
pub struct RunCmd {
    /// The run options.
    #[command(flatten)]
    pub run: RunArgs,
    /// Print the plan (levels, memory, vCPUs, sizes, accel) and every command the run
    /// would execute at each level, then exit: nothing is started or written.
    #[arg(long, help_heading = "Options")]
    pub dry_run: bool,
}

/// The options of one run (`run`, and every run `calibrate --runs N` makes).
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
    /// Acceleration per QEMU level (default auto).
    #[arg(long, value_parser = accel_values())]
    pub accel: Option<AccelArg>,
    /// Memory of L1 in MiB (deeper levels are derived by the plan; with --backend hyperv,
    /// static memory).
    #[arg(long)]
    pub memory: Option<u64>,
    /// vCPUs of L1 (deeper levels are derived by the plan; with --backend hyperv, every
    /// level's).
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
    /// Extra QEMU argument for a level, as LEVEL:ARG (repeatable), e.g. 1:-no-hpet (L1 is
    /// a pc machine; L2 and deeper are microvms, which have no HPET to turn off).
    #[arg(
        long = "qemu-arg",
        value_name = "LEVEL:ARG",
        allow_hyphen_values = true
    )]
    pub qemu_args: Vec<String>,
    /// How many times the run may bring a lost part of the stack back up and measure
    /// the level it lost again (default 1; 0: a loss ends the stack, as before).
    /// The lost attempt is kept in run.json's `retries` and listed by the report.
    #[arg(long, value_name = "N")]
    pub relaunch: Option<u32>,
    /// Working-set sizes in MiB (stream=,latency=,pagefault=,disk=); default: derived
    /// from the smallest level.
    #[arg(long)]
    pub sizes: Option<String>,
    /// The static agent binary to deploy (default: next to nestbench, or the build output).
    #[arg(long, env = "NESTBENCH_AGENT")]
    pub agent: Option<PathBuf>,
    /// The Windows agent, nestbench-agent.exe, deployed to levels that run Windows
    /// instead of --agent (default: next to nestbench, or scripts/build-agent-windows'
    /// output).
    #[arg(long, value_name = "PATH", env = "NESTBENCH_AGENT_WINDOWS")]
    pub agent_windows: Option<PathBuf>,
    /// A label for this run, KEY=VALUE (repeatable), e.g. --tag qemu=v8.2.0: kept in
    /// run.json and the history, selectable with history:tag=KEY=VALUE.
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// Print nothing but errors on stderr (no plan, progress or warnings); the run
    /// directory and the exit code are as without it.
    #[arg(long, short)]
    pub quiet: bool,
    /// Where the run is recorded.
    #[command(flatten)]
    pub history: crate::histopt::HistoryArgs,
    /// With --backend hyperv: the Hyper-V host and its VMs.
    #[command(flatten)]
    pub hyperv: HypervRunArgs,
}

/// The options of `--backend hyperv` (docs/hyperv.md, "--backend hyperv").
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Hyper-V backend (--backend hyperv)")]
pub struct HypervRunArgs {
    /// The Hyper-V host, USER@HOST: an administrator or a member of Hyper-V
    /// Administrators, reached with OpenSSH Server.
    #[arg(long, value_name = "USER@HOST")]
    pub hyperv_host: Option<String>,
    /// SSH port of the Hyper-V host.
    #[arg(long, value_name = "N", default_value_t = 22)]
    pub hyperv_port: u16,
    /// Private key for the Hyper-V host (OpenSSH format, ed25519, no passphrase).
    #[arg(long, value_name = "PATH", default_value = "~/.ssh/id_ed25519")]
    pub hyperv_key: String,
    /// known_hosts file that holds the Hyper-V host's key.
    #[arg(long, value_name = "PATH", default_value = "~/.ssh/known_hosts")]
    pub hyperv_known_hosts: String,
    /// Trust the Hyper-V host's unknown key on first contact and record it.
    #[arg(long)]
    pub hyperv_accept_new: bool,
    /// The Windows VHDX every Windows level boots, a path on the Hyper-V host (never
    /// written: each level gets a differencing disk). It must have OpenSSH Server, the
    /// Hyper-V role and nestbench's first-boot task (docs/hyperv.md).
    #[arg(long, value_name = "PATH")]
    pub base_vhdx: Option<String>,
    /// A Linux VHDX (sshd, cloud-init) for the deepest level, a path on the Hyper-V
    /// host; without it the deepest level is Windows too.
    #[arg(long, value_name = "PATH")]
    pub leaf_vhdx: Option<String>,
    /// The virtual switch every level's adapter is connected to (default Default
    /// Switch); Ln=NAME gives level n its own instead (repeatable, e.g. --switch External
    /// --switch L2=Internal).
    #[arg(long = "switch", value_name = "[Ln=]NAME")]
    pub switch: Vec<String>,
    /// The account the guests' first-boot task authorizes the stack's key for.
    #[arg(long, value_name = "NAME", default_value = "Administrator")]
    pub guest_user: String,
    /// The account on the Linux leaf (--leaf-vhdx) the stack's key is authorized for
    /// (cloud-init, with disable_root: false).
    #[arg(long, value_name = "NAME", default_value = "root")]
    pub leaf_user: String,
    /// Seconds each level may take from Start-VM until it answers over SSH.
    #[arg(long, value_name = "S", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    pub boot_timeout: u64,
    /// Seconds allowed for each SSH connection (the host, or a level through its chain).
    #[arg(long, value_name = "S", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub connect_timeout: u64,
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
    /// Print one JSON document on stdout (format nestbench-calibrate, version 1) instead
    /// of the table; progress stays on stderr.
    #[arg(long)]
    pub json: bool,
    /// The run options of every run (with --runs); --out is the directory of the runs.
    #[command(flatten)]
    pub run: RunArgs,
}
