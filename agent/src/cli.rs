//! Hand-written argument parsing (the agent stays small and dependency-free): raw
//! arguments become a validated [`Command`] once; nothing reads flags afterwards.

use model::{catalog, Sizes, Suite};
use std::path::PathBuf;
use std::time::Duration;

/// One line, for error messages.
pub const USAGE_LINE: &str = "nestbench-agent info | run --suite smoke|quick|standard [--only W1,W2] [--dir PATH] [--sizes stream=MIB,latency=MIB,pagefault=MIB,disk=MIB] [--llc-mib N] [--budget-ms N] [--heartbeat-s N] [--net-listen PORT [--net-backend TEXT]] | net-peer --connect ADDR:PORT [--wait-s N] [--unlink-self] | --version";

/// `--help` text.
pub const USAGE: &str = "\
nestbench-agent: runs nestbench workloads at one level and streams protocol v2 JSON lines.

USAGE:
  nestbench-agent info
      Print this level's facts (CPU, memory, kernel, hypervisor, KVM) as one JSON object.
  nestbench-agent run --suite smoke|quick|standard [OPTIONS]
      Run the suite; records go to stdout, one per line, progress to stderr.
  nestbench-agent net-peer --connect ADDR:PORT [--wait-s N] [--unlink-self]
      net.tcp's other end, run in the parent of the level measured: knock on the
      port the parent forwards to the child's agent until it answers (for up to
      --wait-s, default 300), serve it, and exit when it is done. --unlink-self
      removes this binary once it runs.
  nestbench-agent --version

RUN OPTIONS:
  --only W1,W2        run only these workload ids (suite order is kept)
  --dir PATH          where disk workloads write (default: $TMPDIR, else /tmp; on
                      Windows %TMP%/%TEMP%); the agent
                      makes its own unique subdirectory there and removes it at the end
  --sizes K=MIB,...   working-set sizes in MiB, keys stream, latency, pagefault, disk;
                      missing keys are fitted to this machine: STREAM arrays and the
                      latency buffer 4x the last-level cache where a quarter of the free
                      memory allows (not in smoke), the file a quarter of the free disk
  --llc-mib N         the last-level cache the memory working sets are judged against
                      (params llc_mib, cache_resident); default: this machine's (sysfs;
                      on Windows, the cache query). The controller passes L0's: TCG guests report made-up ones
  --budget-ms N       per-sample time budget override, for tests and debugging
  --heartbeat-s N     write a NUL byte on stderr every N s while running, so the
                      controller can tell a slow level from one that stopped answering
  --net-listen PORT   listen there from the start for net.tcp's peer in the parent
                      (without it net.tcp measures loopback, a reference only)
  --net-backend TEXT  the network between this level and its parent, for params";

/// What the command line asked for.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// `info`.
    Info,
    /// `run` with its options.
    Run(RunOpts),
    /// `net-peer` with its options.
    NetPeer(PeerOpts),
    /// `--version`.
    Version,
    /// `--help`.
    Help,
}

/// Validated options of `run`.
#[derive(Debug, PartialEq)]
pub struct RunOpts {
    /// The suite.
    pub suite: Suite,
    /// Workload ids to run (validated), or all.
    pub only: Option<Vec<String>>,
    /// Parent of the agent's working directory.
    pub dir: PathBuf,
    /// Sizes the controller fixed.
    pub sizes: Sizes,
    /// The last-level cache to judge memory working sets against (`--llc-mib`), MiB.
    pub llc_mib: Option<u64>,
    /// Per-sample budget override.
    pub budget: Option<Duration>,
    /// How often to write [`model::protocol::HEARTBEAT`] on stderr.
    pub heartbeat: Option<Duration>,
    /// The port to listen on for net.tcp's peer.
    pub net_listen: Option<u16>,
    /// What the network to the parent is.
    pub net_backend: Option<String>,
}

/// Validated options of `net-peer`.
#[derive(Debug, PartialEq)]
pub struct PeerOpts {
    /// Where the child's agent is reached.
    pub connect: std::net::SocketAddr,
    /// How long to knock.
    pub wait: Duration,
    /// Remove this binary once running.
    pub unlink_self: bool,
}

