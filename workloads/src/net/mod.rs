//! net.tcp's two ends and the few bytes they speak, shared by the measured level's
//! agent (the driver, [`crate::kernels::net`]) and its parent's (`nestbench-agent
//! net-peer`, [`peer`]).
//!
//! The measured level is the one that times: its agent listens on a port that its
//! parent's QEMU forwards to it (`hostfwd`, so the level's `restrict=on` user network
//! stays closed), and a peer started in the parent for this measurement only connects
//! in through that forward and then does what the driver asks. The parent is otherwise
//! idle (its own suite is over), so the level is still measured while it is the
//! deepest level running. L0 has no parent: its agent starts a peer thread of its own
//! and measures over loopback, a reference only.
//!
//! Knocking: the parent's QEMU accepts a connection on its forward at once and only
//! then tries the child, so a connected socket proves nothing — a knock made while the
//! child booted can hang there forever. So the agent's acceptor (a thread from the
//! start of its run, [`Acceptor`]) answers every connection with [`WAITING`], the peer
//! that sees it within [`KNOCK_WAIT`] answers [`ARMED`] and keeps that connection;
//! every other knock is dropped and made again.
//!
//! Wire format, after the driver's [`HELLO`] and the peer's echo of it: commands of
//! nine bytes, an opcode and a little-endian u64 argument — [`SINK`] n (the peer reads
//! n bytes, then answers one [`ACK`]), [`SOURCE`] n (the peer writes n bytes), [`ECHO`]
//! n (n times: the peer reads one byte and writes it back), [`QUIT`].

pub mod peer;

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The agent's first byte on a knock: a real agent is here.
pub const WAITING: u8 = b'W';
/// The peer's answer: it keeps this connection.
pub const ARMED: u8 = b'A';
/// How long either side waits for the other's knock byte.
pub const KNOCK_WAIT: Duration = Duration::from_secs(3);

/// The driver's greeting; the peer answers with the same bytes.
pub const HELLO: &[u8; 8] = b"NBNET1\n\0";
/// Read n bytes, then answer [`ACK`].
pub const SINK: u8 = b'S';
/// Write n bytes.
pub const SOURCE: u8 = b'R';
/// Echo n one-byte messages.
pub const ECHO: u8 = b'E';
/// End the session.
pub const QUIT: u8 = b'Q';
/// The peer's answer to a [`SINK`].
pub const ACK: u8 = b'k';
/// Size of each write or read of the throughput transfers.
pub const CHUNK: usize = 64 * 1024;

/// The agent's side of the knock: a thread accepting on the listener until one
/// connection completes it, which net.tcp then takes ([`Acceptor::take`]).
#[derive(Debug, Default)]
pub struct Acceptor {
    slot: Mutex<Option<TcpStream>>,
    ready: Condvar,
}

impl Acceptor {
    /// Starts accepting on `listener` in a thread of its own (it blocks in accept and
    /// costs nothing while no peer knocks).
    pub fn start(listener: TcpListener) -> io::Result<Arc<Acceptor>> {
        let a = Arc::new(Acceptor::default());
        let shared = Arc::clone(&a);
        std::thread::Builder::new()
            .name("nb-net-accept".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    let Ok(mut s) = conn else { continue };
                    if knock_answered(&mut s).is_ok() {
                        *shared.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(s);
                        shared.ready.notify_all();
                        return;
                    }
                }
            })?;
        Ok(a)
    }

    /// The peer's connection, waiting up to `wait` for it.
    pub fn take(&self, wait: Duration) -> Option<TcpStream> {
        let deadline = Instant::now() + wait;
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(s) = slot.take() {
                return Some(s);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            slot = self
                .ready
                .wait_timeout(slot, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// Says [`WAITING`] and expects [`ARMED`] within [`KNOCK_WAIT`].
fn knock_answered(s: &mut TcpStream) -> io::Result<()> {
    s.set_read_timeout(Some(KNOCK_WAIT))?;
    s.write_all(&[WAITING])?;
    let mut b = [0u8; 1];
    s.read_exact(&mut b)?;
    s.set_read_timeout(None)?;
    if b[0] == ARMED {
        Ok(())
    } else {
        Err(io::Error::new(io::ErrorKind::InvalidData, "not a net peer"))
    }
}

/// Sends one command.
pub fn command(s: &mut TcpStream, op: u8, n: u64) -> io::Result<()> {
    let mut b = [0u8; 9];
    b[0] = op;
    b[1..].copy_from_slice(&n.to_le_bytes());
    s.write_all(&b)
}

/// Reads one command; `None` at a clean end of the stream.
pub fn read_command(s: &mut TcpStream) -> io::Result<Option<(u8, u64)>> {
    let mut b = [0u8; 9];
    match s.read_exact(&mut b) {
        Ok(()) => {
            let mut n = [0u8; 8];
            n.copy_from_slice(&b[1..]);
            Ok(Some((b[0], u64::from_le_bytes(n))))
        }
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes `n` bytes from `buf` (repeated).
pub fn write_n(s: &mut TcpStream, buf: &[u8], mut n: u64) -> io::Result<()> {
    while n > 0 {
        let k = n.min(buf.len() as u64) as usize;
        s.write_all(&buf[..k])?;
        n -= k as u64;
    }
    Ok(())
}

/// Reads and discards exactly `n` bytes into `buf`.
pub fn read_n(s: &mut TcpStream, buf: &mut [u8], mut n: u64) -> io::Result<()> {
    while n > 0 {
        let k = n.min(buf.len() as u64) as usize;
        let got = s.read(&mut buf[..k])?;
        if got == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the other end closed the connection",
            ));
        }
        n -= got as u64;
    }
    Ok(())
}
