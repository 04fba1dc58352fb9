//! Helpers of the QEMU stack tests: running `nestbench run` on a real stack with its
//! files under a test directory, reading what it wrote, and checking that nothing of
//! the stack survived it.

use model::rundoc::RunDoc;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Nested stacks on a small CI machine must not run side by side.
pub static SERIAL: Mutex<()> = Mutex::new(());

/// Whether to skip because a tool a stack needs is missing (saying which); under CI a
/// missing tool fails the test instead ([`super::testreq`]).
pub fn skip() -> bool {
    ![
        ("qemu-system-x86_64", "qemu-system-x86"),
        ("dropbearkey", "dropbear-bin"),
        ("/usr/sbin/dropbear", "dropbear-bin"),
        ("busybox", "busybox-static"),
        ("mke2fs", "e2fsprogs"),
        ("zstd", "zstd"),
        ("ssh-keygen", "openssh-client"),
    ]
    .into_iter()
    .all(|(tool, package)| super::testreq::require_tool(tool, package))
}

/// nestbench with its stack under `scratch` and the static agent.
pub fn nestbench(scratch: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nestbench"));
    c.env("NESTBENCH_SCRATCH_DIR", scratch)
        .env("NESTBENCH_AGENT", super::static_agent());
    c
}

/// The run.json in `dir`.
pub fn read_doc(dir: &Path) -> RunDoc {
    let text = std::fs::read_to_string(dir.join("run.json")).expect("run.json");
    serde_json::from_str(&text).expect("run.json parses")
}

/// A finished `nestbench run --levels N --suite smoke --only ONLY` (exit 0 asserted).
pub struct StackRun {
    /// NESTBENCH_SCRATCH_DIR of the run (where its stack lived).
    pub scratch: tempfile::TempDir,
    /// Holds the run directory.
    pub _out: tempfile::TempDir,
    /// The run directory.
    pub run_dir: PathBuf,
    /// nestbench's stderr.
    pub stderr: String,
    /// Its run.json.
    pub doc: RunDoc,
}

/// Run a stack of `levels` with the smoke suite's `only` workloads; it must exit 0.
pub fn run_stack(levels: u32, only: &str) -> StackRun {
    run_stack_with(levels, only, &[])
}

/// [`run_stack`] with more `nestbench run` arguments.
pub fn run_stack_with(levels: u32, only: &str, extra: &[&str]) -> StackRun {
    let scratch = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let run_dir = out.path().join("run");
    let o = nestbench(scratch.path())
        // Tests never touch a user's history: a throwaway one beside the run directory.
        .env(
            "NESTBENCH_HISTORY",
            run_dir.with_extension("history.sqlite"),
        )
        .args(["run", "--levels", &levels.to_string(), "--suite", "smoke"])
        .args(["--only", only])
        .args(extra)
        .arg("--out")
        .arg(&run_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let doc = read_doc(&run_dir);
    StackRun {
        scratch,
        _out: out,
        run_dir,
        stderr,
        doc,
    }
}

/// `env.accel` of every level, L0 first.
pub fn accels(doc: &RunDoc) -> Vec<String> {
    doc.levels
        .iter()
        .map(|l| l.env.accel.map(|a| a.to_string()).unwrap_or_default())
        .collect()
}

/// Ports of the plan lines (`ssh 127.0.0.1:PORT`) in nestbench's stderr.
pub fn planned_ports(stderr: &str) -> Vec<u16> {
    stderr
        .lines()
        .filter_map(|l| l.rsplit_once("ssh 127.0.0.1:"))
        .filter_map(|(_, p)| p.trim().parse().ok())
        .collect()
}

/// net.tcp ports of the plan lines (`net.tcp port PORT`) in nestbench's stderr.
pub fn planned_net_ports(stderr: &str) -> Vec<u16> {
    stderr
        .lines()
        .filter_map(|l| l.split_once("net.tcp port "))
        .filter_map(|(_, rest)| rest.split(',').next()?.trim().parse().ok())
        .collect()
}

/// Nothing of the stack may remain: no QEMU using `scratch`, nothing in it, no net.tcp
/// peer, no port still bound.
pub fn assert_gone(scratch: &Path, ports: &[u16]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let marker = scratch.display().to_string();
    loop {
        let out = Command::new("pgrep")
            .args(["-af", "qemu-system"])
            .output()
            .unwrap();
        let ours: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains(&marker))
            .map(str::to_string)
            .collect();
        if ours.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "qemu survived: {ours:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let peers = Command::new("pgrep")
        .args(["-af", "net-peer"])
        .output()
        .unwrap();
    let peers = String::from_utf8_lossy(&peers.stdout).to_string();
    assert!(
        !peers.lines().any(|l| l.contains("nestbench-agent")),
        "a net.tcp peer survived: {peers}"
    );
    let left: Vec<_> = std::fs::read_dir(scratch).unwrap().collect();
    assert!(left.is_empty(), "left in {}: {left:?}", scratch.display());
    for &p in ports {
        assert!(
            TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok(),
            "port {p} still bound"
        );
    }
}

/// What L1 gets on this host: `kvm` with hardware virtualization, else `tcg`.
pub fn host_accel() -> &'static str {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let virt = cpuinfo.split_whitespace().any(|w| w == "svm" || w == "vmx");
    let kvm = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok();
    if virt && kvm {
        "kvm"
    } else {
        "tcg"
    }
}

