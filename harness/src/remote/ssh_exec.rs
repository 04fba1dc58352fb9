//! Commands and uploads on a connected, non-blocking SSH session. One poll loop
//! drains stdout (split into lines as they arrive) and stderr together, so a chatty
//! stderr can never fill the channel window and stall stdout, and every wait is
//! bounded by the caller's deadline.
//!
//! The stream upload here needs nothing on the far side but a shell, `cat`, `chmod`
//! and `mv` (a busybox + dropbear guest has no SFTP server and no scp): the bytes are
//! streamed into `cat > PATH.tmp` over the channel's stdin and renamed into place only
//! once complete, so a partial file never carries the final name. Servers with SFTP
//! get [`super::sftp`] instead.

use super::jump::{directions, poll2};
use super::ssh::SshTarget;
use super::{shell_quote, ExecStatus, RemoteError};
use ssh2::{Channel, Session};
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// libssh2's "would block".
const EAGAIN: ssh2::ErrorCode = ssh2::ErrorCode::Session(-37);

/// A session and its socket, for one call.
pub(crate) struct Wire<'a> {
    /// The authenticated, non-blocking session.
    pub(crate) sess: &'a Session,
    /// A duplicate of the session's socket, for poll(2).
    pub(crate) fd: &'a OwnedFd,
    /// The level, for messages.
    pub(crate) target: &'a SshTarget,
}

/// A command as errors name it: its first 60 characters (some are whole scripts).
fn short(what: &str) -> String {
    what.chars().take(60).collect()
}

/// Output of a channel collected so far.
#[derive(Default)]
struct Collected {
    partial: Vec<u8>,
    stderr: Vec<u8>,
}

