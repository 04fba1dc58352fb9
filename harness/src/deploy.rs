//! Deploy, run, collect: the backend-independent part of measuring a level. The agent
//! arrives, is verified (size and SHA-256), runs the suite while its protocol stream is
//! parsed line by line (the stream's begin record carries the level's `info`), and is
//! removed afterwards — with its files — whatever happened.
//!
//! Deep levels are slow to talk to: every SSH round trip through the jump chain costs
//! seconds, bandwidth is about 100 KB/s at L3, and every program started at L4 pays
//! its page faults through four hypervisors. So a QEMU level whose backend attached the
//! agent drive (`Site::agent_device`, docs/qemu.md "The agent drive") copies the agent
//! off that read-only disk, and only one command crosses the chain; anywhere else — or
//! when the drive does not hold the agent — the agent travels gzip-compressed (about
//! half its size), uploaded to its own path and unpacked in place, so one path names
//! the agent throughout: whatever guards the uploaded path (L0's Ctrl-C cleanup) and
//! the fallback removal after a broken command cover it in every state. Either way one
//! command reports what arrived and only when that is what the controller holds runs
//! the suite, then removes the agent.
//!
//! A Windows level ([`crate::remote::Remote::os`]) gets the same two round trips in
//! its own language (`place.rs`): the upload goes over SFTP, and one PowerShell script
//! unpacks, verifies with Get-FileHash, runs and removes the agent, answering with the
//! same lines, so one `Reply` reads both.

use crate::progress::LevelProgress;
use crate::remote::{ExecStatus, Remote, RemoteError};
use model::protocol::{LineEvent, StreamOutcome, StreamParser};
use model::{HostInfo, Sizes, Suite};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

mod command;
#[cfg(test)]
mod keep_tests;
#[cfg(test)]
mod l0_tests;
mod place;
#[cfg(test)]
mod tests;

pub use command::{deploy_command, drive_command};
use place::Place;

/// The agent binary and how to run it.
pub struct AgentJob<'a> {
    /// The static agent's bytes.
    pub binary: &'a [u8],
    /// The Windows agent's bytes, for Windows levels, or why there are none (the
    /// run's `--agent-windows` missing or not a Windows executable): a Windows level
    /// then fails with that reason.
    pub windows_binary: Result<&'a [u8], String>,
    /// Suite to run.
    pub suite: Suite,
    /// Workloads to run (all when `None`).
    pub only: Option<&'a [String]>,
    /// The run's working-set sizes.
    pub sizes: Sizes,
    /// L0's last-level cache, MiB, which every level's agent judges its memory working
    /// sets against (`--llc-mib`; a guest's own is made up under TCG).
    pub llc_mib: Option<u64>,
}

/// Where and how one level's agent runs, as its backend arranged it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Site {
    /// Directory at the level for the agent and its workload files.
    pub workdir: String,
    /// net.tcp's way to the parent, when the backend planned one (else the agent
    /// measures loopback, a reference only).
    pub net: Option<NetSite>,
    /// Where the agent is left after its suite instead of being removed: the backend
    /// starts the child's net peer from it (and the peer removes it).
    pub keep_agent: Option<String>,
    /// The read-only block device at the level that holds the agent (the QEMU
    /// backend's agent drive), read instead of uploading; None: upload.
    pub agent_device: Option<String>,
    /// Directory for the agent's own file when not `workdir` (a guest's tmpfs: at L4
    /// the copy onto the scratch disk's ext4 took 3.1–3.3 s, onto tmpfs 1.9 s).
    pub agent_dir: Option<String>,
}

impl Site {
    /// A plain site: a directory, no net peer, the agent removed at the end.
    pub fn at(workdir: impl Into<String>) -> Site {
        Site {
            workdir: workdir.into(),
            ..Site::default()
        }
    }
}