/// Run `cmd` as root in the level listening on 127.0.0.1:`port` of the stack under
/// `scratch`, with the stack's own client key and that level's host key checked
/// strictly (`level`: 1-based, names the key), as a user of a kept stack would.
pub fn ssh_into(scratch: &Path, level: u32, port: u16, cmd: &str) -> std::process::Output {
    let dir = std::fs::read_dir(scratch)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("nestbench-stack-"))
        })
        .expect("a stack directory under the scratch dir");
    let host_key = dir.join(format!("L{level}.host_key"));
    let public = Command::new("dropbearkey")
        .args(["-y", "-f"])
        .arg(&host_key)
        .output()
        .unwrap();
    let public = String::from_utf8_lossy(&public.stdout)
        .lines()
        .find(|l| l.starts_with("ssh-"))
        .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .expect("dropbearkey -y prints the public key");
    let known_hosts = dir.join("test_known_hosts");
    std::fs::write(&known_hosts, format!("[127.0.0.1]:{port} {public}\n")).unwrap();
    Command::new("ssh")
        .args([
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
        ])
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .arg("-i")
        .arg(dir.join("id_ed25519"))
        .args(["-p", &port.to_string(), "root@127.0.0.1", cmd])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

/// Run `nestbench run --levels LEVELS --suite smoke --only ONLY` with its stack under
/// `scratch`, writing to `run_dir`; call `act` once, when a stderr line first matches
/// `when`, with nestbench's pid and its stderr so far. Returns the exit status, whether
/// `act` ran, and all of stderr.
pub fn run_acting(
    scratch: &Path,
    run_dir: &Path,
    levels: u32,
    only: &str,
    when: &dyn Fn(&str) -> bool,
    act: &mut dyn FnMut(u32, &str),
) -> (std::process::ExitStatus, bool, String) {
    run_acting_with(scratch, run_dir, levels, only, &[], when, act)
}

/// [`run_acting`] with more environment for nestbench.
pub fn run_acting_with(
    scratch: &Path,
    run_dir: &Path,
    levels: u32,
    only: &str,
    env: &[(&str, &str)],
    when: &dyn Fn(&str) -> bool,
    act: &mut dyn FnMut(u32, &str),
) -> (std::process::ExitStatus, bool, String) {
    use std::io::{BufRead, BufReader};
    let mut child = nestbench(scratch)
        .envs(env.iter().copied())
        // Tests never touch a user's history: a throwaway one beside the run directory.
        .env(
            "NESTBENCH_HISTORY",
            run_dir.with_extension("history.sqlite"),
        )
        .args(["run", "--levels", &levels.to_string(), "--suite", "smoke"])
        .args(["--only", only, "--out"])
        .arg(run_dir)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut seen = String::new();
    let mut acted = false;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap_or_default();
        seen.push_str(&line);
        seen.push('\n');
        if !acted && when(&line) {
            act(child.id(), &seen);
            acted = true;
        }
    }
    (child.wait().unwrap(), acted, seen)
}
