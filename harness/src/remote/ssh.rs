//! SSH to a level, directly or through any number of jump hosts ([`super::jump`]), on
//! libssh2 (`ssh2`). The host key is verified before authenticating; authentication is
//! by an OpenSSH-format ed25519 key file. Every hop gets the same treatment, so a jump
//! host is as trusted as the level behind it.
//!
//! After connecting, the target's session runs in non-blocking mode under our own
//! poll loop ([`super::ssh_exec`]): each call gets its own deadline from the caller
//! (deep nested guests are slow; nothing here is hard-coded short), stdout and stderr
//! are drained together so neither can stall the channel.
//!
//! Uploads go over SFTP while the server offers it (`sftp.rs`); the first refusal
//! (dropbear) switches this connection to the stream upload for good. A Windows
//! server has no stream to fall back to, so there a refusal is the error.

use super::identify::{self, Identity, Os};
use super::jump::{self, Pump};
use super::known_hosts::{self, Verdict};
use super::sftp::SftpError;
use super::{ssh_exec, ExecStatus, Remote, RemoteError};
use ssh2::{MethodType, Session};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How a level's host key is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyCheck {
    /// known_hosts file (OpenSSH format, hashed entries optional); accept_new = trust
    /// on first use and record it.
    KnownHosts {
        /// The file (created on first `accept_new` record when missing).
        file: PathBuf,
        /// Record an unknown key instead of refusing it.
        accept_new: bool,
    },
    /// The exact key expected, as the base64 blob of an OpenSSH public key line
    /// (`ssh-ed25519 AAAA…`, second field).
    Pinned {
        /// Base64 of the public key blob.
        key_base64: String,
    },
}

/// One SSH endpoint: a level, or a jump host on the way to one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    /// Level name used in messages (`L2`).
    pub name: String,
    /// Host name or address, as seen from the previous hop (or from here).
    pub host: String,
    /// SSH port.
    pub port: u16,
    /// User to log in as.
    pub user: String,
    /// OpenSSH-format private key file (ed25519), without passphrase.
    pub key: PathBuf,
    /// How the host key is verified.
    pub host_key: HostKeyCheck,
}

impl SshTarget {
    /// `L2 (root@10.0.0.2:22)`, the form every message uses.
    pub fn endpoint(&self) -> String {
        format!("{} ({}@{}:{})", self.name, self.user, self.host, self.port)
    }
}

/// An authenticated session on a level, plus the pump threads of the jump hosts it
/// runs through. Dropping it closes the session, then stops every pump, innermost
/// first: no thread, socket or forwarded port outlives it.
pub struct SshRemote {
    conn: Option<(Session, OwnedFd)>,
    pumps: Vec<Pump>,
    target: SshTarget,
    /// Whether SFTP may be tried (false once the server refused it).
    sftp: bool,
    /// The OS first contact found ([`SshRemote::identify`]); POSIX until then.
    os: Os,
}

impl SshRemote {
    /// Connect to `target`, through `via` (outermost jump host first; empty = direct).
    /// `timeout` bounds connect+handshake+auth of the whole chain; every later call
    /// ([`Remote::exec_lines`], [`Remote::upload`]) is bounded by its own timeout.
    pub fn connect(
        target: &SshTarget,
        via: &[SshTarget],
        timeout: Duration,
    ) -> Result<SshRemote, RemoteError> {
        let deadline = Instant::now() + timeout;
        let hops: Vec<&SshTarget> = via.iter().chain(std::iter::once(target)).collect();
        let mut pumps: Vec<Pump> = vec![];
        let first = hops[0];
        let tcp = tcp_connect(first, deadline)?;
        let fd: OwnedFd = tcp.try_clone().map_err(|e| io(first, e))?.into();
        let mut sess = open_session(first, tcp, deadline)?;
        let mut sess_fd = fd;
        for pair in hops.windows(2) {
            let (hop, next) = (pair[0], pair[1]);
            sess.set_timeout(remaining_ms(deadline));
            let channel = sess
                .channel_direct_tcpip(&next.host, next.port, None)
                .map_err(|e| RemoteError::Connect {
                    endpoint: next.endpoint(),
                    reason: format!(
                        "{} could not open a connection to it: {}",
                        hop.name,
                        e.message()
                    ),
                })?;
            let (outer, inner) = UnixStream::pair().map_err(|e| io(next, e))?;
            let inner_fd: OwnedFd = inner.try_clone().map_err(|e| io(next, e))?.into();
            pumps.push(
                jump::spawn(sess, channel, sess_fd, outer, &hop.name).map_err(|e| io(hop, e))?,
            );
            sess = open_session(next, inner, deadline)?;
            sess_fd = inner_fd;
        }
        sess.set_blocking(false);
        // Dropbear (the QEMU guests' server) has no SFTP subsystem, and asking for one
        // there leaves its session unable to start the stream upload's command (seen
        // as "Failed waiting for channel success" at L2 of a QEMU stack): do not ask.
        let sftp = !sess.banner().is_some_and(is_dropbear);
        Ok(SshRemote {
            conn: Some((sess, sess_fd)),
            pumps,
            target: target.clone(),
            sftp,
            os: Os::Linux,
        })
    }

