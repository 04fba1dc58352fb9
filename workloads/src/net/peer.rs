//! The peer end of net.tcp: it serves one driver's commands over one connection until
//! the driver quits or goes away. [`connect_and_serve`] is `nestbench-agent net-peer`
//! in a parent level (it knocks on the forwarded port until the child's agent
//! listens); [`loopback`] is the thread L0's agent measures against.
//!
//! Knocking (`crate::net`): a connection counts once the agent's acceptor said
//! [`WAITING`] and the peer answered [`ARMED`]; any other knock (closed, or hanging in
//! the parent's QEMU because it was made while the child booted) is dropped after
//! [`KNOCK_WAIT`] at most and made again after a pause that starts at [`RETRY`] and
//! doubles up to [`RETRY_MAX`] ([`pauses`]): every knock is a connection into a child
//! that is booting or being deployed to, and at L4 each one costs it a few exits of
//! about 10 ms, so knocking four times a second for its whole boot and deploy took a
//! share of its one vCPU. The agent listens from the start of its run and net.tcp is
//! its last workload, so the peer is connected long before it is needed. Once armed, the connection
//! stays open and idle (no bytes, no timer) until the agent reaches net.tcp, so the
//! peer costs its parent nothing while the child's other workloads run.

use super::{
    read_command, read_n, write_n, ACK, ARMED, CHUNK, ECHO, HELLO, KNOCK_WAIT, QUIT, SINK, SOURCE,
    WAITING,
};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// First pause between two knocks on a port nothing answers yet.
pub const RETRY: Duration = Duration::from_millis(250);

/// The longest pause between two knocks.
pub const RETRY_MAX: Duration = Duration::from_secs(2);

/// The pauses between knocks: [`RETRY`], doubling, at most [`RETRY_MAX`].
pub fn pauses() -> impl Iterator<Item = Duration> {
    std::iter::successors(Some(RETRY), |p| Some((*p * 2).min(RETRY_MAX)))
}

/// Why the peer stopped without serving a driver.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// Nothing answered in time.
    #[error("no agent answered on {addr} within {secs} s")]
    NoAgent {
        /// Where it knocked.
        addr: SocketAddr,
        /// How long it tried.
        secs: u64,
    },
    /// The session broke.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Knocks on `addr` until a driver greets (for up to `wait`), then serves it to the end.
pub fn connect_and_serve(addr: SocketAddr, wait: Duration) -> Result<(), PeerError> {
    let deadline = Instant::now() + wait;
    let mut pauses = pauses();
    loop {
        if let Ok(mut s) = TcpStream::connect_timeout(&addr, KNOCK_WAIT) {
            if armed(&mut s).is_ok() {
                let mut hello = [0u8; HELLO.len()];
                // No timeout now: the agent may reach net.tcp minutes later.
                s.read_exact(&mut hello)?;
                if &hello != HELLO {
                    return Err(PeerError::Io(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "the agent's hello is not net.tcp's",
                    )));
                }
                return serve(s, true);
            }
        }
        if Instant::now() >= deadline {
            return Err(PeerError::NoAgent {
                addr,
                secs: wait.as_secs(),
            });
        }
        std::thread::sleep(pauses.next().unwrap_or(RETRY_MAX));
    }
}

/// The peer's side of the knock: [`WAITING`] within [`KNOCK_WAIT`], answered [`ARMED`].
fn armed(s: &mut TcpStream) -> io::Result<()> {
    s.set_read_timeout(Some(KNOCK_WAIT))?;
    let mut b = [0u8; 1];
    s.read_exact(&mut b)?;
    if b[0] != WAITING {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "not an agent"));
    }
    s.write_all(&[ARMED])?;
    s.set_read_timeout(None)
}