/// How net.tcp reaches a level from its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetSite {
    /// The port the level's agent listens on (its parent's QEMU forwards to it).
    pub port: u16,
    /// The network between them, in words (params and env say it).
    pub backend: String,
}

/// What measuring a level produced. `outcome.failure` set means the agent failed.
pub struct Measured {
    /// The agent's `info`.
    pub info: Option<HostInfo>,
    /// The parsed stream (results kept even when it broke).
    pub outcome: StreamOutcome,
    /// Arrival + verification seconds (until the agent's begin record arrived).
    pub deploy_s: f64,
    /// The agent run's seconds (from its begin record to the end of the stream).
    pub suite_s: f64,
}

/// Why a level could not be measured at all (nothing was parsed).
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// Transport failure.
    #[error(transparent)]
    Remote(#[from] RemoteError),
    /// The uploaded agent is not what was sent, or does not run.
    #[error("{0}")]
    Agent(String),
}

/// Limit of the upload, and what the deploy command may take beyond the suite.
const CONTROL: Duration = Duration::from_secs(300);
/// Limit of the best-effort removal after a broken command.
const CLEANUP: Duration = Duration::from_secs(60);

fn suite_timeout(suite: Suite) -> Duration {
    // Rates over a time budget keep a suite about as long at L4 as at L0, and setup
    // (first touch, pre-written files) is budgeted too (Suite::setup_budget), but
    // starting processes and SSH itself are far slower deep down.
    Duration::from_secs(match suite {
        Suite::Smoke => 900,
        Suite::Quick => 1800,
        Suite::Standard => 5400,
    })
}

/// Bring the agent to the level (`site.agent_dir`, else `site.workdir`), run it in
/// `site.workdir`, collect, remove it. Two round trips when it is uploaded (the
/// upload, and one command for the rest), one when the level reads it off its agent
/// drive.
pub fn measure(
    remote: &mut dyn Remote,
    site: &Site,
    job: &AgentJob<'_>,
    progress: &mut LevelProgress,
) -> Result<Measured, DeployError> {
    // Where the agent's own file goes: a full disk there is what a failed copy means.
    let workdir = site.agent_dir.as_deref().unwrap_or(&site.workdir);
    let place = Place::new(remote.os(), workdir, rand::random());
    let binary = match place {
        Place::Posix { .. } => job.binary,
        Place::Windows { .. } => job.windows_binary.clone().map_err(|why| {
            DeployError::Agent(format!("{} runs Windows: {why}", remote.endpoint()))
        })?,
    };
    let t0 = Instant::now();
    let drive = match place {
        Place::Posix { .. } => site.agent_device.as_deref(),
        Place::Windows { .. } => None,
    };
    if let Some(dev) = drive {
        progress.stage("agent from its drive");
        let (reply, status) = run_command(remote, &place, Some(dev), site, job, binary, progress);
        if !reply.drive_missed(&status, binary) {
            return finish(remote, &place, reply, status, binary, workdir, t0);
        }
        // The drive is not there or holds something else (a custom initrd's level, an
        // older image): nothing ran, so upload as anywhere else.
        progress.stage(&format!("no agent on {dev}; upload agent"));
    }
    let packed = gzip(binary);
    progress.stage("upload agent");
    if let Err(e) = remote.upload(&packed, &place.upload_path(), 0o644, CONTROL) {
        // Part of it may be there already.
        place.remove(remote);
        return Err(e.into());
    }
    progress.stage("verify agent");
    let (reply, status) = run_command(remote, &place, None, site, job, binary, progress);
    finish(remote, &place, reply, status, binary, workdir, t0)
}