    /// Find out what answered ([`identify::identify`]) and remember its OS, so that
    /// deployment speaks its language from now on.
    pub fn identify(&mut self, timeout: Duration) -> Result<Identity, RemoteError> {
        let id = identify::identify(self, timeout)?;
        self.os = id.probed.os;
        Ok(id)
    }

    /// The server's SSH identification string (`SSH-2.0-OpenSSH_for_Windows_9.5`).
    pub fn banner(&self) -> Option<String> {
        self.conn
            .as_ref()
            .and_then(|(s, _)| s.banner().map(str::to_string))
    }

    fn wire(&self) -> ssh_exec::Wire<'_> {
        let (sess, fd) = self.conn.as_ref().expect("connected until dropped");
        ssh_exec::Wire {
            sess,
            fd,
            target: &self.target,
        }
    }
}

impl Drop for SshRemote {
    fn drop(&mut self) {
        if let Some((sess, fd)) = self.conn.take() {
            let _ = sess.disconnect(None, "done", None);
            drop(sess);
            drop(fd);
        }
        while let Some(p) = self.pumps.pop() {
            drop(p);
        }
    }
}

impl Remote for SshRemote {
    fn endpoint(&self) -> String {
        self.target.endpoint()
    }

    fn exec_lines(
        &mut self,
        cmd: &str,
        timeout: Duration,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<ExecStatus, RemoteError> {
        self.wire()
            .exec_lines(cmd, Instant::now() + timeout, None, on_line)
    }

    fn exec_lines_watched(
        &mut self,
        cmd: &str,
        timeout: Duration,
        silence: Duration,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<ExecStatus, RemoteError> {
        self.wire()
            .exec_lines(cmd, Instant::now() + timeout, Some(silence), on_line)
    }

    fn upload(
        &mut self,
        data: &[u8],
        path: &str,
        mode: u32,
        timeout: Duration,
    ) -> Result<(), RemoteError> {
        let deadline = Instant::now() + timeout;
        if self.sftp {
            match self.wire().sftp_upload(data, path, mode, deadline) {
                Ok(()) => return Ok(()),
                Err(SftpError::Failed(e)) => return Err(e),
                Err(SftpError::Unavailable(why)) if self.os == Os::Windows => {
                    return Err(io(
                        &self.target,
                        format!("offers no SFTP, which uploads to Windows need ({why}): install the OpenSSH Server capability's sftp-server"),
                    ))
                }
                Err(SftpError::Unavailable(_)) => self.sftp = false,
            }
        }
        self.wire().upload(data, path, mode, deadline)
    }

    fn os(&self) -> Os {
        self.os
    }
}

fn io(t: &SshTarget, e: impl std::fmt::Display) -> RemoteError {
    RemoteError::Io {
        endpoint: t.endpoint(),
        reason: e.to_string(),
    }
}

fn remaining_ms(deadline: Instant) -> u32 {
    let ms = deadline
        .saturating_duration_since(Instant::now())
        .as_millis();
    ms.clamp(1, u32::MAX as u128) as u32
}

fn tcp_connect(t: &SshTarget, deadline: Instant) -> Result<TcpStream, RemoteError> {
    let fail = |reason: String| RemoteError::Connect {
        endpoint: t.endpoint(),
        reason,
    };
    let addrs: Vec<_> = (t.host.as_str(), t.port)
        .to_socket_addrs()
        .map_err(|e| fail(format!("cannot resolve {}: {e}", t.host)))?
        .collect();
    let mut last = format!("{} has no address", t.host);
    for a in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            last = "timed out".into();
            break;
        }
        match TcpStream::connect_timeout(&a, left) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(fail(last))
}

/// Handshake over `stream`, verify the host key, authenticate. Blocking, bounded by
/// `deadline`.
fn open_session<S: 'static + std::os::fd::AsRawFd>(
    t: &SshTarget,
    stream: S,
    deadline: Instant,
) -> Result<Session, RemoteError> {
    let mut sess = Session::new().map_err(|e| io(t, e))?;
    sess.set_tcp_stream(stream);
    sess.set_timeout(remaining_ms(deadline));
    let known = match &t.host_key {
        HostKeyCheck::KnownHosts { file, .. } => match std::fs::read_to_string(file) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(io(t, format!("cannot read {}: {e}", file.display()))),
        },
        HostKeyCheck::Pinned { .. } => String::new(),
    };
    prefer_known_key_types(&sess, &known, t);
    sess.handshake().map_err(|e| {
        let reason = if e.code() == ssh2::ErrorCode::Session(-9) {
            "timed out during the SSH handshake".to_string()
        } else {
            format!("SSH handshake failed: {}", e.message())
        };
        RemoteError::Connect {
            endpoint: t.endpoint(),
            reason,
        }
    })?;
    verify_host_key(&sess, &known, t)?;
    let key = &t.key;
    if let Err(e) = std::fs::File::open(key) {
        return Err(io(t, format!("cannot read key {}: {e}", key.display())));
    }
    sess.set_timeout(remaining_ms(deadline));
    sess.userauth_pubkey_file(&t.user, None, key, None)
        .map_err(|e| match e.code() {
            ssh2::ErrorCode::Session(-9) => RemoteError::Connect {
                endpoint: t.endpoint(),
                reason: "timed out during authentication".into(),
            },
            _ => RemoteError::Auth {
                endpoint: t.endpoint(),
                user: t.user.clone(),
                key: key.display().to_string(),
            },
        })?;
    if !sess.authenticated() {
        return Err(RemoteError::Auth {
            endpoint: t.endpoint(),
            user: t.user.clone(),
            key: key.display().to_string(),
        });
    }
    Ok(sess)
}

