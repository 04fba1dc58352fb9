//! The deploy command's reply judged line by line (scripted levels): what is
//! reported, when the agent drive is used and when the upload stands in for it, and
//! that the agent is removed on every path. The real commands under `sh` are in
//! `l0_tests.rs`.

use super::*;
use model::protocol::{Record, PROTOCOL_VERSION};
use model::{WorkloadError, WorkloadResult};
use std::io::Read;

/// Compressible, like a real binary.
pub(super) const AGENT: &[u8] = &[b'x'; 4096];

pub(super) fn job(binary: &[u8]) -> AgentJob<'_> {
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

/// begin, one result, one workload error, and (with `end`) the end record.
pub(super) fn stream(end: bool) -> Vec<String> {
    let mut v = vec![
        Record::Begin {
            protocol: PROTOCOL_VERSION,
            agent_version: "test".into(),
            suite: "smoke".into(),
            workloads: vec!["cpu.int".into(), "disk.seq".into()],
            info: HostInfo {
                vcpus: 2,
                ..Default::default()
            },
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

/// A level whose deploy command prints `lines` and then ends as `ending`; with
/// `drive`, the level has an agent drive, and a command that reads it prints
/// `drive_lines` (and exits 1) when they are set.
struct Scripted {
    lines: Vec<String>,
    ending: Ending,
    drive: bool,
    drive_lines: Option<Vec<String>>,
    upload_fails: bool,
    uploaded: Vec<u8>,
    commands: Vec<String>,
}

impl Scripted {
    fn new(lines: Vec<String>, ending: Ending) -> Self {
        Scripted {
            lines,
            ending,
            drive: false,
            drive_lines: None,
            upload_fails: false,
            uploaded: vec![],
            commands: vec![],
        }
    }

    fn measure(&mut self) -> Result<Measured, DeployError> {
        let site = Site {
            agent_device: self.drive.then(|| "/dev/vdc".to_string()),
            ..Site::at("/w")
        };
        measure(self, &site, &job(AGENT), &mut LevelProgress::start("L9"))
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
        if let (true, Some(lines)) = (cmd.starts_with("dd if="), &self.drive_lines) {
            for l in lines {
                on_line(l);
            }
            return Ok(ExecStatus {
                code: Some(1),
                stderr: "dd: can't open '/dev/vdc': No such file or directory\n".into(),
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

pub(super) fn agent_error(r: Result<Measured, DeployError>) -> String {
    match r {
        Err(DeployError::Agent(m)) => m,
        Err(e) => panic!("not an agent error: {e}"),
        Ok(_) => panic!("measured"),
    }
}

fn ok_lines() -> Vec<String> {
    let mut v = vec![digest_line(AGENT)];
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
    assert!(
        cmd.contains(" --sizes stream=128 --llc-mib 32 --heartbeat-s 45;"),
        "{cmd}"
    );
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
fn an_agent_that_dies_before_its_begin_record_does_not_run() {
    let mut r = Scripted::new(
        vec![digest_line(AGENT), "{\"type\":\"beg".into()],
        Ending::Exit(Some(101), "panicked"),
    );
    let m = agent_error(r.measure());
    assert!(
        m.starts_with("agent does not run on L9 (fake): exit Some(101)"),
        "{m}"
    );
}

#[test]
fn an_agent_without_a_begin_record_did_not_start_its_suite() {
    let mut r = Scripted::new(vec![digest_line(AGENT)], Ending::Exit(Some(0), ""));
    assert_eq!(
        agent_error(r.measure()),
        "agent on L9 (fake) did not start its suite: it printed no begin record"
    );

    let mut lines = vec![digest_line(AGENT), "not json".into()];
    lines.extend(stream(true));
    let mut r = Scripted::new(lines, Ending::Exit(Some(0), ""));
    let m = agent_error(r.measure());
    assert!(
        m.starts_with("agent on L9 (fake) did not start its suite: agent printed a line that is not protocol JSON"),
        "{m}"
    );
}

#[test]
fn connection_lost_before_the_begin_record_is_a_transport_error_and_removes_the_agent() {
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

#[test]
fn a_level_with_the_agent_drive_reads_it_and_uploads_nothing() {
    let mut r = Scripted::new(ok_lines(), Ending::Exit(Some(0), ""));
    r.drive = true;
    let m = r.measure().unwrap();
    assert_eq!(m.outcome.failure, None);
    assert_eq!(m.info.unwrap().vcpus, 2);
    assert!(r.uploaded.is_empty());
    assert_eq!(r.commands.len(), 1, "{:?}", r.commands);
    assert!(
        r.commands[0].starts_with("dd if=/dev/vdc of=/w/nestbench-agent-"),
        "{}",
        r.commands[0]
    );
}

#[test]
fn a_drive_without_the_agent_falls_back_to_the_upload() {
    let empty = format!("0 {}", hex::encode(Sha256::digest(b"")));
    for drive_lines in [vec![empty], vec![]] {
        let mut r = Scripted::new(ok_lines(), Ending::Exit(Some(0), ""));
        r.drive = true;
        r.drive_lines = Some(drive_lines);
        let m = r.measure().unwrap();
        assert_eq!(m.outcome.failure, None);
        assert_eq!(m.outcome.results.len(), 1);
        assert_eq!(r.commands.len(), 2, "{:?}", r.commands);
        assert!(r.commands[1].starts_with("{ rm -f /w/nestbench-agent-"));
        assert!(!r.uploaded.is_empty());
    }
}

#[test]
fn a_connection_lost_while_reading_the_drive_is_reported_not_retried() {
    let mut r = Scripted::new(vec![], Ending::ConnectionLost);
    r.drive = true;
    assert!(matches!(r.measure(), Err(DeployError::Remote(_))));
    assert!(r.uploaded.is_empty());
    assert!(r.fallback_rm(), "{:?}", r.commands);
}