/// A command line the agent cannot run; its text is one line (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    /// No command given.
    #[error("missing command")]
    MissingCommand,
    /// Not one of info, run, --version, --help.
    #[error("unknown command {0:?}")]
    UnknownCommand(String),
    /// An argument after a command that takes none.
    #[error("unexpected argument {0:?}")]
    Unexpected(String),
    /// An option of `run` this agent does not know.
    #[error("unknown option {0:?}")]
    UnknownOption(String),
    /// An option given without its value.
    #[error("{0} needs a value")]
    NeedsValue(String),
    /// An option whose value is wrong, in words that say what it should be.
    #[error("{flag}: {why}")]
    BadValue {
        /// The option.
        flag: &'static str,
        /// What is wrong.
        why: String,
    },
    /// `run` without `--suite`.
    #[error("run needs --suite smoke|quick|standard")]
    NoSuite,
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, UsageError> {
    let mut it = args.iter().map(String::as_str);
    match it.next() {
        None => Err(UsageError::MissingCommand),
        Some("--version" | "-V") => no_more(it, Command::Version),
        Some("--help" | "-h" | "help") => Ok(Command::Help),
        Some("info") => no_more(it, Command::Info),
        Some("run") => parse_run(it).map(Command::Run),
        Some("net-peer") => parse_peer(it).map(Command::NetPeer),
        Some(other) => Err(UsageError::UnknownCommand(other.into())),
    }
}

fn no_more<'a>(mut it: impl Iterator<Item = &'a str>, cmd: Command) -> Result<Command, UsageError> {
    match it.next() {
        None => Ok(cmd),
        Some(extra) => Err(UsageError::Unexpected(extra.into())),
    }
}

fn bad(flag: &'static str, why: impl ToString) -> UsageError {
    UsageError::BadValue {
        flag,
        why: why.to_string(),
    }
}

fn parse_run<'a>(mut it: impl Iterator<Item = &'a str>) -> Result<RunOpts, UsageError> {
    let (mut suite, mut only, mut dir, mut sizes, mut budget, mut llc_mib) =
        (None, None, None, Sizes::default(), None, None);
    let (mut net_listen, mut net_backend, mut heartbeat) = (None, None, None);
    while let Some(flag) = it.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v)),
            _ => (flag, None),
        };
        let mut value = || {
            inline
                .or_else(|| it.next())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| UsageError::NeedsValue(name.to_string()))
        };
        match name {
            "--suite" => suite = Some(value()?.parse::<Suite>().map_err(|e| bad("--suite", e))?),
            "--only" => {
                let ids: Vec<String> = value()?
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect();
                catalog::select(Some(&ids)).map_err(|e| bad("--only", e))?;
                if ids.is_empty() {
                    return Err(bad("--only", "needs at least one workload id"));
                }
                only = Some(ids);
            }
            "--dir" => dir = Some(PathBuf::from(value()?)),
            "--sizes" => sizes = value()?.parse::<Sizes>().map_err(|e| bad("--sizes", e))?,
            "--llc-mib" => {
                let mib = value()?;
                llc_mib = Some(
                    mib.parse::<u64>()
                        .ok()
                        .filter(|m| *m > 0)
                        .ok_or_else(|| bad("--llc-mib", format!("{mib:?} is not MiB > 0")))?,
                );
            }
            "--budget-ms" => {
                let ms = value()?;
                let ms: u64 =
                    ms.parse().ok().filter(|m| *m > 0).ok_or_else(|| {
                        bad("--budget-ms", format!("{ms:?} is not milliseconds > 0"))
                    })?;
                budget = Some(Duration::from_millis(ms));
            }
            "--net-listen" => {
                let port = value()?;
                net_listen =
                    Some(port.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                        bad("--net-listen", format!("{port:?} is not a port 1-65535"))
                    })?);
            }
            "--net-backend" => net_backend = Some(value()?.to_string()),
            "--heartbeat-s" => {
                let s = value()?;
                let s: u64 = s
                    .parse()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| bad("--heartbeat-s", format!("{s:?} is not seconds > 0")))?;
                heartbeat = Some(Duration::from_secs(s));
            }
            other => return Err(UsageError::UnknownOption(other.into())),
        }
    }
    Ok(RunOpts {
        suite: suite.ok_or(UsageError::NoSuite)?,
        only,
        dir: dir.unwrap_or_else(default_dir),
        sizes,
        llc_mib,
        budget,
        heartbeat,
        net_listen,
        net_backend,
    })
}