/// Ask the server for a key type already on record, as OpenSSH does.
fn prefer_known_key_types(sess: &Session, known: &str, t: &SshTarget) {
    let mut types = match &t.host_key {
        HostKeyCheck::Pinned { key_base64 } => known_hosts::base64_decode(key_base64)
            .and_then(|b| known_hosts::key_type(&b).map(str::to_string))
            .into_iter()
            .collect(),
        HostKeyCheck::KnownHosts { .. } => known_hosts::known_types(known, &t.host, t.port),
    };
    let Ok(supported) = sess.supported_algs(MethodType::HostKey) else {
        return;
    };
    types.retain(|k| supported.contains(&k.as_str()));
    if types.is_empty() {
        return;
    }
    for s in supported {
        if !types.iter().any(|k| k == s) {
            types.push(s.to_string());
        }
    }
    let _ = sess.method_pref(MethodType::HostKey, &types.join(","));
}

fn verify_host_key(sess: &Session, known: &str, t: &SshTarget) -> Result<(), RemoteError> {
    let blob = sess
        .host_key()
        .map(|(b, _)| b.to_vec())
        .ok_or_else(|| io(t, "server presented no host key"))?;
    let found = known_hosts::fingerprint(&blob);
    match &t.host_key {
        HostKeyCheck::Pinned { key_base64 } => {
            if known_hosts::base64_decode(key_base64.trim()).as_deref() == Some(&blob[..]) {
                return Ok(());
            }
            let expected = known_hosts::base64_decode(key_base64.trim())
                .map(|b| known_hosts::fingerprint(&b))
                .unwrap_or_else(|| "an unreadable pinned key".into());
            Err(RemoteError::PinnedKeyMismatch {
                endpoint: t.endpoint(),
                expected,
                found,
            })
        }
        HostKeyCheck::KnownHosts { file, accept_new } => {
            let known_hosts = file.display().to_string();
            match known_hosts::check(known, &t.host, t.port, &blob) {
                Verdict::Match => Ok(()),
                Verdict::Mismatch { expected } => Err(RemoteError::HostKeyMismatch {
                    endpoint: t.endpoint(),
                    known_hosts,
                    expected,
                    found,
                }),
                Verdict::Revoked => Err(RemoteError::HostKeyMismatch {
                    endpoint: t.endpoint(),
                    known_hosts,
                    expected: "not this key (it is marked @revoked)".into(),
                    found,
                }),
                Verdict::Unknown if *accept_new => {
                    known_hosts::record(file, &t.host, t.port, &blob).map_err(|e| {
                        io(
                            t,
                            format!("cannot record its host key in {known_hosts}: {e}"),
                        )
                    })
                }
                Verdict::Unknown => Err(RemoteError::HostKeyUnknown {
                    endpoint: t.endpoint(),
                    known_hosts,
                    found,
                }),
            }
        }
    }
}

/// Whether an SSH identification string (`SSH-2.0-dropbear_2022.83`) is dropbear's.
pub(crate) fn is_dropbear(banner: &str) -> bool {
    banner.to_ascii_lowercase().contains("dropbear")
}
