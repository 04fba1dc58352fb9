//! Deploy, run, collect: the backend-independent part of measuring a level. The agent
//! is uploaded, verified (size and SHA-256), asked for `info`, run with the suite while
//! its protocol stream is parsed line by line, and removed afterwards — with its
//! files — whatever happened.
//!
//! Deep levels are slow to talk to: every SSH round trip through the jump chain costs
//! seconds and bandwidth is about 100 KB/s at L3. So the agent travels gzip-compressed
//! (about half its size) and everything after the upload is one command, which
//! unpacks it, reports what it unpacked, and only when that is what was sent runs
//! `info` and the suite, then removes it. The compressed bytes are uploaded to the
//! agent's own path and unpacked in place, so one path names the agent throughout:
//! whatever guards the uploaded path (L0's Ctrl-C cleanup) and the fallback removal
//! after a broken command cover it in every state.
//!
//! A Windows level ([`crate::remote::Remote::os`]) gets the same two round trips in
//! its own language (`place.rs`): the upload goes over SFTP, and one PowerShell script
//! unpacks, verifies with Get-FileHash, runs and removes the agent, answering with the
//! same lines, so one `Reply` reads both.

use crate::progress::LevelProgress;
use crate::remote::{shell_quote, ExecStatus, Remote, RemoteError};
use model::protocol::{LineEvent, StreamOutcome, StreamParser};
use model::{HostInfo, Sizes, Suite};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

#[cfg(test)]
mod keep_tests;
mod place;
#[cfg(test)]
mod tests;

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
    /// Upload + verification seconds (until the agent's `info` arrived).
    pub deploy_s: f64,
    /// The agent run's seconds (from `info` to the end of the stream).
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