/// The one command after the agent's arrival, its reply taken apart as it arrives.
fn run_command(
    remote: &mut dyn Remote,
    place: &Place,
    drive: Option<&str>,
    site: &Site,
    job: &AgentJob<'_>,
    binary: &[u8],
    progress: &mut LevelProgress,
) -> (Reply, Result<ExecStatus, RemoteError>) {
    let mut reply = Reply::default();
    let status = place.run(
        remote,
        drive,
        site,
        job,
        binary,
        suite_timeout(job.suite) + CONTROL,
        &mut |line| {
            if let Some(stage) = reply.feed(line) {
                progress.stage(&stage);
            }
        },
    );
    // The agent's heartbeats are not part of what it said.
    let heartbeat = char::from(model::protocol::HEARTBEAT);
    let status = status.map(|st| ExecStatus {
        stderr: st.stderr.replace(heartbeat, ""),
        ..st
    });
    (reply, status)
}

/// Judge the command's reply; remove the agent when the command could not.
fn finish(
    remote: &mut dyn Remote,
    place: &Place,
    reply: Reply,
    status: Result<ExecStatus, RemoteError>,
    binary: &[u8],
    workdir: &str,
    t0: Instant,
) -> Result<Measured, DeployError> {
    let t_end = Instant::now();
    // The command removes the agent as its last step; it did not get there when it was
    // cut off or its shell was killed.
    if !matches!(status, Ok(ExecStatus { code: Some(_), .. })) {
        place.remove(remote);
    }
    let (info, outcome, begin_at) = reply.conclude(status, binary, &remote.endpoint(), workdir)?;
    Ok(Measured {
        info: Some(info),
        outcome,
        deploy_s: begin_at.duration_since(t0).as_secs_f64(),
        suite_s: t_end.duration_since(begin_at).as_secs_f64(),
    })
}

/// The agent gzip-compressed (level 9): it crosses the slowest links once per level.
fn gzip(data: &[u8]) -> Vec<u8> {
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;
    let mut enc = GzEncoder::new(Vec::with_capacity(data.len() / 2), Compression::best());
    enc.write_all(data).expect("writing to memory");
    enc.finish().expect("writing to memory")
}

/// The deploy command's stdout, taken apart as it arrives: the size/digest line, then
/// the protocol stream.
#[derive(Default)]
struct Reply {
    digest: Option<String>,
    begin_at: Option<Instant>,
    stream_lines: usize,
    parser: StreamParser,
    finished: Vec<String>,
}

impl Reply {
    /// Take one stdout line; returns the progress stage it starts, if any.
    fn feed(&mut self, line: &str) -> Option<String> {
        if self.digest.is_none() {
            self.digest = Some(line.to_string());
            return Some("start agent".into());
        }
        self.stream_lines += 1;
        let finished_one = match self.parser.feed(line) {
            LineEvent::Result(w) | LineEvent::NotApplicable(w) | LineEvent::Error(w) => Some(w),
            LineEvent::Begin => {
                self.begin_at = Some(Instant::now());
                None
            }
            _ => return None,
        };
        if let Some(w) = finished_one {
            if !self.finished.contains(&w) {
                self.finished.push(w);
            }
        }
        let planned = self
            .parser
            .outcome()
            .begin
            .as_ref()
            .map(|b| b.workloads.as_slice())
            .unwrap_or_default();
        let next = planned.iter().find(|w| !self.finished.contains(w));
        Some(match next {
            Some(w) => format!(
                "workload {}/{}: {w}",
                self.finished.len() + 1,
                planned.len()
            ),
            None => "collect".to_string(),
        })
    }

    /// Whether the agent drive did not deliver the agent, so that uploading is the way
    /// on: the command ended normally after a digest line that is not `binary`'s and
    /// before any stream line (a transport failure is not a miss: it is reported).
    fn drive_missed(&self, status: &Result<ExecStatus, RemoteError>, binary: &[u8]) -> bool {
        status.is_ok() && self.stream_lines == 0 && !digest_matches(self.digest.as_deref(), binary)
    }

