//! Jump hosts without ProxyJump (docs/ARCHITECTURE.md, "Remote"). libssh2 cannot layer
//! one session on a channel of another, so each hop is bridged through a socket pair: a
//! `direct-tcpip` channel on the parent session is pumped to one end of a
//! `UnixStream::pair()`, and the child session runs on the other end as if it were a
//! TCP socket. The parent session is put in non-blocking mode for the pump and is owned
//! by the pump thread alone (sessions are not thread-safe), so a chain L1→L2→L3 has two
//! pump threads and the caller keeps only the innermost session.
//!
//! A pump ends when either side closes, on an error, or when its [`Pump`] handle is
//! dropped; ending it drops the parent session, which closes the parent's own socket
//! and so ends the pump one hop further out. Dropping the handle joins the thread.

use ssh2::{BlockDirections, Channel, Session};
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a pump sleeps in poll(2) before it looks at its stop flag again.
const TICK: Duration = Duration::from_millis(100);

/// A running pump thread; dropping it stops and joins the thread.
pub(crate) struct Pump {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for Pump {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Start pumping between `channel` (opened on `sess`, whose socket is `sess_fd`) and
/// `local`. The thread takes ownership of all of them.
pub(crate) fn spawn(
    sess: Session,
    channel: Channel,
    sess_fd: OwnedFd,
    local: UnixStream,
    label: &str,
) -> std::io::Result<Pump> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    local.set_nonblocking(true)?;
    let handle = std::thread::Builder::new()
        .name(format!("ssh-jump-{label}"))
        .spawn(move || {
            sess.set_blocking(false);
            let mut channel = channel;
            pump(&sess, &mut channel, &sess_fd, &local, &flag);
            // Best effort: tell the parent the channel is done, then let the drops
            // close everything (channel, session, its socket, our socket-pair end).
            let _ = channel.close();
            let _ = sess.disconnect(None, "jump done", None);
        })?;
    Ok(Pump {
        stop,
        handle: Some(handle),
    })
}

fn pump(
    sess: &Session,
    ch: &mut Channel,
    sess_fd: &OwnedFd,
    local: &UnixStream,
    stop: &AtomicBool,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut to_local: Vec<u8> = vec![];
    let mut to_remote: Vec<u8> = vec![];
    let mut local_ref = local;
    while !stop.load(Ordering::SeqCst) {
        let mut progress = false;
        if to_local.is_empty() {
            match ch.read(&mut buf) {
                Ok(0) if ch.eof() => return,
                Ok(0) => {}
                Ok(n) => {
                    to_local.extend_from_slice(&buf[..n]);
                    progress = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
        if !to_local.is_empty() {
            match local_ref.write(&to_local) {
                Ok(n) => {
                    to_local.drain(..n);
                    progress = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
        if to_remote.is_empty() {
            match local_ref.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    to_remote.extend_from_slice(&buf[..n]);
                    progress = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
        if !to_remote.is_empty() {
            match ch.write(&to_remote) {
                Ok(n) => {
                    to_remote.drain(..n);
                    progress = n > 0 || progress;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
        if progress {
            continue;
        }
        let (sess_in, sess_out) = directions(sess);
        let _ = poll2(
            (
                local.as_raw_fd(),
                to_remote.is_empty(),
                !to_local.is_empty(),
            ),
            (sess_fd.as_raw_fd(), sess_in, sess_out),
            TICK,
        );
    }
}

/// Which ways the session's socket must become ready before libssh2 can go on
/// (reading is always of interest: the peer may send at any time).
pub(crate) fn directions(sess: &Session) -> (bool, bool) {
    let out = matches!(
        sess.block_directions(),
        BlockDirections::Outbound | BlockDirections::Both
    );
    (true, out)
}

/// poll(2) on up to two descriptors, each `(fd, want_read, want_write)`; returns
/// whether anything became ready before `timeout`.
pub(crate) fn poll2(a: (RawFd, bool, bool), b: (RawFd, bool, bool), timeout: Duration) -> bool {
    let ev =
        |r: bool, w: bool| (if r { libc::POLLIN } else { 0 }) | (if w { libc::POLLOUT } else { 0 });
    let mut fds = [
        libc::pollfd {
            fd: a.0,
            events: ev(a.1, a.2),
            revents: 0,
        },
        libc::pollfd {
            fd: b.0,
            events: ev(b.1, b.2),
            revents: 0,
        },
    ];
    let n = if b.0 < 0 { 1 } else { 2 };
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: `fds` is a live array of `n` initialised pollfd structs.
    unsafe { libc::poll(fds.as_mut_ptr(), n, ms) > 0 }
}
