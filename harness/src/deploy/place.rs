//! Where the agent goes on a level and how the one command after the upload is run:
//! a POSIX shell command (`command.rs`) on Linux, the `deploy_agent` PowerShell
//! operation on Windows. Both print the same lines — "size sha256" of what was
//! unpacked, then the protocol stream, whose begin record carries the level's `info` —
//! and remove the agent as their last step, so [`super::measure`] is the same for
//! both.

use super::command::{agent_args, deploy_command, drive_command};
use super::{AgentJob, Site, CLEANUP};
use crate::powershell::{self, scripts};
use crate::remote::identify::Os;
use crate::remote::{shell_quote, ExecStatus, Remote, RemoteError};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// How long a Linux level's deploy command may send nothing at all before the level
/// counts as no longer answering ([`RemoteError::Silent`]): the agent writes a
/// heartbeat every quarter of it ([`heartbeat`]), and the steps before the agent runs
/// (copy, verify) take seconds even at L4. A hung level used to hold the run for the
/// whole suite limit (35 min for quick). `NESTBENCH_SILENCE_S` overrides it (tests).
pub fn silence() -> Duration {
    let s = std::env::var("NESTBENCH_SILENCE_S")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s >= 4)
        .unwrap_or(180);
    Duration::from_secs(s)
}

/// The agent's heartbeat period for [`silence`]: a quarter of it, so that three
/// heartbeats may be late before the level counts as silent.
pub fn heartbeat() -> Duration {
    silence() / 4
}

/// The agent's path(s) at one level.
pub(super) enum Place {
    /// The gzip stream is uploaded to the agent's own path and unpacked in place.
    Posix {
        /// The agent.
        path: String,
    },
    /// The gzip stream is uploaded beside the `.exe` it unpacks to (Windows will not
    /// run a program without the extension).
    Windows {
        /// The upload (`….exe.gz`), a Windows path.
        packed: String,
        /// The agent, a Windows path.
        exe: String,
    },
}

impl Place {
    /// The agent's place in `workdir` at a level running `os`, named by `tag`.
    pub(super) fn new(os: Os, workdir: &str, tag: u32) -> Place {
        let name = format!("nestbench-agent-{tag:08x}");
        match os {
            Os::Linux => Place::Posix {
                path: format!("{}/{name}", workdir.trim_end_matches('/')),
            },
            Os::Windows => {
                let exe = powershell::join(workdir, &format!("{name}.exe"));
                Place::Windows {
                    packed: format!("{exe}.gz"),
                    exe,
                }
            }
        }
    }

    /// Where the gzip stream is uploaded, as the level's upload names it.
    pub(super) fn upload_path(&self) -> String {
        match self {
            Place::Posix { path } => path.clone(),
            Place::Windows { packed, .. } => powershell::sftp_path(packed),
        }
    }

    /// The command after the agent's arrival — from the upload, or (`drive`, Linux
    /// only) off the agent drive at that device: unpack or copy, verify against
    /// `binary`, run, remove.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn run(
        &self,
        remote: &mut dyn Remote,
        drive: Option<&str>,
        site: &Site,
        job: &AgentJob<'_>,
        binary: &[u8],
        timeout: Duration,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<ExecStatus, RemoteError> {
        match self {
            Place::Posix { path } => {
                let cmd = match drive {
                    Some(dev) => drive_command(path, dev, site, job),
                    None => deploy_command(path, site, job),
                };
                remote.exec_lines_watched(&cmd, timeout, silence(), on_line)
            }
            Place::Windows { packed, exe } => {
                let input = serde_json::json!({
                    "packed": packed,
                    "exe": exe,
                    "size": binary.len(),
                    "sha256": hex::encode(Sha256::digest(binary)),
                    "run": agent_args(job, site),
                });
                powershell::run(
                    remote,
                    &scripts::DEPLOY_AGENT,
                    &input,
                    &site.workdir,
                    timeout,
                    on_line,
                )
            }
        }
    }

    /// Best-effort removal, for when the command could not do it.
    pub(super) fn remove(&self, remote: &mut dyn Remote) {
        match self {
            Place::Posix { path } => {
                let _ = remote.exec(&format!("rm -f {}", shell_quote(path)), CLEANUP);
            }
            Place::Windows { packed, exe } => {
                let input = serde_json::json!({ "paths": [packed, exe] });
                let script = scripts::assemble(&scripts::REMOVE_FILES, &input);
                if let powershell::Invocation::Encoded(line) = powershell::invocation(&script) {
                    let _ = remote.exec(&line, CLEANUP);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_gets_a_windows_name_and_an_sftp_path_on_windows() {
        let Place::Windows { packed, exe } = Place::new(Os::Windows, "C:\\Temp\\", 0xab) else {
            panic!("not a Windows place")
        };
        assert_eq!(exe, "C:\\Temp\\nestbench-agent-000000ab.exe");
        assert_eq!(packed, "C:\\Temp\\nestbench-agent-000000ab.exe.gz");
        let place = Place::new(Os::Windows, "C:\\Temp", 0xab);
        assert_eq!(
            place.upload_path(),
            "/C:/Temp/nestbench-agent-000000ab.exe.gz"
        );
        let posix = Place::new(Os::Linux, "/tmp/", 1);
        assert_eq!(posix.upload_path(), "/tmp/nestbench-agent-00000001");
    }
}