impl Wire<'_> {
    pub(super) fn io(&self, e: impl std::fmt::Display) -> RemoteError {
        RemoteError::Io {
            endpoint: self.target.endpoint(),
            reason: e.to_string(),
        }
    }

    pub(super) fn timeout(&self, what: &str, deadline: Instant, started: Instant) -> RemoteError {
        RemoteError::Timeout {
            endpoint: self.target.endpoint(),
            what: short(what),
            secs: deadline.saturating_duration_since(started).as_secs_f64(),
        }
    }

    /// Sleep until the socket is ready the way libssh2 needs; false once past
    /// `deadline`.
    fn wait(&self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let (r, w) = directions(self.sess);
        poll2(
            (self.fd.as_raw_fd(), r, w),
            (-1, false, false),
            left.min(Duration::from_millis(500)),
        );
        true
    }

    /// Repeat a libssh2 call until it stops saying "would block".
    fn retry<T>(
        &self,
        what: &str,
        deadline: Instant,
        started: Instant,
        mut f: impl FnMut() -> Result<T, ssh2::Error>,
    ) -> Result<T, RemoteError> {
        loop {
            match f() {
                Ok(v) => return Ok(v),
                Err(e) if e.code() == EAGAIN => {
                    if !self.wait(deadline) {
                        return Err(self.timeout(what, deadline, started));
                    }
                }
                Err(e) => return Err(self.io(format!("{}: {}", short(what), e.message()))),
            }
        }
    }

    /// Read whatever stdout/stderr has now; returns whether anything arrived.
    fn drain(
        &self,
        ch: &mut Channel,
        got: &mut Collected,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<bool, RemoteError> {
        let mut buf = [0u8; 32 * 1024];
        let mut progress = false;
        loop {
            match ch.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    progress = true;
                    got.partial.extend_from_slice(&buf[..n]);
                    while let Some(i) = got.partial.iter().position(|&b| b == b'\n') {
                        let line: Vec<u8> = got.partial.drain(..=i).collect();
                        on_line(clean(&line[..i]).as_ref());
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => return Err(self.io(format!("reading command output: {e}"))),
            }
        }
        loop {
            match ch.stderr().read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    progress = true;
                    got.stderr.extend_from_slice(&buf[..n]);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => return Err(self.io(format!("reading command stderr: {e}"))),
            }
        }
        Ok(progress)
    }

    /// Read until the command's output ends, then fetch its exit status; with
    /// `silence`, give up once nothing at all arrived for that long.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        ch: &mut Channel,
        got: &mut Collected,
        what: &str,
        deadline: Instant,
        silence: Option<Duration>,
        started: Instant,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<ExecStatus, RemoteError> {
        let mut heard = Instant::now();
        loop {
            let progress = self.drain(ch, got, on_line)?;
            if ch.eof() {
                break;
            }
            if progress {
                heard = Instant::now();
                continue;
            }
            if let Some(s) = silence.filter(|s| heard.elapsed() >= *s) {
                let _ = ch.close();
                return Err(RemoteError::Silent {
                    endpoint: self.target.endpoint(),
                    what: short(what),
                    secs: s.as_secs_f64(),
                });
            }
            if !self.wait(deadline) {
                let _ = ch.close();
                return Err(self.timeout(what, deadline, started));
            }
        }
        if !got.partial.is_empty() {
            let rest = std::mem::take(&mut got.partial);
            on_line(clean(&rest).as_ref());
        }
        self.retry(what, deadline, started, || ch.wait_close())?;
        let signal = ch.exit_signal().ok().and_then(|s| s.exit_signal);
        let code = match signal {
            Some(_) => None,
            None => Some(ch.exit_status().map_err(|e| self.io(e))?),
        };
        Ok(ExecStatus {
            code,
            stderr: String::from_utf8_lossy(&got.stderr).into_owned(),
        })
    }

    fn open(&self, cmd: &str, deadline: Instant, started: Instant) -> Result<Channel, RemoteError> {
        let mut ch = self.retry(cmd, deadline, started, || self.sess.channel_session())?;
        self.retry(cmd, deadline, started, || ch.exec(cmd))?;
        Ok(ch)
    }

    /// Run `cmd`, streaming stdout lines to `on_line`, until `deadline`.
    pub(crate) fn exec_lines(
        &self,
        cmd: &str,
        deadline: Instant,
        silence: Option<Duration>,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<ExecStatus, RemoteError> {
        let started = Instant::now();
        let mut ch = self.open(cmd, deadline, started)?;
        let mut got = Collected::default();
        self.finish(&mut ch, &mut got, cmd, deadline, silence, started, on_line)
    }

    /// Write `data` to `path` (mode `mode`) through `cat`, until `deadline`.
    pub(crate) fn upload(
        &self,
        data: &[u8],
        path: &str,
        mode: u32,
        deadline: Instant,
    ) -> Result<(), RemoteError> {
        let started = Instant::now();
        let (p, tmp) = (shell_quote(path), shell_quote(&format!("{path}.tmp")));
        let cmd = format!(
            "cat > {tmp} && chmod {mode:o} {tmp} && mv -f {tmp} {p} || {{ rm -f {tmp}; exit 1; }}"
        );
        let what = format!("upload to {path}");
        let mut ch = self.open(&cmd, deadline, started)?;
        let mut got = Collected::default();
        let mut ignore = |_: &str| {};
        let mut off = 0;
        // Stop writing early if the far side gave up (e.g. a full disk): its stderr
        // and exit status then say why.
        while off < data.len() && !ch.eof() {
            match ch.write(&data[off..(off + 256 * 1024).min(data.len())]) {
                Ok(n) => off += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if !self.drain(&mut ch, &mut got, &mut ignore)? && !self.wait(deadline) {
                        let _ = ch.close();
                        return Err(self.timeout(&what, deadline, started));
                    }
                }
                Err(_) => break,
            }
        }
        if off == data.len() {
            // A send_eof refused because the channel is closing is fine too.
            let _ = self.retry(&what, deadline, started, || ch.send_eof());
        }
        let st = self.finish(
            &mut ch,
            &mut got,
            &what,
            deadline,
            None,
            started,
            &mut ignore,
        )?;
        if st.code == Some(0) && off == data.len() {
            return Ok(());
        }
        let dir = path
            .rsplit_once('/')
            .map_or(".", |(d, _)| if d.is_empty() { "/" } else { d });
        let stderr = st.stderr.trim();
        if stderr.to_ascii_lowercase().contains("no space left") {
            return Err(RemoteError::NoSpace {
                level: self.target.name.clone(),
                dir: dir.to_string(),
            });
        }
        Err(self.io(format!(
            "upload to {path} failed after {off} of {} bytes (exit {:?}): {}",
            data.len(),
            st.code,
            stderr.lines().last().unwrap_or("no message")
        )))
    }
}

/// A line as text, without a trailing CR.
fn clean(line: &[u8]) -> std::borrow::Cow<'_, str> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    String::from_utf8_lossy(line)
}
