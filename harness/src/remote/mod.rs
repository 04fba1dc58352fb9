//! How the controller talks to a level: run a command (with a timeout, its exit status,
//! stdout line by line as it arrives) and put a file there. L0 uses [`local`]; guests
//! and inventory machines use SSH. Deployment and the agent run are written once
//! against this trait, so every level goes through the same code path; what differs
//! on a Windows level (PowerShell, SFTP) hangs off [`Remote::os`], which first
//! contact finds out ([`identify`]).

pub mod identify;
pub mod jump;
pub mod known_hosts;
pub mod local;
mod sftp;
pub mod ssh;
mod ssh_exec;
#[cfg(test)]
mod ssh_tests;

use std::time::Duration;

/// What a finished command left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecStatus {
    /// Exit status; `None` when the remote side gave none (killed by a signal).
    pub code: Option<i32>,
    /// Everything the command wrote on stderr (kept for error messages).
    pub stderr: String,
}

/// A command's full output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// Exit status and stderr.
    pub status: ExecStatus,
    /// Everything written on stdout.
    pub stdout: String,
}

/// Why talking to a level failed. Every message names the level's endpoint.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// Could not connect (refused, unreachable, timed out).
    #[error("cannot reach {endpoint}: {reason}")]
    Connect {
        /// host:port or level name.
        endpoint: String,
        /// What happened.
        reason: String,
    },
    /// The server rejected our key.
    #[error("{endpoint} rejected key {key} for user {user}: check the key and the user's authorized_keys")]
    Auth {
        /// host:port.
        endpoint: String,
        /// User name.
        user: String,
        /// Key file.
        key: String,
    },
    /// The server's host key is not the one on record.
    #[error("host key of {endpoint} does not match {known_hosts}: expected {expected}, got {found}; if the host was legitimately re-keyed, remove its line from {known_hosts}")]
    HostKeyMismatch {
        /// host:port.
        endpoint: String,
        /// The known_hosts file.
        known_hosts: String,
        /// Fingerprint on record.
        expected: String,
        /// Fingerprint presented.
        found: String,
    },
    /// The server's host key is unknown and the policy forbids recording it.
    #[error("host key of {endpoint} ({found}) is not in {known_hosts}: add it, or set host_key_policy = \"accept-new\"")]
    HostKeyUnknown {
        /// host:port.
        endpoint: String,
        /// The known_hosts file.
        known_hosts: String,
        /// Fingerprint presented.
        found: String,
    },
    /// The host key is not the one pinned in the configuration.
    #[error("host key of {endpoint} is not the pinned key: expected {expected}, got {found}; if the host was legitimately re-keyed, update the pinned key")]
    PinnedKeyMismatch {
        /// host:port.
        endpoint: String,
        /// Fingerprint of the pinned key.
        expected: String,
        /// Fingerprint presented.
        found: String,
    },
    /// The level's disk is full where we tried to write.
    #[error("no space left on device at {level} ({dir}): free space or point workdir elsewhere")]
    NoSpace {
        /// Level name (`L3`).
        level: String,
        /// The directory written to.
        dir: String,
    },
    /// A command ran longer than allowed.
    #[error("{what} on {endpoint} did not finish within {secs:.0} s")]
    Timeout {
        /// host:port or level name.
        endpoint: String,
        /// The command (shortened).
        what: String,
        /// The limit.
        secs: f64,
    },
    /// A watched command sent nothing at all — not even its heartbeat — for too long:
    /// the level, or one it runs on, stopped answering.
    #[error("{what} on {endpoint} went silent: nothing arrived for {secs:.0} s, not even the agent's heartbeat, so the level or one below it stopped answering")]
    Silent {
        /// host:port or level name.
        endpoint: String,
        /// The command (shortened).
        what: String,
        /// How long nothing arrived.
        secs: f64,
    },
    /// Anything else on the wire or on disk.
    #[error("{endpoint}: {reason}")]
    Io {
        /// host:port or level name.
        endpoint: String,
        /// What happened.
        reason: String,
    },
}

/// A level the controller can run commands on.
pub trait Remote {
    /// Short description for messages, e.g. `L2 (root@127.0.0.1:2202)`.
    fn endpoint(&self) -> String;

    /// Run `cmd` with `sh -c` semantics, calling `on_line` for each stdout line as it
    /// arrives (without the newline). Fails with [`RemoteError::Timeout`] after `timeout`.
    fn exec_lines(
        &mut self,
        cmd: &str,
        timeout: Duration,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<ExecStatus, RemoteError>;

    /// [`Remote::exec_lines`] for a command that writes something (stdout, or a
    /// heartbeat on stderr) at least every so often: fails with
    /// [`RemoteError::Silent`] once nothing at all arrived for `silence`. The default
    /// ignores `silence`, for levels whose link cannot freeze (a local shell).
    fn exec_lines_watched(
        &mut self,
        cmd: &str,
        timeout: Duration,
        silence: Duration,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<ExecStatus, RemoteError> {
        let _ = silence;
        self.exec_lines(cmd, timeout, on_line)
    }

    /// Write `data` to `path` with the given mode, creating or replacing it.
    fn upload(
        &mut self,
        data: &[u8],
        path: &str,
        mode: u32,
        timeout: Duration,
    ) -> Result<(), RemoteError>;

    /// The level's OS family: Linux (POSIX) unless first contact found Windows
    /// ([`identify::identify`]).
    fn os(&self) -> identify::Os {
        identify::Os::Linux
    }

    /// Run `cmd` and collect its whole output.
    fn exec(&mut self, cmd: &str, timeout: Duration) -> Result<ExecOutput, RemoteError> {
        let mut stdout = String::new();
        let status = self.exec_lines(cmd, timeout, &mut |l| {
            stdout.push_str(l);
            stdout.push('\n');
        })?;
        Ok(ExecOutput { status, stdout })
    }
}

/// Quote `s` for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(shell_quote("/tmp/a-b"), "/tmp/a-b");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
