//! L0: the machine running nestbench. Commands run under `sh -c` as child processes
//! so the agent at L0 goes through exactly the code path it takes at every other level.

use super::{ExecStatus, Remote, RemoteError};
use crate::cleanup::{PathGuard, ProcessGuard};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Runs commands on this machine. Uploaded files are guarded until removed, so Ctrl-C
/// during an L0 run leaves no agent copy behind.
#[derive(Debug, Default)]
pub struct LocalRemote {
    uploads: Vec<PathGuard>,
}

impl LocalRemote {
    fn io(reason: impl std::fmt::Display) -> RemoteError {
        RemoteError::Io {
            endpoint: "L0 (local)".into(),
            reason: reason.to_string(),
        }
    }
}

impl Remote for LocalRemote {
    fn endpoint(&self) -> String {
        "L0 (local)".into()
    }

    fn exec_lines(
        &mut self,
        cmd: &str,
        timeout: Duration,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<ExecStatus, RemoteError> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| Self::io(format!("cannot start sh: {e}")))?;
        // On SIGINT/SIGTERM the whole group (sh and what it started) is terminated.
        let guard = ProcessGuard::group(child.id(), "L0 command");
        let stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let err_thread = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let (tx, rx) = mpsc::channel::<String>();
        let out_thread = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + timeout;
        let mut timed_out = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(line) => on_line(&line),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if Instant::now() >= deadline {
                        timed_out = true;
                        // The whole group: `sh -c` may have children holding stdout.
                        // SAFETY: kill(2) on a process group we created; no memory involved.
                        unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                        break;
                    }
                }
            }
        }
        let status = child.wait().map_err(Self::io)?;
        guard.release();
        let _ = out_thread.join();
        let stderr = err_thread.join().unwrap_or_default();
        if timed_out {
            return Err(RemoteError::Timeout {
                endpoint: self.endpoint(),
                what: cmd.chars().take(60).collect(),
                secs: timeout.as_secs_f64(),
            });
        }
        Ok(ExecStatus {
            code: status.code(),
            stderr,
        })
    }

    fn upload(
        &mut self,
        data: &[u8],
        path: &str,
        mode: u32,
        _timeout: Duration,
    ) -> Result<(), RemoteError> {
        self.uploads.retain(|g| g.path().exists());
        self.uploads.push(PathGuard::new(path));
        std::fs::write(path, data).map_err(|e| Self::io(format!("cannot write {path}: {e}")))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| Self::io(format!("cannot chmod {path}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_lines_and_reports_status() {
        let mut r = LocalRemote::default();
        let mut lines = vec![];
        let st = r
            .exec_lines(
                "echo a; echo b; echo oops >&2; exit 3",
                Duration::from_secs(10),
                &mut |l| lines.push(l.to_string()),
            )
            .unwrap();
        assert_eq!(lines, ["a", "b"]);
        assert_eq!(st.code, Some(3));
        assert_eq!(st.stderr.trim(), "oops");
    }

    #[test]
    fn times_out() {
        let mut r = LocalRemote::default();
        let e = r.exec("sleep 5", Duration::from_millis(300)).unwrap_err();
        assert!(matches!(e, RemoteError::Timeout { .. }), "{e}");
    }

    #[test]
    fn uploads_with_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.sh");
        let mut r = LocalRemote::default();
        r.upload(
            b"#!/bin/sh\necho hi\n",
            p.to_str().unwrap(),
            0o755,
            Duration::from_secs(5),
        )
        .unwrap();
        let out = r.exec(p.to_str().unwrap(), Duration::from_secs(5)).unwrap();
        assert_eq!(out.stdout, "hi\n");
    }
}
