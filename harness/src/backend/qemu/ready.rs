//! Ports and readiness. Every level's sshd is reached from the host through a chain of
//! QEMU user-mode forwards bound to loopback; the ports are picked free on the host
//! (bind 127.0.0.1:0) so concurrent runs don't clash, and reused unchanged inside the
//! guests (fresh network namespaces, nothing else listens there). A level is ready when
//! its sshd's banner arrives through the chain — a TCP connect alone proves nothing,
//! since each QEMU accepts forwarded connections before the guest listens. Polling
//! happens from the host, never from inside a guest (that would slow the child).

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Pick `n` distinct free TCP ports on 127.0.0.1.
pub fn free_ports(n: usize) -> std::io::Result<Vec<u16>> {
    // Hold every listener until all are picked so the kernel can't hand one out twice.
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<Result<_, _>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect()
}

/// Whether an SSH banner arrives on 127.0.0.1:`port` within `wait`.
pub fn banner(port: u16, wait: Duration) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut s) = TcpStream::connect_timeout(&addr, wait) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(wait));
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).is_ok() && &buf == b"SSH-"
}

/// Why waiting stopped without a banner.
#[derive(Debug, PartialEq, Eq)]
pub enum NotReady {
    /// The level's QEMU is gone (with what is known about why).
    Died(String),
    /// No banner before the deadline.
    Timeout,
    /// The run was interrupted.
    Interrupted,
}

/// How readiness is polled for one level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Knock {
    /// Pause between knocks on the port.
    pub poll: Duration,
    /// How often the parent is asked whether the level's QEMU still runs.
    pub check_every: Duration,
    /// How long one knock waits for the banner once connected. A level that does not
    /// listen yet closes the forwarded connection at once, so a long wait costs
    /// nothing; a short one misses a slow sshd: at L4 here the banner takes ~5 s
    /// (dropbear forks per connection), and every abandoned knock is a dropbear child
    /// the level started for nothing.
    pub banner_wait: Duration,
}

/// How readiness is polled for level `n`. Every knock travels the forward chain down
/// to the level and every check is a command in the parent, both paid for by the CPU
/// the booting level runs on: deep levels are asked less often, and waited on longer.
pub fn knock(n: u32) -> Knock {
    let s = Duration::from_secs;
    match n {
        0..=2 => Knock {
            poll: Duration::from_millis(500),
            check_every: s(10),
            banner_wait: s(10),
        },
        3 => Knock {
            poll: s(2),
            check_every: s(30),
            banner_wait: s(30),
        },
        _ => Knock {
            poll: s(5),
            check_every: s(90),
            banner_wait: s(120),
        },
    }
}

/// Knock on `port` as `k` says until sshd answers. `alive` is asked every
/// `k.check_every`; it returns the reason when the level's QEMU has died.
pub fn wait_for_sshd(
    port: u16,
    timeout: Duration,
    k: Knock,
    alive: &mut dyn FnMut() -> Option<String>,
) -> Result<(), NotReady> {
    let Knock {
        poll,
        check_every,
        banner_wait,
    } = k;
    let deadline = Instant::now() + timeout;
    let mut next_check = Instant::now();
    loop {
        if crate::cleanup::interrupted() {
            return Err(NotReady::Interrupted);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if banner(port, banner_wait.min(left).max(Duration::from_secs(1))) {
            return Ok(());
        }
        if Instant::now() >= next_check {
            if let Some(why) = alive() {
                return Err(NotReady::Died(why));
            }
            next_check = Instant::now() + check_every;
        }
        if Instant::now() >= deadline {
            return Err(NotReady::Timeout);
        }
        std::thread::sleep(poll);
    }
}

/// The last `n` non-empty lines of a console log, for error messages.
pub fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn picks_distinct_free_ports() {
        let p = free_ports(4).unwrap();
        let mut q = p.clone();
        q.sort_unstable();
        q.dedup();
        assert_eq!(q.len(), 4);
        assert!(p.iter().all(|&x| x > 0));
        assert!(TcpListener::bind((Ipv4Addr::LOCALHOST, p[0])).is_ok());
    }

    #[test]
    fn banner_is_required_not_just_a_connect() {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = l.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            let (mut silent, _) = l.accept().unwrap();
            std::thread::sleep(Duration::from_millis(600));
            let (mut s, _) = l.accept().unwrap();
            s.write_all(b"SSH-2.0-dropbear\r\n").unwrap();
            let _ = silent.flush();
        });
        assert!(!banner(port, Duration::from_millis(300)));
        assert!(banner(port, Duration::from_secs(3)));
        t.join().unwrap();
    }

    #[test]
    fn a_slow_banner_is_waited_for_and_a_closed_knock_is_not() {
        // A deep level's sshd needs seconds to answer; a forward whose guest does not
        // listen yet closes at once and must not hold the knock for banner_wait.
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = l.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            drop(l.accept().unwrap());
            let (mut s, _) = l.accept().unwrap();
            std::thread::sleep(Duration::from_millis(3500));
            s.write_all(b"SSH-2.0-dropbear\r\n").unwrap();
        });
        let t0 = Instant::now();
        assert!(!banner(port, Duration::from_secs(60)));
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "a closed knock returns"
        );
        let k = knock(4);
        assert!(k.banner_wait > Duration::from_secs(3));
        let r = wait_for_sshd(port, Duration::from_secs(60), k, &mut || None);
        assert_eq!(r, Ok(()));
        t.join().unwrap();
    }

    #[test]
    fn gives_up_when_the_level_dies() {
        let port = free_ports(1).unwrap()[0];
        let k = Knock {
            poll: Duration::ZERO,
            check_every: Duration::ZERO,
            banner_wait: Duration::from_secs(1),
        };
        let r = wait_for_sshd(port, Duration::from_secs(30), k, &mut || {
            Some("qemu exited".into())
        });
        assert_eq!(r, Err(NotReady::Died("qemu exited".into())));
        assert_eq!(tail("a\n\nb\nc\n", 2), "b\nc");
    }
}
