//! Files and first contact over the real namespace chain (common/netns.rs): SFTP
//! uploads to real OpenSSH servers, verified by size and SHA-256 at the far end, and
//! the stream upload for a server without SFTP (as dropbear guests are); a remote L0
//! from an inventory's `[l0]` measured as L0 with levels reached through it; and a
//! Windows level — the Hyper-V simulator of common/sim.rs answering as cmd.exe, never
//! a real Windows machine — identified and deployed to through SFTP and PowerShell.
//!
//! Needs root, sshd, ip and unshare (python3 for the Windows level); skipped with a
//! reason otherwise, failed under `CI=true`.

mod common;

use common::netns::{chain, Chain};
use common::{run_inventory_text, scenario_dir, skip, table, Level};
use model::rundoc::{LevelStatus, RunStatus};
use nestbench::remote::identify::{Os, Shell};
use nestbench::remote::ssh::{HostKeyCheck, SshRemote, SshTarget};
use nestbench::remote::Remote;
use sha2::{Digest, Sha256};
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

fn target(c: &Chain, k: usize, port: u16) -> SshTarget {
    SshTarget {
        name: format!("L{k}"),
        host: c.addrs[k - 1].clone(),
        port,
        user: "root".into(),
        key: c.client_key.clone(),
        host_key: HostKeyCheck::Pinned {
            key_base64: c.host_keys[k - 1].clone(),
        },
    }
}

/// Upload `data` to `path` and read back, at the far end, its size, SHA-256 and mode.
fn upload_and_verify(r: &mut SshRemote, data: &[u8], path: &str, mode: u32) {
    r.upload(data, path, mode, T).unwrap();
    let o = r
        .exec(
            &format!("wc -c < {path}; sha256sum {path}; stat -c %a {path}"),
            T,
        )
        .unwrap();
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines[0].trim(), data.len().to_string(), "{}", o.stdout);
    assert_eq!(
        lines[1].split_whitespace().next(),
        Some(hex::encode(Sha256::digest(data)).as_str())
    );
    assert_eq!(lines[2], format!("{mode:o}"));
    assert!(
        !std::path::Path::new(&format!("{path}.tmp")).exists(),
        "the temporary name is gone"
    );
}

fn random(len: usize) -> Vec<u8> {
    (0..len).map(|_| rand::random::<u8>()).collect()
}

#[test]
fn uploads_go_over_sftp_where_offered_and_arrive_whole() {
    if skip() {
        return;
    }
    let c = chain();
    let dir = scenario_dir();
    let path = |n: &str| dir.path().join(n).display().to_string();
    // Direct to L1's OpenSSH, which offers SFTP: 3 MiB, then replaced by another file.
    let mut l1 = SshRemote::connect(&target(c, 1, 22), &[], T).unwrap();
    let id = l1.identify(T).unwrap();
    assert_eq!((id.probed.os, id.probed.shell), (Os::Linux, Shell::Sh));
    assert!(id.probed.uname.as_deref().unwrap().starts_with("Linux"));
    assert_eq!(id.platform().os, "linux");
    upload_and_verify(&mut l1, &random(3 << 20), &path("a"), 0o640);
    upload_and_verify(&mut l1, &random(100_000), &path("a"), 0o755);
    upload_and_verify(&mut l1, b"", &path("empty"), 0o600);
    assert!(c
        .sshd_log(1, 22)
        .contains("Starting session: subsystem 'sftp'"));
    // Through L1 to L2: SFTP over a jump chain.
    let mut l2 = SshRemote::connect(&target(c, 2, 22), &[target(c, 1, 22)], T).unwrap();
    upload_and_verify(&mut l2, &random(1 << 20), &path("b"), 0o644);
    // A server without SFTP (as dropbear is) gets the stream upload, just as whole.
    let _plain = c.extra_sshd_without_sftp(1, 2240);
    let mut bare = SshRemote::connect(&target(c, 1, 2240), &[], T).unwrap();
    upload_and_verify(&mut bare, &random(2 << 20), &path("c"), 0o700);
    upload_and_verify(&mut bare, &random(10), &path("c"), 0o644);
    assert!(!c
        .sshd_log(1, 2240)
        .contains("Starting session: subsystem 'sftp'"));
}