/// Serves a greeted connection: answers the hello (when `greeted`, i.e. the hello was
/// already read) and then every command until [`QUIT`] or the end of the stream.
pub fn serve(mut s: TcpStream, greeted: bool) -> Result<(), PeerError> {
    s.set_nodelay(true)?;
    if !greeted {
        let mut hello = [0u8; HELLO.len()];
        s.read_exact(&mut hello)?;
    }
    s.write_all(HELLO)?;
    let out = vec![0x5au8; CHUNK];
    let mut buf = vec![0u8; CHUNK];
    while let Some((op, n)) = read_command(&mut s)? {
        match op {
            SINK => {
                read_n(&mut s, &mut buf, n)?;
                s.write_all(&[ACK])?;
            }
            SOURCE => write_n(&mut s, &out, n)?,
            ECHO => {
                let mut b = [0u8; 1];
                for _ in 0..n {
                    s.read_exact(&mut b)?;
                    s.write_all(&b)?;
                }
            }
            QUIT => return Ok(()),
            other => {
                return Err(PeerError::Io(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("unknown net.tcp command {other:#04x}"),
                )))
            }
        }
    }
    Ok(())
}

/// A peer thread on loopback: the listener's address is connected to from this side,
/// the accepted end is served by the thread. Returns the driver's end and the thread.
pub fn loopback() -> io::Result<(TcpStream, JoinHandle<Result<(), PeerError>>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let driver = TcpStream::connect(addr)?;
    let (served, _) = listener.accept()?;
    let thread = std::thread::Builder::new()
        .name("nb-net-peer".into())
        .spawn(move || serve(served, false))?;
    Ok((driver, thread))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::command;

    #[test]
    fn the_peer_sinks_sources_echoes_and_quits() {
        let (mut d, t) = loopback().unwrap();
        d.write_all(HELLO).unwrap();
        let mut h = [0u8; HELLO.len()];
        d.read_exact(&mut h).unwrap();
        assert_eq!(&h, HELLO);
        command(&mut d, SINK, 200_000).unwrap();
        write_n(&mut d, &[1u8; 1000], 200_000).unwrap();
        let mut ack = [0u8; 1];
        d.read_exact(&mut ack).unwrap();
        assert_eq!(ack[0], ACK);
        command(&mut d, SOURCE, 150_001).unwrap();
        let mut buf = vec![0u8; 4096];
        read_n(&mut d, &mut buf, 150_001).unwrap();
        command(&mut d, ECHO, 3).unwrap();
        for b in [7u8, 8, 9] {
            d.write_all(&[b]).unwrap();
            d.read_exact(&mut ack).unwrap();
            assert_eq!(ack[0], b);
        }
        command(&mut d, QUIT, 0).unwrap();
        t.join().unwrap().unwrap();
    }

    #[test]
    fn a_peer_knocks_until_an_agent_listens_and_gives_up_in_time() {
        // A port that nothing listens on: taken, then freed.
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let t0 = Instant::now();
        let e = connect_and_serve(addr, Duration::from_millis(600)).unwrap_err();
        assert!(matches!(e, PeerError::NoAgent { .. }), "{e}");
        assert!(t0.elapsed() < Duration::from_secs(5));
        // Knocks that are closed at once, or held without a word (as QEMU holds one made
        // while the child boots), are made again; the agent's acceptor arms the next.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let peer = std::thread::spawn(move || connect_and_serve(addr, Duration::from_secs(30)));
        drop(l.accept().unwrap());
        let (_held, _) = l.accept().unwrap();
        let acceptor = crate::net::Acceptor::start(l).unwrap();
        let mut d = acceptor
            .take(Duration::from_secs(20))
            .expect("the peer armed a knock");
        d.write_all(HELLO).unwrap();
        let mut h = [0u8; HELLO.len()];
        d.read_exact(&mut h).unwrap();
        command(&mut d, QUIT, 0).unwrap();
        peer.join().unwrap().unwrap();
    }

    #[test]
    fn an_unknown_command_is_an_error_not_a_hang() {
        let (mut d, t) = loopback().unwrap();
        d.write_all(HELLO).unwrap();
        let mut h = [0u8; HELLO.len()];
        d.read_exact(&mut h).unwrap();
        command(&mut d, b'?', 1).unwrap();
        assert!(t.join().unwrap().is_err());
    }
}
