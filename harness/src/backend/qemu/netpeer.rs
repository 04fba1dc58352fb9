//! net.tcp across a QEMU stack: how a level's agent is reached from its parent, and
//! the peer each parent runs for it.
//!
//! Every level keeps QEMU user networking with `restrict=on`, so a child cannot open a
//! connection to its parent. The way in is the other direction: each level's QEMU
//! gets one more `hostfwd` (its net port on the parent's loopback, to the same port in
//! the child: the parent's 10.0.2.15 would reach the child as a connection from the
//! child's own address, which it drops), the child's agent listens there from the start of its run
//! (`--net-listen`), and a peer (`nestbench-agent net-peer`) started in the parent
//! with the child's launch knocks on the forward until the agent answers, then
//! sinks, sources and echoes what the agent asks while the agent times it. A hostfwd
//! rather than a `guestfwd`: a guestfwd ends in a chardev or a command per
//! connection in the parent's QEMU, adding a pipe (or a process) to the path that is
//! measured, while a hostfwd is the same socket path every guest service uses.
//!
//! The peer runs for the child's measurement only: in L0 it is a process of this
//! controller under a cleanup guard (so it dies with the run, on every path); in a
//! guest it is the parent's own agent, which its deploy left in [`KEPT_AGENT`]
//! instead of removing it, started detached by the child's launch command, and it
//! removes that file as it starts. It exits once the child's agent is done with it,
//! or when nothing answered for [`peer_wait`]; the parent's own suite is over by
//! then, so the level is still measured while it is the deepest level running.

use super::agentdrive::OnDrive;
use super::GUEST_RUN;
use crate::cleanup::ProcessGuard;
use crate::deploy::{NetSite, Site};
use crate::plan::{self, Plan};
use crate::remote::shell_quote;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// What run.json's `env.network` and net.tcp's `params` say the path is.
pub const NETWORK: &str =
    "QEMU user networking (slirp, restrict=on), reached through a hostfwd of the parent's QEMU";

/// Where a guest parent keeps its agent for its child's peer (tmpfs).
pub const KEPT_AGENT: &str = "/run/nestbench/nestbench-agent";

/// Where level `n`'s agent runs: the scratch disk, its net port when net.tcp runs,
/// — for a level that starts a child — the agent kept for the child's peer, and the
/// agent drive it reads the agent from when the run attached one (`drive`).
pub fn site(plan: &Plan, n: u32, net_ports: &[u16], net: bool, drive: bool) -> Site {
    let port = net_ports.get(n as usize - 1).copied();
    Site {
        workdir: "/scratch".into(),
        net: port.filter(|_| net).map(|port| NetSite {
            port,
            backend: NETWORK.into(),
        }),
        keep_agent: (net && !plan.level(n).leaf).then(|| KEPT_AGENT.to_string()),
        agent_device: drive.then(|| super::agentdrive::AGENT_DEVICE.to_string()),
        agent_dir: Some(GUEST_RUN.to_string()),
    }
}

/// How long level `n`'s peer knocks before giving up: the longest the child may take
/// to boot, plus its deploy.
pub fn peer_wait(n: u32, tcg: bool) -> Duration {
    plan::boot_timeout(n, tcg) + Duration::from_secs(600)
}

/// The peer's arguments for a child reached at `addr:port`.
pub fn peer_args(addr: &str, port: u16, wait: Duration) -> Vec<String> {
    vec![
        "net-peer".into(),
        "--connect".into(),
        format!("{addr}:{port}"),
        "--wait-s".into(),
        wait.as_secs().max(1).to_string(),
    ]
}

/// The part of level `n`'s launch command (n ≥ 2) that starts its peer in the parent,
/// detached from the command's session, from the agent the parent's deploy kept; its
/// pid goes to `Ln.peer.pid` (a relaunch of the child kills it). A parent that has no
/// kept agent — one brought back up after a loss, which is not measured again, so no
/// deploy left one, or whose kept agent an earlier peer of the same child removed —
/// copies it off its agent drive (`drive`: what is there) and checks size and SHA-256
/// first, as a deploy would; without the drive, or when the copy is not the agent, no
/// peer starts and the child's net.tcp fails with a workload error.
pub fn guest_peer_command(n: u32, port: u16, wait: Duration, drive: Option<&OnDrive>) -> String {
    let args: Vec<String> = peer_args("127.0.0.1", port, wait)
        .iter()
        .map(|a| shell_quote(a))
        .collect();
    let copy = drive.map_or(String::new(), |d| {
        format!(
            "[ -x \"$a\" ] || {{ dd if={dev} of=\"$a\" bs={len} count=1 status=none && chmod 700 \"$a\" \
             && h=$(sha256sum \"$a\") && [ \"${{h%% *}}\" = {sha} ]; }} || rm -f \"$a\"; ",
            dev = super::agentdrive::AGENT_DEVICE,
            len = d.len,
            sha = d.sha256,
        )
    });
    format!(
        "a={KEPT_AGENT}; [ -x \"$a\" ] || a={GUEST_RUN}/L{n}.peer; {copy}[ -x \"$a\" ] && \
         {{ setsid \"$a\" {} --unlink-self </dev/null >{GUEST_RUN}/L{n}.net-peer.log 2>&1 & \
         echo $! > {GUEST_RUN}/L{n}.peer.pid; }} || :;",
        args.join(" ")
    )
}

