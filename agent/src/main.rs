//! nestbench-agent: the small static binary nestbench puts into every level. It
//! reports what the level looks like (`info`) and runs a workload suite, streaming
//! protocol records on stdout (`run`); diagnostics go to stderr only.
//!
//! ```text
//! nestbench-agent info
//! nestbench-agent run --suite smoke|quick|standard [--only W1,W2] [--dir PATH]
//!                     [--sizes stream=64,latency=64,pagefault=16,disk=32] [--llc-mib N]
//!                     [--budget-ms N] [--net-listen PORT [--net-backend TEXT]]
//! nestbench-agent net-peer --connect ADDR:PORT [--wait-s N] [--unlink-self]
//! nestbench-agent --version
//! ```
//! Exit codes: 0 ok (workloads that failed are `error` records), 1 the output could
//! not be written, 2 usage; after a signal 128 + its number (on Windows a console
//! interrupt: 130 for Ctrl-C, 131 for Ctrl-Break, 143 for close, logoff or shutdown).
//!
//! The same source builds `nestbench-agent.exe` for Windows (target
//! x86_64-pc-windows-gnu, scripts/build-agent-windows): `hostinfo` and `workdir` are
//! then their `_windows.rs` files, and the kernels are `workloads`' Windows ones.

mod cli;
mod cpuid;
// nestbench-agent.exe: the same command line, suite and protocol; what a level is and
// how its directory is cleaned up are Windows' own (docs/windows.md).
#[cfg_attr(windows, path = "hostinfo_windows.rs")]
mod hostinfo;
mod suite;
#[cfg_attr(windows, path = "workdir_windows.rs")]
mod workdir;

use cli::Command;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::parse(&args) {
        Ok(Command::Version) => {
            println!(
                "nestbench-agent {} (protocol {})",
                env!("CARGO_PKG_VERSION"),
                model::protocol::PROTOCOL_VERSION
            );
            ExitCode::SUCCESS
        }
        Ok(Command::Help) => {
            println!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        Ok(Command::Info) => {
            println!(
                "{}",
                serde_json::to_string(&hostinfo::gather()).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Ok(Command::Run(opts)) => suite::run(&opts),
        Ok(Command::NetPeer(opts)) => net_peer(&opts),
        Err(why) => {
            eprintln!("nestbench-agent: {why} (usage: {})", cli::USAGE_LINE);
            ExitCode::from(2)
        }
    }
}

/// `net-peer`: net.tcp's other end in the parent (`workloads::net::peer`). Exit 0
/// once the child's agent is served, 1 when none answered or the session broke.
fn net_peer(opts: &cli::PeerOpts) -> ExitCode {
    if opts.unlink_self {
        if let Ok(me) = std::env::current_exe() {
            let _ = std::fs::remove_file(me);
        }
    }
    match workloads::net::peer::connect_and_serve(opts.connect, opts.wait) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nestbench-agent net-peer: {e}");
            ExitCode::FAILURE
        }
    }
}