    /// Judge the whole reply, given how the command ended: the agent's `info` (from
    /// its begin record), the parsed stream, and when the begin record arrived. A
    /// transport failure before it is a [`DeployError::Remote`]; after it, results
    /// received so far are kept. A full disk while unpacking is reported like one
    /// during the upload.
    fn conclude(
        self,
        status: Result<ExecStatus, RemoteError>,
        binary: &[u8],
        endpoint: &str,
        workdir: &str,
    ) -> Result<(HostInfo, StreamOutcome, Instant), DeployError> {
        if let (None, Err(_)) = (&self.digest, &status) {
            return Err(status.unwrap_err().into());
        }
        if !digest_matches(self.digest.as_deref(), binary) {
            let mut words = self.digest.as_deref().unwrap_or("").split_whitespace();
            let size: Option<usize> = words.next().and_then(|w| w.parse().ok());
            let sum = words.next().unwrap_or("");
            // Why unpacking failed, when the shell said.
            let stderr = status.as_ref().map_or("", |st| st.stderr.trim());
            // (A PowerShell deploy that failed before its digest says why in JSON.)
            let why = stderr
                .lines()
                .next()
                .or(self.digest.as_deref().filter(|d| d.starts_with('{')))
                .unwrap_or_default();
            if stderr.to_ascii_lowercase().contains("no space left") {
                // What a full disk during the upload itself says, too.
                return Err(RemoteError::NoSpace {
                    level: level_name(endpoint).to_string(),
                    dir: workdir.trim_end_matches('/').to_string(),
                }
                .into());
            }
            return Err(DeployError::Agent(format!(
                "agent upload to {endpoint} is corrupt (size {size:?} vs {}, sha256 {} vs {}); check free space in {workdir}{}{why}",
                binary.len(),
                short(sum),
                short(&hex::encode(Sha256::digest(binary))),
                if why.is_empty() { "" } else { ": " },
            )));
        }
        let printed = self.stream_lines > 0;
        let mut outcome = self.parser.finish();
        let (Some(begin_at), Some(begin)) = (self.begin_at, outcome.begin.as_ref()) else {
            return Err(match status {
                Err(e) => e.into(),
                Ok(st) if st.code != Some(0) => DeployError::Agent(format!(
                    "agent does not run on {endpoint}: exit {:?}: {}",
                    st.code,
                    st.stderr.trim()
                )),
                Ok(_) => DeployError::Agent(format!(
                    "agent on {endpoint} did not start its suite: {}",
                    outcome
                        .failure
                        .as_deref()
                        .filter(|_| printed)
                        .unwrap_or("it printed no begin record")
                )),
            });
        };
        let info = begin.info.clone();
        match status {
            Ok(st) if st.code != Some(0) && outcome.failure.is_some() => {
                let why = outcome.failure.take().unwrap_or_default();
                outcome.failure = Some(format!(
                    "{why} (agent exit {:?}: {})",
                    st.code,
                    last_line(&st.stderr)
                ));
            }
            Ok(_) => {}
            Err(e) => {
                outcome.failure = Some(format!("{e}; results received before that are kept"));
            }
        }
        Ok((info, outcome, begin_at))
    }
}

/// Whether a digest line says "size sha256" of `binary` (size `-`: not counted, the
/// digest covers it).
fn digest_matches(line: Option<&str>, binary: &[u8]) -> bool {
    let mut words = line.unwrap_or("").split_whitespace();
    let size_ok = match words.next() {
        Some("-") => true,
        w => w.and_then(|w| w.parse::<usize>().ok()) == Some(binary.len()),
    };
    size_ok && words.next() == Some(hex::encode(Sha256::digest(binary)).as_str())
}

/// `L2` of an endpoint described as `L2 (root@127.0.0.1:2202)` ([`Remote::endpoint`]).
fn level_name(endpoint: &str) -> &str {
    endpoint.split(" (").next().unwrap_or(endpoint)
}

fn short(s: &str) -> &str {
    &s[..s.len().min(12)]
}

fn last_line(s: &str) -> &str {
    s.trim().lines().last().unwrap_or("no stderr")
}
