//! The deploy command's reply judged line by line (scripted levels), and the real
//! command under `sh` at L0 with small script agents: what is reported, and that no
//! copy of the agent is left behind on any path.

use super::*;
use crate::remote::local::LocalRemote;
use model::protocol::{Record, PROTOCOL_VERSION};
use model::{WorkloadError, WorkloadResult};
use std::io::Read;

/// Compressible, like a real binary.
const AGENT: &[u8] = &[b'x'; 4096];

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

fn digest_line(b: &[u8]) -> String {
    format!("{} {}", b.len(), hex::encode(Sha256::digest(b)))
}

fn info_line() -> String {
    serde_json::to_string(&HostInfo {
        vcpus: 2,
        ..Default::default()
    })
    .unwrap()
}

/// begin, one result, one workload error, and (with `end`) the end record.
fn stream(end: bool) -> Vec<String> {
    let mut v = vec![
        Record::Begin {
            protocol: PROTOCOL_VERSION,
            agent_version: "test".into(),
            suite: "smoke".into(),
            workloads: vec!["cpu.int".into(), "disk.seq".into()],
            info: HostInfo::default(),
        },
        Record::Result(WorkloadResult {
            id: model::MetricId::known("cpu.int", "ops").unwrap(),
            params: Default::default(),
            samples: vec![1.0, 2.0],
        }),
        Record::Error(WorkloadError {
            workload: "disk.seq".into(),
            message: "no disk".into(),
        }),
    ];
    if end {
        v.push(Record::End { elapsed_s: 1.0 });
    }
    v.iter().map(Record::to_line).collect()
}

/// How the scripted deploy command ends.
enum Ending {
    Exit(Option<i32>, &'static str),
    ConnectionLost,
}

/// A level whose deploy command prints `lines` and then ends as `ending`.
struct Scripted {
    lines: Vec<String>,
    ending: Ending,
    upload_fails: bool,
    uploaded: Vec<u8>,
    commands: Vec<String>,
}

impl Scripted {
    fn new(lines: Vec<String>, ending: Ending) -> Self {
        Scripted {
            lines,
            ending,
            upload_fails: false,
            uploaded: vec![],
            commands: vec![],
        }
    }

    fn measure(&mut self) -> Result<Measured, DeployError> {
        measure(
            self,
            &Site::at("/w"),
            &job(AGENT),
            &mut LevelProgress::start("L9"),
        )
    }

    /// Whether the separate fallback `rm -f` of the agent was sent.
    fn fallback_rm(&self) -> bool {
        self.commands
            .iter()
            .any(|c| c.starts_with("rm -f /w/nestbench-agent-"))
    }
}

impl Remote for Scripted {
    fn endpoint(&self) -> String {
        "L9 (fake)".into()
    }

