//! [`SshRemote`] against a real OpenSSH sshd on loopback (root: sshd runs as root
//! and needs `/run/sshd`; without root or sshd skipped with a reason, and failed under
//! CI, see `testreq`): exec, streaming, stderr,
//! timeouts, uploads, a 3-hop jump chain through the same server, and that dropping
//! a chained remote leaves no pump thread behind. The namespace
//! tests in `harness/tests/` cover real multi-host chains through the binary.

use super::ssh::{HostKeyCheck, SshRemote, SshTarget};
use super::{Remote, RemoteError};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Sshd {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ssh-keygen failed");
}

/// A loopback sshd, or `None` (the test skips) where root or sshd is missing outside
/// CI.
fn sshd() -> Option<Sshd> {
    let ready = crate::testreq::require_root("sshd runs as root")
        && crate::testreq::require_tool("/usr/sbin/sshd", "openssh-server")
        && crate::testreq::require_tool("ssh-keygen", "openssh-client");
    if !ready {
        return None;
    }
    std::fs::create_dir_all("/run/sshd")
        .expect("create /run/sshd (sshd's privilege separation dir)");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    keygen(&d.join("host"));
    keygen(&d.join("client"));
    std::fs::copy(d.join("client.pub"), d.join("authorized_keys")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host\nPidFile none\n\
         AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin prohibit-password\n\
         PasswordAuthentication no\nKbdInteractiveAuthentication no\nStrictModes no\n\
         UsePAM no\nAllowTcpForwarding yes\n",
        d = d.display()
    );
    std::fs::write(d.join("sshd_config"), cfg).unwrap();
    let child = Command::new("/usr/sbin/sshd")
        .args(["-D", "-e", "-f"])
        .arg(d.join("sshd_config"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(10), "sshd did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Sshd { child, dir, port })
}

impl Sshd {
    fn target(&self, name: &str) -> SshTarget {
        let pubkey = std::fs::read_to_string(self.dir.path().join("host.pub")).unwrap();
        SshTarget {
            name: name.into(),
            host: "127.0.0.1".into(),
            port: self.port,
            user: "root".into(),
            key: self.dir.path().join("client"),
            host_key: HostKeyCheck::Pinned {
                key_base64: pubkey.split_whitespace().nth(1).unwrap().into(),
            },
        }
    }
}

/// Pump threads of this process (named `ssh-jump-…`); other tests run in parallel,
/// so only these are counted.
fn pump_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|c| c.starts_with("ssh-jump-"))
        .count()
}

const T: Duration = Duration::from_secs(20);

#[test]
fn exec_stream_upload_and_timeout_direct_and_chained() {
    let Some(s) = sshd() else { return };
    let hops: Vec<SshTarget> = (1..=3).map(|i| s.target(&format!("L{i}"))).collect();
    for via in [&hops[..0], &hops[..]] {
        let mut r = SshRemote::connect(&s.target("L4"), via, T).unwrap();
        assert_eq!(pump_threads(), via.len());
        let mut lines = vec![];
        let st = r
            .exec_lines(
                "echo a; echo oops >&2; printf 'b\\r\\nc'; exit 3",
                T,
                &mut |l| lines.push(l.to_string()),
            )
            .unwrap();
        assert_eq!(
            (lines, st.code),
            (vec!["a".into(), "b".into(), "c".into()], Some(3))
        );
        assert_eq!(st.stderr.trim(), "oops");
        // Lots of stderr must not stall stdout.
        let out = r
            .exec("head -c 3000000 /dev/zero | tr '\\0' x >&2; echo done", T)
            .unwrap();
        assert_eq!(out.stdout, "done\n");
        assert_eq!(out.status.stderr.len(), 3_000_000);
        let data: Vec<u8> = (0..5_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let p = s.dir.path().join("up.bin");
        r.upload(&data, p.to_str().unwrap(), 0o750, T).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), data);
        let e = r.exec("sleep 5", Duration::from_millis(500)).unwrap_err();
        assert!(matches!(e, RemoteError::Timeout { .. }), "{e}");
        // The session is still usable after a timeout.
        assert_eq!(r.exec("echo ok", T).unwrap().stdout, "ok\n");
    }
    // Dropping the remote joins its pumps; a joined thread can still be listed in
    // /proc for a moment after pthread_join returns (it wakes the joiner before the
    // kernel reaps it), so allow that moment.
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while pump_threads() > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(pump_threads(), 0, "pump threads left behind");
}