/// L1's peer, a process on the host: `agent net-peer --connect 127.0.0.1:port`, its
/// stderr in `log`, killed with the stack.
pub fn spawn_host_peer(
    agent: &Path,
    port: u16,
    wait: Duration,
    log: &Path,
) -> std::io::Result<(Child, ProcessGuard)> {
    let err = std::fs::File::create(log)?;
    let child = Command::new(agent)
        .args(peer_args("127.0.0.1", port, wait))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err)
        .spawn()?;
    let guard = ProcessGuard::new(child.id(), "L1's net peer");
    Ok((child, guard))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::AccelArg;

    fn plan() -> Plan {
        let host = plan::HostResources {
            cpus: 2,
            mem_available_mib: 24_000,
            disk_available_mib: 100_000,
            scratch_dir: "/tmp".into(),
        };
        plan::make(3, None, None, AccelArg::Auto, &host).unwrap()
    }

    #[test]
    fn every_level_listens_and_every_parent_keeps_its_agent_for_the_child() {
        let p = plan();
        let ports = [41001, 41002, 41003];
        let s1 = site(&p, 1, &ports, true, false);
        assert_eq!(s1.net.as_ref().map(|n| n.port), Some(41001));
        assert_eq!(s1.keep_agent.as_deref(), Some(KEPT_AGENT));
        let s3 = site(&p, 3, &ports, true, true);
        assert_eq!(s3.agent_device.as_deref(), Some("/dev/vdc"));
        assert_eq!(s1.agent_device, None);
        assert_eq!(s3.net.as_ref().map(|n| n.port), Some(41003));
        assert_eq!(s3.keep_agent, None, "the deepest level starts no child");
        let plain = Site {
            agent_dir: Some("/run/nestbench".into()),
            ..Site::at("/scratch")
        };
        assert_eq!(site(&p, 2, &ports, false, false), plain);
    }

    /// The peer command under sh, with a script standing in for the agent (it writes
    /// its arguments down) and a file for the agent drive.
    #[test]
    fn the_guest_peer_starts_from_the_kept_agent_or_from_a_checked_copy_off_the_drive() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let agent = format!("#!/bin/sh\necho \"$0 $*\" > {d}/ran\n");
        let drive = dir.path().join("vdc");
        let mut padded = agent.clone().into_bytes();
        padded.resize(4096, 0);
        std::fs::write(&drive, &padded).unwrap();
        let on = OnDrive::of(agent.as_bytes());
        let run = |cmd: String| {
            let cmd = cmd.replace(GUEST_RUN, &d).replace(
                super::super::agentdrive::AGENT_DEVICE,
                &drive.display().to_string(),
            );
            let o = std::process::Command::new("sh")
                .arg("-c")
                .arg(&cmd)
                .output()
                .unwrap();
            assert!(o.status.success(), "{o:?}");
            for _ in 0..100 {
                if let Ok(ran) = std::fs::read_to_string(dir.path().join("ran")) {
                    let _ = std::fs::remove_file(dir.path().join("ran"));
                    return Some(ran);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            None
        };
        let args = "net-peer --connect 127.0.0.1:41003 --wait-s 90 --unlink-self";
        // No kept agent: a copy off the drive, checked, runs.
        let ran = run(guest_peer_command(
            3,
            41003,
            Duration::from_secs(90),
            Some(&on),
        ));
        assert_eq!(
            ran.as_deref(),
            Some(format!("{d}/L3.peer {args}\n").as_str())
        );
        assert!(dir.path().join("L3.peer.pid").exists());
        // A kept agent is preferred.
        let kept = KEPT_AGENT.replace(GUEST_RUN, &d);
        std::fs::write(&kept, &agent).unwrap();
        std::fs::set_permissions(&kept, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        std::fs::remove_file(dir.path().join("L3.peer")).unwrap();
        let ran = run(guest_peer_command(
            3,
            41003,
            Duration::from_secs(90),
            Some(&on),
        ));
        assert_eq!(ran.as_deref(), Some(format!("{kept} {args}\n").as_str()));
        std::fs::remove_file(&kept).unwrap();
        // A drive that holds something else: no copy is run, nothing is left.
        let other = OnDrive::of(b"another agent");
        assert_eq!(
            run(guest_peer_command(
                3,
                41003,
                Duration::from_secs(90),
                Some(&other)
            )),
            None
        );
        assert!(!dir.path().join("L3.peer").exists());
        // No drive and no kept agent: no peer.
        assert_eq!(
            run(guest_peer_command(3, 41003, Duration::from_secs(90), None)),
            None
        );
        assert!(peer_wait(4, false) > plan::boot_timeout(4, false));
    }
}
