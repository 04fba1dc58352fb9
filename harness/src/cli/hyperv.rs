//! `nestbench hyperv …`: nested Hyper-V (docs/hyperv.md). Its own file, so the run
//! options stay where they are; the examples that end its `--help` are here too.

use clap::{Args, Subcommand};

/// `nestbench hyperv --help`.
pub const EXAMPLES: &str = "\
Examples:
  # check a VM on a Hyper-V host (exit 0 ready, 6 not ready, 1 could not check)
  nestbench hyperv prepare nb1 --host Administrator@hv1.lab";

/// `nestbench hyperv prepare --help`.
pub const PREPARE_EXAMPLES: &str = "\
Examples:
  # what would change, without changing anything
  nestbench hyperv prepare nb1 --host Administrator@hv1.lab
  # make the changes, turning the VM off first if it runs, with 8 GB of memory
  nestbench hyperv prepare nb1 --host Administrator@hv1.lab --apply --turn-off --memory-gb 8";

/// `nestbench hyperv …`
#[derive(Debug, Args)]
pub struct HypervCmd {
    /// What to do.
    #[command(subcommand)]
    pub action: HypervAction,
}

/// The `hyperv` subcommands.
#[derive(Debug, Subcommand)]
pub enum HypervAction {
    /// Check over SSH that a Hyper-V host and VM are set up for nesting; with --apply,
    /// make the changes. Exit 0 ready, 6 not ready, 1 could not check.
    #[command(after_help = PREPARE_EXAMPLES)]
    Prepare(PrepareArgs),
}

/// `nestbench hyperv prepare …`
#[derive(Debug, Args)]
pub struct PrepareArgs {
    /// The VM's name on the host.
    pub vm: String,
    /// The Hyper-V host: USER@HOST, an administrator or a member of Hyper-V
    /// Administrators, reached with OpenSSH Server.
    #[arg(long, value_name = "USER@HOST")]
    pub host: String,
    /// SSH port.
    #[arg(long, default_value_t = 22)]
    pub port: u16,
    /// Private key (OpenSSH format, ed25519, no passphrase).
    #[arg(long, value_name = "PATH", default_value = "~/.ssh/id_ed25519")]
    pub key: String,
    /// known_hosts file that holds the host's key.
    #[arg(long, value_name = "PATH", default_value = "~/.ssh/known_hosts")]
    pub known_hosts: String,
    /// Trust an unknown host key on first contact and record it (a changed key is
    /// still refused).
    #[arg(long)]
    pub accept_new: bool,
    /// Make the changes (in the order Hyper-V needs) and print each.
    #[arg(long)]
    pub apply: bool,
    /// With --apply: turn a running VM off first (Stop-VM -TurnOff -Force) or discard
    /// its saved state; the guest's unsaved work is lost.
    #[arg(long, requires = "apply")]
    pub turn_off: bool,
    /// The startup memory the VM needs, GB.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub memory_gb: u64,
    /// Seconds allowed to reach the host's SSH server.
    #[arg(long, value_name = "S", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub connect_timeout: u64,
}