#[test]
fn a_watched_command_that_goes_silent_fails_fast_and_a_heartbeat_keeps_it_going() {
    let Some(s) = sshd() else { return };
    let mut r = SshRemote::connect(&s.target("L1"), &[], T).unwrap();
    let silence = Duration::from_secs(2);
    // Silent for longer than allowed: given up after `silence`, not after the timeout.
    let t = Instant::now();
    let e = r
        .exec_lines_watched("echo started; sleep 30", T, silence, &mut |_| {})
        .unwrap_err();
    assert!(matches!(e, RemoteError::Silent { .. }), "{e}");
    assert!(e.to_string().contains("went silent"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    // A heartbeat on stderr (what the agent writes) keeps a quiet stdout alive.
    let mut lines = vec![];
    let st = r
        .exec_lines_watched(
            "for i in 1 2 3 4 5; do printf '\\000' >&2; sleep 1; done; echo done",
            T,
            silence,
            &mut |l| lines.push(l.to_string()),
        )
        .unwrap();
    assert_eq!((lines, st.code), (vec!["done".to_string()], Some(0)));
    // An unwatched command may be as quiet as it likes.
    let st = r.exec("sleep 3; echo late", T).unwrap();
    assert_eq!(st.stdout, "late\n");
}

#[test]
fn refuses_a_wrong_pinned_key_and_a_wrong_client_key() {
    let Some(s) = sshd() else { return };
    let mut t = s.target("L1");
    t.host_key = HostKeyCheck::Pinned {
        key_base64: "AAAAC3NzaC1lZDI1NTE5AAAAIJCyQuS3/4QccLBYL8lmedEUUue6epaSifjTaJyGaLqp".into(),
    };
    let e = SshRemote::connect(&t, &[], T).err().unwrap().to_string();
    assert!(
        e.contains("SHA256:lyq9WrxXn+A9faxgFk0j+I/U/YQBiRRMg19mzd0bPHY"),
        "{e}"
    );
    let mut t = s.target("L1");
    let other = s.dir.path().join("other");
    keygen(&other);
    t.key = PathBuf::from(&other);
    let e = SshRemote::connect(&t, &[], T).err().unwrap();
    assert!(matches!(e, RemoteError::Auth { .. }), "{e}");
}

/// Connect / exec / upload figures direct and through 1–3 jump hops of one loopback
/// sshd. A measurement, not a check: `cargo test --release -p nestbench --bin
/// nestbench ssh_throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn ssh_throughput() {
    let Some(s) = sshd() else { return };
    let hops: Vec<SshTarget> = (1..=3).map(|i| s.target(&format!("L{i}"))).collect();
    let (small, big) = (vec![1u8; 1 << 20], vec![7u8; 32 << 20]);
    let p = s.dir.path().join("blob");
    let p = p.to_str().unwrap();
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    for n in 0..=3 {
        let t = Instant::now();
        let mut r = SshRemote::connect(&s.target("X"), &hops[..n], T).unwrap();
        let connect = ms(t);
        let t = Instant::now();
        r.exec("true", T).unwrap();
        let exec = ms(t);
        let t = Instant::now();
        r.upload(&small, p, 0o644, T).unwrap();
        let up1 = ms(t);
        let t = Instant::now();
        r.upload(&big, p, 0o644, T).unwrap();
        let up32 = ms(t);
        eprintln!(
            "{n} hops: connect {connect:.0} ms, exec `true` {exec:.0} ms, 1 MiB upload {up1:.0} ms, \
             32 MiB upload {up32:.0} ms = {:.1} MB/s ({:.1} MB/s without the exec overhead)",
            big.len() as f64 / up32 / 1e3,
            big.len() as f64 / (up32 - exec).max(1.0) / 1e3
        );
    }
}

#[test]
fn dropbear_is_told_by_its_banner_and_is_never_asked_for_sftp() {
    use super::ssh::is_dropbear;
    assert!(is_dropbear("SSH-2.0-dropbear_2022.83"));
    assert!(is_dropbear("SSH-2.0-dropbear"));
    assert!(!is_dropbear("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"));
    assert!(!is_dropbear("SSH-2.0-OpenSSH_for_Windows_9.5"));
}