#[test]
fn an_l0_table_is_measured_as_l0_and_levels_are_reached_through_it() {
    if skip() {
        return;
    }
    let c = chain();
    let dir = scenario_dir();
    let w0 = dir.path().join("w0");
    std::fs::create_dir(&w0).unwrap();
    // The chain's L1 is the remote L0; the chain's L2 (reachable only through it) is L1.
    let mut l0 = Level::of(c, 1);
    l0.name = "remote0".into();
    l0.workdir = Some(w0.clone());
    let mut l1 = Level::of(c, 2);
    (l1.name, l1.via) = ("L1".into(), Some("remote0".into()));
    let text = table("[l0]", &l0) + &table("[[level]]", &l1);
    let only = ["--suite", "smoke", "--only", "cpu.int"];
    let r = run_inventory_text(&dir.path().join("a"), &text, &only);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.doc.status, RunStatus::Complete);
    assert_eq!(r.doc.levels.len(), 2);
    assert_eq!(
        r.doc.config.levels, 1,
        "--levels counts the levels below L0"
    );
    let got: Vec<_> = r.doc.levels.iter().map(|l| l.status).collect();
    assert_eq!(got, [LevelStatus::Ok, LevelStatus::Ok]);
    let p = r.doc.levels[0]
        .env
        .platform
        .as_ref()
        .expect("a remote L0 records its platform");
    assert_eq!((p.os.as_str(), p.shell.as_deref()), ("linux", Some("sh")));
    assert!(!r.doc.levels[0].results.is_empty());
    let inv = r.doc.provenance.inventory.as_ref().unwrap();
    let rec = inv.l0.as_ref().unwrap();
    assert_eq!(rec.endpoint, format!("root@{}:22", c.addrs[0]));
    assert_eq!(inv.levels[0].via.as_deref(), Some("remote0"));
    assert!(r.stderr.contains("connect via remote0"), "{}", r.stderr);
    assert!(
        std::fs::read_dir(&w0).unwrap().next().is_none(),
        "L0 left files"
    );
    // A remote L0 that cannot be reached: no reference, so nothing else runs (exit 1).
    let mut gone = Level::of(c, 1);
    (gone.name, gone.host) = ("remote0".into(), c.addrs[1].clone());
    let text = table("[l0]", &gone) + &table("[[level]]", &l1);
    let r = run_inventory_text(&dir.path().join("b"), &text, &only);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(r.doc.status, RunStatus::Failed);
    assert!(
        r.stderr.contains("L0 could not be measured"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_windows_level_is_deployed_to_through_sftp_and_powershell() {
    if skip() || !common::testreq::require_tool("/usr/bin/python3", "python3") {
        return;
    }
    use common::sim::{host, Sim};
    use nestbench::deploy::{self, AgentJob};
    let c = chain();
    let sim = Sim::start(c, 2241, host("cmd", "GenuineIntel", 20348, "10.0"), vec![]);
    let mut r = SshRemote::connect(&target(c, 1, 2241), &[], T).unwrap();
    let id = r.identify(T).unwrap();
    assert_eq!((id.probed.os, id.probed.shell), (Os::Windows, Shell::Cmd));
    let p = id.platform();
    assert_eq!((p.os.as_str(), p.hyperv_root), ("windows", true));
    assert_eq!(r.os(), Os::Windows);
    // The simulator runs the Linux agent where a Windows one would run.
    let agent = std::fs::read(common::static_agent()).unwrap();
    let only = ["cpu.int".to_string()];
    let job = AgentJob {
        binary: b"not for Windows",
        windows_binary: Ok(&agent),
        suite: model::Suite::Smoke,
        only: Some(&only),
        sizes: model::Sizes::default(),
        llc_mib: None,
    };
    let workdir = sim.dir.path().display().to_string();
    let mut progress = nestbench::progress::LevelProgress::start("L1");
    let m = deploy::measure(
        &mut r,
        &deploy::Site::at(workdir.clone()),
        &job,
        &mut progress,
    )
    .unwrap();
    assert!(m.outcome.failure.is_none(), "{:?}", m.outcome.failure);
    assert!(!m.outcome.results.is_empty());
    assert!(m.info.is_some());
    let ops = sim.doc()["ops"].clone();
    assert_eq!(ops[0], "os_facts (inline)");
    assert!(
        ops[1].as_str().unwrap().starts_with("deploy_agent"),
        "{ops}"
    );
    let left: Vec<_> = std::fs::read_dir(sim.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("nestbench-"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // Without a Windows agent the level fails saying so.
    let job = AgentJob {
        windows_binary: Err("there is no Windows agent: pass --agent-windows PATH".into()),
        ..job
    };
    let Err(e) = deploy::measure(
        &mut r,
        &deploy::Site::at(workdir.clone()),
        &job,
        &mut progress,
    ) else {
        panic!("a Windows level without a Windows agent was measured")
    };
    assert!(
        e.to_string()
            .ends_with("runs Windows: there is no Windows agent: pass --agent-windows PATH"),
        "{e}"
    );
}