fn parse_peer<'a>(mut it: impl Iterator<Item = &'a str>) -> Result<PeerOpts, UsageError> {
    let (mut connect, mut wait, mut unlink_self) = (None, Duration::from_secs(300), false);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| UsageError::NeedsValue(flag.to_string()))
        };
        match flag {
            "--connect" => {
                let a = value()?;
                connect = Some(
                    a.parse::<std::net::SocketAddr>()
                        .map_err(|_| bad("--connect", format!("{a:?} is not ADDR:PORT")))?,
                );
            }
            "--wait-s" => {
                let w = value()?;
                wait = Duration::from_secs(
                    w.parse::<u64>()
                        .ok()
                        .filter(|s| *s > 0)
                        .ok_or_else(|| bad("--wait-s", format!("{w:?} is not seconds > 0")))?,
                );
            }
            "--unlink-self" => unlink_self = true,
            other => return Err(UsageError::UnknownOption(other.into())),
        }
    }
    Ok(PeerOpts {
        connect: connect.ok_or_else(|| UsageError::NeedsValue("--connect".into()))?,
        wait,
        unlink_self,
    })
}

/// `$TMPDIR` when set, else `/tmp`; on Windows the user's temporary directory
/// (`%TMP%`, else `%TEMP%`…, as GetTempPath2W finds it).
fn default_dir() -> PathBuf {
    if cfg!(windows) {
        return std::env::temp_dir();
    }
    std::env::var_os("TMPDIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from("/tmp"), PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Command, UsageError> {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn parses_a_full_run_line() {
        let Command::Run(o) = p(
            "run --suite quick --only exit.syscall,cpu.int --dir /x --sizes disk=8 --llc-mib 32 --budget-ms=20",
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(o.suite, Suite::Quick);
        assert_eq!(o.only.unwrap(), ["exit.syscall", "cpu.int"]);
        assert_eq!(o.dir, PathBuf::from("/x"));
        assert_eq!(o.sizes.disk_mib, Some(8));
        assert_eq!(o.budget, Some(Duration::from_millis(20)));
        assert_eq!(o.llc_mib, Some(32));
        assert_eq!(o.heartbeat, None);
        let Command::Run(o) = p("run --suite smoke --heartbeat-s 20").unwrap() else {
            panic!()
        };
        assert_eq!(o.heartbeat, Some(Duration::from_secs(20)));
        // What older controllers send still parses: no --llc-mib, the agent's own LLC.
        let Command::Run(o) = p("run --suite smoke --sizes stream=8").unwrap() else {
            panic!()
        };
        assert_eq!(o.llc_mib, None);
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        for bad in [
            "",
            "run",
            "run --suite fast",
            "run --suite smoke --only nope",
            "run --suite smoke --sizes x=1",
            "run --suite smoke --frob",
            "info extra",
            "run --suite",
            "run --suite smoke --budget-ms 0",
            "run --suite smoke --heartbeat-s 0",
            "run --suite smoke --heartbeat-s 1.5",
            "run --suite smoke --llc-mib 0",
            "run --suite smoke --llc-mib 32M",
            "bogus",
        ] {
            assert!(p(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(p("run --suite smoke --only nope")
            .unwrap_err()
            .to_string()
            .contains("cpu.int"));
        assert_eq!(p("run --dir /x").unwrap_err(), UsageError::NoSuite);
        assert_eq!(p("--version").unwrap(), Command::Version);
        for bad in [
            "net-peer",
            "net-peer --connect localhost",
            "net-peer --connect 10.0.2.15:0x10",
            "net-peer --connect 10.0.2.15:4000 --wait-s 0",
            "run --suite smoke --net-listen 0",
            "run --suite smoke --net-listen 70000",
        ] {
            assert!(p(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn parses_the_net_options() {
        let Command::NetPeer(o) =
            p("net-peer --connect 10.0.2.15:40001 --wait-s 9 --unlink-self").unwrap()
        else {
            panic!()
        };
        assert_eq!(o.connect, "10.0.2.15:40001".parse().unwrap());
        assert_eq!((o.wait, o.unlink_self), (Duration::from_secs(9), true));
        let Command::Run(o) =
            p("run --suite smoke --net-listen 40001 --net-backend slirp").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (o.net_listen, o.net_backend.as_deref()),
            (Some(40001), Some("slirp"))
        );
    }
}