/// Upload the agent to `workdir` at the level, run it, collect, remove it. Two round
/// trips when all goes well: the upload, and one command for the rest.
pub fn measure(
    remote: &mut dyn Remote,
    site: &Site,
    job: &AgentJob<'_>,
    progress: &mut LevelProgress,
) -> Result<Measured, DeployError> {
    let workdir = site.workdir.as_str();
    let place = Place::new(remote.os(), workdir, rand::random());
    let binary = match place {
        Place::Posix { .. } => job.binary,
        Place::Windows { .. } => job.windows_binary.clone().map_err(|why| {
            DeployError::Agent(format!("{} runs Windows: {why}", remote.endpoint()))
        })?,
    };
    let packed = gzip(binary);
    let t0 = Instant::now();
    progress.stage("upload agent");
    if let Err(e) = remote.upload(&packed, &place.upload_path(), 0o644, CONTROL) {
        // Part of it may be there already.
        place.remove(remote);
        return Err(e.into());
    }
    progress.stage("verify agent");
    let mut reply = Reply::default();
    let status = place.run(
        remote,
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
    let t_end = Instant::now();
    // The command removes the agent as its last step; it did not get there when it was
    // cut off or its shell was killed.
    if !matches!(status, Ok(ExecStatus { code: Some(_), .. })) {
        place.remove(remote);
    }
    let (info, outcome, info_at) = reply.conclude(status, binary, &remote.endpoint(), workdir)?;
    Ok(Measured {
        info: Some(info),
        outcome,
        deploy_s: info_at.duration_since(t0).as_secs_f64(),
        suite_s: t_end.duration_since(info_at).as_secs_f64(),
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

/// Everything after the upload, as one command. `path` holds the gzip stream: it is
/// opened, unlinked and unpacked to a new file of the same name (so the agent never
/// has a second name). The first stdout line is "size sha256" of what was unpacked;
/// only when both match `job.binary` do `info` (the second line) and the suite (the
/// protocol stream) run. The agent is removed at the end, and the command exits with
/// the agent's status (1 when it did not run). With `site.keep_agent` a verified agent
/// is moved there instead, for the child's net peer. Pure, so `run --dry-run` prints it.
pub fn deploy_command(path: &str, site: &Site, job: &AgentJob<'_>) -> String {
    let p = shell_quote(path);
    let run = std::iter::once(p.clone())
        .chain(agent_args(job, site).iter().map(|a| shell_quote(a)))
        .collect::<Vec<_>>()
        .join(" ");
    let keep = site.keep_agent.as_ref().map_or(String::new(), |k| {
        let dir = k.rsplit_once('/').map_or(".", |(d, _)| d);
        let dir = if dir.is_empty() { "/" } else { dir };
        format!(
            "{{ mkdir -p {d} && mv -f {p} {k}; }} || ",
            d = shell_quote(dir),
            k = shell_quote(k)
        )
    });
    format!(
        "{{ rm -f {p} && gzip -dc > {p}; }} < {p} && chmod 755 {p}; \
         s=$(wc -c < {p}); h=$(sha256sum {p}); h=${{h%% *}}; echo \"$s $h\"; r=1; \
         if [ \"$s\" = {len} ] && [ \"$h\" = {sha} ]; then {p} info && {run}; r=$?; \
         {keep}rm -f {p}; else rm -f {p}; fi; exit $r",
        len = job.binary.len(),
        sha = hex::encode(Sha256::digest(job.binary)),
    )
}

/// The suite run's arguments: `run --suite S --dir D [--only W,…] [--sizes …]
/// [--llc-mib N] [--net-listen P --net-backend TEXT]`.
fn agent_args(job: &AgentJob<'_>, site: &Site) -> Vec<String> {
    let mut args = vec![
        "run".to_string(),
        "--suite".into(),
        job.suite.to_string(),
        "--dir".into(),
        site.workdir.clone(),
    ];
    if let Some(only) = job.only {
        args.extend(["--only".to_string(), only.join(",")]);
    }
    let sizes = job.sizes.to_string();
    if !sizes.is_empty() {
        args.extend(["--sizes".to_string(), sizes]);
    }
    if let Some(llc) = job.llc_mib {
        args.extend(["--llc-mib".to_string(), llc.to_string()]);
    }
    if let Some(net) = &site.net {
        args.extend([
            "--net-listen".to_string(),
            net.port.to_string(),
            "--net-backend".into(),
            net.backend.clone(),
        ]);
    }
    args
}

/// The deploy command's stdout, taken apart as it arrives: the size/digest line, the
/// `info` line, then the protocol stream.
#[derive(Default)]
struct Reply {
    digest: Option<String>,
    info: Option<(String, Instant)>,
    stream_lines: usize,
    parser: StreamParser,
    finished: Vec<String>,
}

impl Reply {
    /// Take one stdout line; returns the progress stage it starts, if any.
    fn feed(&mut self, line: &str) -> Option<String> {
        if self.digest.is_none() {
            self.digest = Some(line.to_string());
            return None;
        }
        if self.info.is_none() {
            self.info = Some((line.to_string(), Instant::now()));
            return Some("start agent".into());
        }
        self.stream_lines += 1;
        let finished_one = match self.parser.feed(line) {
            LineEvent::Result(w) | LineEvent::NotApplicable(w) | LineEvent::Error(w) => Some(w),
            LineEvent::Begin => None,
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

    /// Judge the whole reply, given how the command ended: the agent's `info`, the
    /// parsed stream, and when `info` arrived. A transport failure before `info` is a
    /// [`DeployError::Remote`]; after it, results received so far are kept. A full disk
    /// while unpacking is reported like one during the upload.
    fn conclude(
        self,
        status: Result<ExecStatus, RemoteError>,
        binary: &[u8],
        endpoint: &str,
        workdir: &str,
    ) -> Result<(HostInfo, StreamOutcome, Instant), DeployError> {
        let want = hex::encode(Sha256::digest(binary));
        if let (None, Err(_)) = (&self.digest, &status) {
            return Err(status.unwrap_err().into());
        }
        let mut words = self.digest.as_deref().unwrap_or("").split_whitespace();
        let size: Option<usize> = words.next().and_then(|w| w.parse().ok());
        let sum = words.next().unwrap_or("");
        if size != Some(binary.len()) || sum != want {
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
                short(&want),
                if why.is_empty() { "" } else { ": " },
            )));
        }
        let does_not_run = |st: &ExecStatus| {
            DeployError::Agent(format!(
                "agent does not run on {endpoint}: exit {:?}: {}",
                st.code,
                st.stderr.trim()
            ))
        };
        let not_json = |why: &dyn std::fmt::Display| {
            DeployError::Agent(format!(
                "agent info on {endpoint} is not valid JSON ({why})"
            ))
        };
        let Some((line, info_at)) = self.info else {
            return Err(match status {
                Err(e) => e.into(),
                Ok(st) if st.code != Some(0) => does_not_run(&st),
                Ok(_) => not_json(&"it printed nothing"),
            });
        };
        let info: HostInfo = match serde_json::from_str(line.trim()) {
            Ok(info) => info,
            Err(e) => {
                return Err(match &status {
                    // `info` failed after printing something: the suite never started.
                    Ok(st) if st.code != Some(0) && self.stream_lines == 0 => does_not_run(st),
                    _ => not_json(&e),
                });
            }
        };
        let mut outcome = self.parser.finish();
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
        Ok((info, outcome, info_at))
    }
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
