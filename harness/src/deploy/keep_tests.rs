//! A site that keeps its agent for the child's net peer, under the real command at L0:
//! the verified agent ends where the site says (its directory made), it is given the
//! net.tcp listener's flags, and an agent that fails verification is still removed.

use super::*;
use crate::remote::local::LocalRemote;

fn job(binary: &[u8]) -> AgentJob<'_> {
    AgentJob {
        binary,
        windows_binary: Err("no Windows agent".into()),
        suite: Suite::Smoke,
        only: None,
        sizes: Sizes::default(),
        llc_mib: None,
    }
}

fn site(work: &std::path::Path, keep: &std::path::Path) -> Site {
    Site {
        workdir: work.display().to_string(),
        net: Some(NetSite {
            port: 41234,
            backend: "test net".into(),
        }),
        keep_agent: Some(keep.display().to_string()),
        agent_device: None,
        agent_dir: None,
    }
}

#[test]
fn a_kept_agent_is_moved_for_the_peer_and_gets_the_listener_flags() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("run/nestbench/nestbench-agent");
    // `run` prints its stream only when the listener's flags arrive, else fails.
    let stream = super::tests::stream(true).join("'; echo '");
    let agent = format!("#!/bin/sh\ncase \"$*\" in\nrun*'--net-listen 41234 --net-backend test net'*) echo '{stream}';;\n*) exit 7;;\nesac\n");
    let agent = agent.as_bytes();
    let cmd = deploy_command(
        &dir.path().join("a").display().to_string(),
        &site(dir.path(), &keep),
        &job(agent),
    );
    assert!(
        cmd.contains("--net-listen 41234 --net-backend 'test net'"),
        "{cmd}"
    );
    let mut sh = LocalRemote::default();
    let (site, j) = (site(dir.path(), &keep), job(agent));
    let m = measure(&mut sh, &site, &j, &mut LevelProgress::start("L1"));
    let m = m.unwrap();
    assert_eq!(m.outcome.failure, None);
    assert_eq!(m.outcome.results.len(), 1);
    assert_eq!(std::fs::read(&keep).unwrap(), agent);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["run"], "only the kept agent's directory stays");
}

#[test]
fn a_corrupt_upload_is_removed_even_where_the_agent_would_be_kept() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("kept");
    let path = dir.path().join("a");
    // What arrives is not what the command verifies against.
    let packed = gzip(b"something else");
    std::fs::write(&path, packed).unwrap();
    let cmd = deploy_command(
        &path.display().to_string(),
        &site(dir.path(), &keep),
        &job(b"agent"),
    );
    let out = LocalRemote::default()
        .exec(&cmd, Duration::from_secs(30))
        .unwrap();
    assert_eq!(out.status.code, Some(1));
    assert!(!keep.exists() && !path.exists());
}
