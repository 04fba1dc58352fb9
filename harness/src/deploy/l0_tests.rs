//! The real deploy commands under `sh` at L0 with small script agents — after an
//! upload, off an agent drive (a file standing in for the block device: the command
//! only reads it), and the upload that stands in for a missing drive — and that no
//! copy of the agent is left behind on any path.

use super::tests::{agent_error, job, stream};
use super::*;
use crate::remote::local::LocalRemote;

/// A shell-script agent whose `run` runs `run`.
fn script_agent(run: &str) -> Vec<u8> {
    format!("#!/bin/sh\ncase \"$1\" in\nrun) {run};;\nesac\n").into_bytes()
}

/// Measure at L0 (the real command under `sh`) with `agent`, through `remote`.
fn l0(remote: &mut dyn Remote, agent: &[u8]) -> (Result<Measured, DeployError>, Vec<String>) {
    l0_at(remote, agent, None)
}

/// [`l0`] with the agent drive at `device`.
fn l0_at(
    remote: &mut dyn Remote,
    agent: &[u8],
    device: Option<&str>,
) -> (Result<Measured, DeployError>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().to_str().unwrap();
    let site = Site {
        agent_device: device.map(str::to_string),
        ..Site::at(work)
    };
    let m = measure(remote, &site, &job(agent), &mut LevelProgress::start("L0"));
    let left = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path().display().to_string())
        .collect();
    (m, left)
}

fn echo_lines(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| format!("echo '{l}'"))
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
fn l0_runs_the_real_command_and_leaves_nothing() {
    let agent = script_agent(&format!(
        "[ \"$4\" = --dir ] || exit 9; {}",
        echo_lines(&stream(true))
    ));
    let (m, left) = l0(&mut LocalRemote::default(), &agent);
    let m = m.unwrap();
    assert_eq!(m.outcome.failure, None);
    assert_eq!(m.outcome.results.len(), 1);
    assert_eq!(m.info.unwrap().vcpus, 2);
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn l0_keeps_the_agents_exit_status_and_leaves_nothing() {
    let agent = script_agent(&format!(
        "{}; echo dying >&2; exit 3",
        echo_lines(&stream(false))
    ));
    let (m, left) = l0(&mut LocalRemote::default(), &agent);
    let why = m.unwrap().outcome.failure.unwrap();
    assert!(why.ends_with("(agent exit Some(3): dying)"), "{why}");
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn l0_agent_that_does_not_run_leaves_nothing() {
    let agent = script_agent("echo nope >&2; exit 5");
    let (m, left) = l0(&mut LocalRemote::default(), &agent);
    assert_eq!(
        agent_error(m),
        "agent does not run on L0 (local): exit Some(5): nope"
    );
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// L0 that counts its uploads and, with `truncate`, loses each upload's second half
/// on the way.
#[derive(Default)]
struct Hooked {
    sh: LocalRemote,
    uploads: usize,
    truncate: bool,
}

impl Remote for Hooked {
    fn endpoint(&self) -> String {
        self.sh.endpoint()
    }

    fn exec_lines(
        &mut self,
        cmd: &str,
        timeout: Duration,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<ExecStatus, RemoteError> {
        self.sh.exec_lines(cmd, timeout, on_line)
    }

    fn upload(
        &mut self,
        data: &[u8],
        path: &str,
        mode: u32,
        timeout: Duration,
    ) -> Result<(), RemoteError> {
        self.uploads += 1;
        let data = if self.truncate {
            &data[..data.len() / 2]
        } else {
            data
        };
        self.sh.upload(data, path, mode, timeout)
    }
}

#[test]
fn l0_corrupt_upload_is_refused_and_leaves_nothing() {
    // Incompressible enough that half the stream is a real truncation.
    let agent: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut remote = Hooked {
        truncate: true,
        ..Hooked::default()
    };
    let (m, left) = l0(&mut remote, &agent);
    let m = agent_error(m);
    assert!(
        m.starts_with("agent upload to L0 (local) is corrupt"),
        "{m}"
    );
    assert!(m.contains("check free space in"), "{m}");
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn l0_reads_the_agent_off_its_drive_and_leaves_nothing() {
    let agent = script_agent(&echo_lines(&stream(true)));
    let disk = tempfile::tempdir().unwrap();
    let img = disk.path().join("agent.img");
    crate::backend::qemu::agentdrive::write(&img, &agent).unwrap();
    let mut remote = Hooked::default();
    let (m, left) = l0_at(&mut remote, &agent, Some(img.to_str().unwrap()));
    let m = m.unwrap();
    assert_eq!(m.outcome.failure, None);
    assert_eq!(m.outcome.results.len(), 1);
    assert_eq!(remote.uploads, 0, "nothing is uploaded");
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn l0_uploads_when_the_drive_is_missing_or_holds_another_agent() {
    let agent = script_agent(&echo_lines(&stream(true)));
    let disk = tempfile::tempdir().unwrap();
    let other = disk.path().join("other.img");
    crate::backend::qemu::agentdrive::write(&other, &script_agent("exit 0")).unwrap();
    let missing = disk.path().join("missing");
    for dev in [missing, other] {
        let mut remote = Hooked::default();
        let (m, left) = l0_at(&mut remote, &agent, Some(dev.to_str().unwrap()));
        let m = m.unwrap();
        assert_eq!(m.outcome.failure, None, "{}", dev.display());
        assert_eq!(m.outcome.results.len(), 1);
        assert_eq!(remote.uploads, 1, "uploaded once instead");
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}
