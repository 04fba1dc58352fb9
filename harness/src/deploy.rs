//! Deploy, run, collect: the backend-independent part of measuring a level. The agent
//! is uploaded once, verified (size and SHA-256), asked for `info`, run with the
//! suite while its protocol stream is parsed line by line, and removed afterwards —
//! with its files — whatever happened.

use crate::progress::LevelProgress;
use crate::remote::{shell_quote, Remote, RemoteError};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use workloads::protocol::{LineEvent, StreamOutcome, StreamParser};
use workloads::{HostInfo, Sizes, Suite};

/// The agent binary and how to run it.
pub struct AgentJob<'a> {
    /// The static agent's bytes.
    pub binary: &'a [u8],
    /// Suite to run.
    pub suite: Suite,
    /// Workloads to run (all when `None`).
    pub only: Option<&'a [String]>,
    /// The run's working-set sizes.
    pub sizes: Sizes,
}

/// What measuring a level produced. `outcome.failure` set means the agent failed.
pub struct Measured {
    /// The agent's `info`.
    pub info: Option<HostInfo>,
    /// The parsed stream (results kept even when it broke).
    pub outcome: StreamOutcome,
    /// Upload + verification seconds.
    pub deploy_s: f64,
    /// The agent run's seconds.
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

fn suite_timeout(suite: Suite) -> Duration {
    // Rates over a time budget keep a suite about as long at L4 as at L0, but setup
    // (first touch, pre-written files) and SSH itself are far slower deep down.
    Duration::from_secs(match suite {
        Suite::Smoke => 900,
        Suite::Quick => 1800,
        Suite::Standard => 5400,
    })
}

/// Upload the agent to `workdir` at the level, run it, collect, remove it.
pub fn measure(
    remote: &mut dyn Remote,
    workdir: &str,
    job: &AgentJob<'_>,
    progress: &mut LevelProgress,
) -> Result<Measured, DeployError> {
    let t0 = Instant::now();
    let tag: u32 = rand::random();
    let path = format!(
        "{}/nestbench-agent-{tag:08x}",
        workdir.trim_end_matches('/')
    );
    progress.stage("upload agent");
    let ctl = Duration::from_secs(300);
    remote.upload(job.binary, &path, 0o755, ctl)?;
    // From here on the binary exists remotely: remove it on every path.
    let result = run_uploaded(remote, &path, workdir, job, progress, t0);
    let _ = remote.exec(&format!("rm -f {}", shell_quote(&path)), ctl);
    result
}

fn run_uploaded(
    remote: &mut dyn Remote,
    path: &str,
    workdir: &str,
    job: &AgentJob<'_>,
    progress: &mut LevelProgress,
    t0: Instant,
) -> Result<Measured, DeployError> {
    let ctl = Duration::from_secs(300);
    progress.stage("verify agent");
    let want = hex::encode(Sha256::digest(job.binary));
    let qp = shell_quote(path);
    // One round trip (they cost seconds at deep levels): report size and digest, and
    // run `info` only when both match what was sent.
    let cmd = format!(
        "s=$(wc -c < {qp}); h=$(sha256sum {qp}); h=${{h%% *}}; echo \"$s $h\"; \
         [ \"$s\" = {len} ] && [ \"$h\" = {want} ] && exec {qp} info",
        len = job.binary.len()
    );
    let out = remote.exec(&cmd, ctl)?;
    let (first, rest) = out
        .stdout
        .split_once('\n')
        .unwrap_or((out.stdout.as_str(), ""));
    let mut words = first.split_whitespace();
    let size: Option<usize> = words.next().and_then(|w| w.parse().ok());
    let sum = words.next().unwrap_or("");
    if size != Some(job.binary.len()) || sum != want {
        return Err(DeployError::Agent(format!(
            "agent upload to {} is corrupt (size {:?} vs {}, sha256 {} vs {}); check free space in {workdir}",
            remote.endpoint(),
            size,
            job.binary.len(),
            short(sum),
            short(&want)
        )));
    }
    if out.status.code != Some(0) {
        return Err(DeployError::Agent(format!(
            "agent does not run on {}: exit {:?}: {}",
            remote.endpoint(),
            out.status.code,
            out.status.stderr.trim()
        )));
    }
    let info: HostInfo = serde_json::from_str(rest.trim()).map_err(|e| {
        DeployError::Agent(format!(
            "agent info on {} is not valid JSON ({e})",
            remote.endpoint()
        ))
    })?;
    let deploy_s = t0.elapsed().as_secs_f64();

    let mut cmd = format!(
        "{qp} run --suite {} --dir {}",
        job.suite,
        shell_quote(workdir)
    );
    if let Some(only) = job.only {
        cmd.push_str(&format!(" --only {}", shell_quote(&only.join(","))));
    }
    let sizes = job.sizes.to_string();
    if !sizes.is_empty() {
        cmd.push_str(&format!(" --sizes {sizes}"));
    }
    let t1 = Instant::now();
    let mut parser = StreamParser::new();
    let mut finished: Vec<String> = vec![];
    progress.stage("start agent");
    let status = remote.exec_lines(&cmd, suite_timeout(job.suite), &mut |line| {
        let finished_one = match parser.feed(line) {
            LineEvent::Result(w) | LineEvent::Error(w) => Some(w),
            LineEvent::Begin => None,
            _ => return,
        };
        if let Some(w) = finished_one {
            if !finished.contains(&w) {
                finished.push(w);
            }
        }
        let planned = parser
            .outcome()
            .begin
            .as_ref()
            .map(|b| b.workloads.clone())
            .unwrap_or_default();
        let next = planned.iter().find(|w| !finished.contains(w));
        progress.stage(&match next {
            Some(w) => format!("workload {}/{}: {w}", finished.len() + 1, planned.len()),
            None => "collect".to_string(),
        });
    });
    let suite_s = t1.elapsed().as_secs_f64();
    let mut outcome = parser.finish();
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
    Ok(Measured {
        info: Some(info),
        outcome,
        deploy_s,
        suite_s,
    })
}

fn short(s: &str) -> &str {
    &s[..s.len().min(12)]
}

fn last_line(s: &str) -> &str {
    s.trim().lines().last().unwrap_or("no stderr")
}