    fn exec_lines(
        &mut self,
        cmd: &str,
        _timeout: Duration,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<ExecStatus, RemoteError> {
        self.commands.push(cmd.to_string());
        if cmd.starts_with("rm -f") {
            return Ok(ExecStatus {
                code: Some(0),
                stderr: String::new(),
            });
        }
        for l in &self.lines {
            on_line(l);
        }
        match self.ending {
            Ending::Exit(code, stderr) => Ok(ExecStatus {
                code,
                stderr: stderr.into(),
            }),
            Ending::ConnectionLost => Err(RemoteError::Io {
                endpoint: self.endpoint(),
                reason: "connection reset".into(),
            }),
        }
    }

    fn upload(
        &mut self,
        data: &[u8],
        _path: &str,
        _mode: u32,
        _timeout: Duration,
    ) -> Result<(), RemoteError> {
        if self.upload_fails {
            return Err(RemoteError::Io {
                endpoint: self.endpoint(),
                reason: "upload broke".into(),
            });
        }
        self.uploaded = data.to_vec();
        Ok(())
    }
}

fn agent_error(r: Result<Measured, DeployError>) -> String {
    match r {
        Err(DeployError::Agent(m)) => m,
        Err(e) => panic!("not an agent error: {e}"),
        Ok(_) => panic!("measured"),
    }
}

fn ok_lines() -> Vec<String> {
    let mut v = vec![digest_line(AGENT), info_line()];
    v.extend(stream(true));
    v
}

#[test]
fn happy_path_is_a_compressed_upload_and_one_command() {
    let mut r = Scripted::new(ok_lines(), Ending::Exit(Some(0), ""));
    let m = r.measure().unwrap();
    assert_eq!(m.outcome.failure, None);
    assert_eq!(m.outcome.results.len(), 1);
    assert_eq!(m.outcome.errors.len(), 1);
    assert_eq!(m.info.unwrap().vcpus, 2);
    assert!(m.deploy_s >= 0.0 && m.suite_s >= 0.0);
    assert_eq!(r.commands.len(), 1, "{:?}", r.commands);
    assert!(r.uploaded.len() < AGENT.len() / 4);
    let mut unpacked = vec![];
    flate2::read::GzDecoder::new(&r.uploaded[..])
        .read_to_end(&mut unpacked)
        .unwrap();
    assert_eq!(unpacked, AGENT);
}

#[test]
fn the_agent_gets_the_sizes_and_l0s_cache_only_when_there_are_some() {
    let mut j = job(AGENT);
    let plain = deploy_command("/w/a", &Site::at("/w"), &j);
    assert!(
        !plain.contains("--sizes") && !plain.contains("--llc-mib"),
        "{plain}"
    );
    j.sizes = "stream=128".parse().unwrap();
    j.llc_mib = Some(32);
    let cmd = deploy_command("/w/a", &Site::at("/w"), &j);
    assert!(cmd.contains(" --sizes stream=128 --llc-mib 32;"), "{cmd}");
}

#[test]
fn a_wrong_digest_line_is_a_corrupt_upload() {
    let mut r = Scripted::new(
        vec!["17 0123456789abcdef".into()],
        Ending::Exit(Some(1), "gzip: invalid compressed data--crc error\n"),
    );
    let m = agent_error(r.measure());
    assert!(m.contains("agent upload to L9 (fake) is corrupt"), "{m}");
    assert!(m.contains("size Some(17) vs 4096"), "{m}");
    assert!(
        m.contains("check free space in /w: gzip: invalid compressed data"),
        "{m}"
    );
    assert_eq!(m.lines().count(), 1);
    // The command got to its own `rm -f`.
    assert!(!r.fallback_rm());
}

#[test]
fn a_full_disk_while_unpacking_says_so_like_a_full_disk_while_uploading() {
    let mut r = Scripted::new(
        vec!["339968 0123456789abcdef".into()],
        Ending::Exit(Some(1), "gzip: stdout: No space left on device\n"),
    );
    match r.measure() {
        Err(DeployError::Remote(e @ RemoteError::NoSpace { .. })) => assert_eq!(
            e.to_string(),
            "no space left on device at L9 (/w): free space or point workdir elsewhere"
        ),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("measured"),
    }
    assert!(!r.fallback_rm());
}

#[test]
fn no_output_at_all_is_a_corrupt_upload() {
    let mut r = Scripted::new(vec![], Ending::Exit(Some(1), ""));
    let m = agent_error(r.measure());
    assert!(m.contains("is corrupt (size None vs 4096"), "{m}");
    assert!(m.ends_with("check free space in /w"), "{m}");
}

#[test]
fn an_agent_that_does_not_start_reports_its_exit_and_stderr() {
    let mut r = Scripted::new(
        vec![digest_line(AGENT)],
        Ending::Exit(Some(126), "sh: /w/a: Permission denied\n"),
    );
    let m = agent_error(r.measure());
    assert_eq!(
        m,
        "agent does not run on L9 (fake): exit Some(126): sh: /w/a: Permission denied"
    );
}

#[test]
fn info_that_fails_after_printing_is_an_agent_that_does_not_run() {
    let mut r = Scripted::new(
        vec![digest_line(AGENT), "{\"cpu_mo".into()],
        Ending::Exit(Some(101), "panicked"),
    );
    let m = agent_error(r.measure());
    assert!(
        m.starts_with("agent does not run on L9 (fake): exit Some(101)"),
        "{m}"
    );
}

#[test]
fn missing_or_broken_info_is_not_valid_json() {
    let mut r = Scripted::new(vec![digest_line(AGENT)], Ending::Exit(Some(0), ""));
    let m = agent_error(r.measure());
    assert!(
        m.starts_with("agent info on L9 (fake) is not valid JSON"),
        "{m}"
    );

    let mut lines = vec![digest_line(AGENT), "not json".into()];
    lines.extend(stream(true));
    let mut r = Scripted::new(lines, Ending::Exit(Some(0), ""));
    let m = agent_error(r.measure());
    assert!(
        m.starts_with("agent info on L9 (fake) is not valid JSON"),
        "{m}"
    );
}

#[test]
fn connection_lost_before_info_is_a_transport_error_and_removes_the_agent() {
    for lines in [vec![], vec![digest_line(AGENT)]] {
        let mut r = Scripted::new(lines, Ending::ConnectionLost);
        match r.measure() {
            Err(DeployError::Remote(e)) => assert!(e.to_string().contains("connection reset")),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("measured"),
        }
        assert!(r.fallback_rm(), "{:?}", r.commands);
    }
}

#[test]
fn connection_lost_mid_stream_keeps_results_and_removes_the_agent() {
    let mut lines = ok_lines();
    lines.pop();
    let mut r = Scripted::new(lines, Ending::ConnectionLost);
    let m = r.measure().unwrap();
    let why = m.outcome.failure.unwrap();
    assert!(why.contains("connection reset"), "{why}");
    assert!(
        why.contains("results received before that are kept"),
        "{why}"
    );
    assert_eq!(m.outcome.results.len(), 1);
    assert!(r.fallback_rm(), "{:?}", r.commands);
}

#[test]
fn a_failing_agent_run_keeps_results_with_its_exit_status() {
    let mut lines = ok_lines();
    lines.pop();
    let mut r = Scripted::new(lines, Ending::Exit(Some(3), "first\nout of memory\n"));
    let m = r.measure().unwrap();
    let why = m.outcome.failure.unwrap();
    assert!(why.contains("without an end record"), "{why}");
    assert!(
        why.ends_with("(agent exit Some(3): out of memory)"),
        "{why}"
    );
    assert_eq!(m.outcome.results.len(), 1);
    assert!(!r.fallback_rm());
}

#[test]
fn a_killed_shell_and_a_broken_upload_fall_back_to_a_separate_rm() {
    let mut lines = ok_lines();
    lines.pop();
    let mut r = Scripted::new(lines, Ending::Exit(None, ""));
    assert!(r.measure().unwrap().outcome.failure.is_some());
    assert!(r.fallback_rm(), "{:?}", r.commands);

    let mut r = Scripted::new(vec![], Ending::Exit(Some(0), ""));
    r.upload_fails = true;
    assert!(matches!(r.measure(), Err(DeployError::Remote(_))));
    assert_eq!(r.commands.len(), 1);
    assert!(r.fallback_rm(), "{:?}", r.commands);
}

/// A shell-script agent: `info` prints `info`, `run` runs `run`.
fn script_agent(info: &str, run: &str) -> Vec<u8> {
    format!("#!/bin/sh\ncase \"$1\" in\ninfo) {info};;\nrun) {run};;\nesac\n").into_bytes()
}

/// Measure at L0 (the real command under `sh`) with `agent`, through `remote`.
fn l0(remote: &mut dyn Remote, agent: &[u8]) -> (Result<Measured, DeployError>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().to_str().unwrap();
    let m = measure(
        remote,
        &Site::at(work),
        &job(agent),
        &mut LevelProgress::start("L0"),
    );
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
    let agent = script_agent(
        &format!("echo '{}'", info_line()),
        &format!(
            "[ \"$4\" = --dir ] || exit 9; {}",
            echo_lines(&stream(true))
        ),
    );
    let (m, left) = l0(&mut LocalRemote::default(), &agent);
    let m = m.unwrap();
    assert_eq!(m.outcome.failure, None);
    assert_eq!(m.outcome.results.len(), 1);
    assert_eq!(m.info.unwrap().vcpus, 2);
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn l0_keeps_the_agents_exit_status_and_leaves_nothing() {
    let agent = script_agent(
        &format!("echo '{}'", info_line()),
        &format!("{}; echo dying >&2; exit 3", echo_lines(&stream(false))),
    );
    let (m, left) = l0(&mut LocalRemote::default(), &agent);
    let why = m.unwrap().outcome.failure.unwrap();
    assert!(why.ends_with("(agent exit Some(3): dying)"), "{why}");
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn l0_agent_that_does_not_run_leaves_nothing() {
    let agent = script_agent("echo nope >&2; exit 5", "exit 0");
    let (m, left) = l0(&mut LocalRemote::default(), &agent);
    assert_eq!(
        agent_error(m),
        "agent does not run on L0 (local): exit Some(5): nope"
    );
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// L0, but the upload loses its second half on the way.
struct Truncating(LocalRemote);

impl Remote for Truncating {
    fn endpoint(&self) -> String {
        self.0.endpoint()
    }

    fn exec_lines(
        &mut self,
        cmd: &str,
        timeout: Duration,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<ExecStatus, RemoteError> {
        self.0.exec_lines(cmd, timeout, on_line)
    }

    fn upload(
        &mut self,
        data: &[u8],
        path: &str,
        mode: u32,
        timeout: Duration,
    ) -> Result<(), RemoteError> {
        self.0.upload(&data[..data.len() / 2], path, mode, timeout)
    }
}

#[test]
fn l0_corrupt_upload_is_refused_and_leaves_nothing() {
    // Incompressible enough that half the stream is a real truncation.
    let agent: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let (m, left) = l0(&mut Truncating(LocalRemote::default()), &agent);
    let m = agent_error(m);
    assert!(
        m.starts_with("agent upload to L0 (local) is corrupt"),
        "{m}"
    );
    assert!(m.contains("check free space in"), "{m}");
    assert!(left.is_empty(), "left behind: {left:?}");
}
