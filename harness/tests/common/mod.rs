//! Helpers of the SSH / inventory integration tests: the static agent, the
//! namespace chain ([`netns`]), inventory files for it, and running the real binary.
//! What a test needs of the machine is checked with [`testreq`]: missing under CI it
//! fails, elsewhere it skips saying why.

#![allow(dead_code)] // each test binary uses its own subset

pub mod hvsite;
pub mod netns;
pub mod sim;
pub mod stack;
/// The unit tests' rule for missing requirements (harness/src/testreq.rs), shared.
#[path = "../../src/testreq.rs"]
pub mod testreq;

use model::rundoc::RunDoc;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Path of the static agent, built with scripts/build-agent on first use.
pub fn static_agent() -> PathBuf {
    static AGENT: OnceLock<PathBuf> = OnceLock::new();
    AGENT
        .get_or_init(|| {
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join("target"));
            let path = target.join("x86_64-unknown-linux-gnu/release/nestbench-agent");
            let ok = Command::new(root.join("scripts/build-agent"))
                .arg("--quiet")
                .status()
                .expect("run scripts/build-agent")
                .success();
            assert!(
                ok && path.is_file(),
                "scripts/build-agent did not produce {}",
                path.display()
            );
            path
        })
        .clone()
}

/// Path of the Windows agent (nestbench-agent.exe), built with
/// scripts/build-agent-windows on first use; `None` (the test skips, or fails under CI)
/// when the MinGW linker is missing.
pub fn windows_agent() -> Option<PathBuf> {
    static AGENT: OnceLock<Option<PathBuf>> = OnceLock::new();
    AGENT
        .get_or_init(|| {
            if !testreq::require_tool("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64") {
                return None;
            }
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join("target"));
            let path = target.join("x86_64-pc-windows-gnu/release/nestbench-agent.exe");
            let ok = Command::new(root.join("scripts/build-agent-windows"))
                .arg("--quiet")
                .status()
                .expect("run scripts/build-agent-windows")
                .success();
            assert!(
                ok && path.is_file(),
                "scripts/build-agent-windows did not produce {}",
                path.display()
            );
            Some(path)
        })
        .clone()
}

/// Whether to skip because the chain cannot be built here (the reason is on stderr);
/// under CI a missing requirement fails the test instead ([`testreq`]).
pub fn skip() -> bool {
    !netns::available()
}

/// One `[[level]]` of an inventory file for the chain.
pub struct Level {
    /// Level name.
    pub name: String,
    /// Address (as seen from `via`, or from here).
    pub host: String,
    /// SSH port.
    pub port: u16,
    /// Client key.
    pub key: PathBuf,
    /// `known_hosts` file, or `None` to pin `pinned`.
    pub known_hosts: Option<(PathBuf, &'static str)>,
    /// Pinned host key blob, used when `known_hosts` is `None`.
    pub pinned: String,
    /// Name of the jump level.
    pub via: Option<String>,
    /// Work directory.
    pub workdir: Option<PathBuf>,
    /// Connect timeout, seconds.
    pub connect_timeout: Option<u64>,
}

impl Level {
    /// Level `k` (1-based) of the chain as a straight nested stack: via L(k-1),
    /// host key pinned.
    pub fn of(c: &netns::Chain, k: usize) -> Level {
        Level {
            name: format!("L{k}"),
            host: c.addrs[k - 1].clone(),
            port: 22,
            key: c.client_key.clone(),
            known_hosts: None,
            pinned: c.host_keys[k - 1].clone(),
            via: (k > 1).then(|| format!("L{}", k - 1)),
            workdir: None,
            connect_timeout: None,
        }
    }
}

/// The TOML of an inventory listing `levels`.
pub fn inventory(levels: &[Level]) -> String {
    levels.iter().map(|l| table("[[level]]", l)).collect()
}

/// One table of an inventory file: `[[level]]`, or `[l0]` for a remote L0.
pub fn table(header: &str, l: &Level) -> String {
    let mut s = format!(
        "{header}\nname = \"{}\"\nhost = \"{}\"\nport = {}\nuser = \"root\"\nkey = \"{}\"\n",
        l.name,
        l.host,
        l.port,
        l.key.display()
    );
    match &l.known_hosts {
        Some((f, policy)) => {
            s += &format!(
                "known_hosts = \"{}\"\nhost_key_policy = \"{policy}\"\n",
                f.display()
            )
        }
        None => s += &format!("host_key = \"ssh-ed25519 {}\"\n", l.pinned),
    }
    if let Some(v) = &l.via {
        s += &format!("via = \"{v}\"\n");
    }
    if let Some(w) = &l.workdir {
        s += &format!("workdir = \"{}\"\n", w.display());
    }
    if let Some(t) = l.connect_timeout {
        s += &format!("connect_timeout = {t}\n");
    }
    s + "\n"
}

/// What a `nestbench run` left.
pub struct Ran {
    /// Exit code.
    pub code: Option<i32>,
    /// Its stderr.
    pub stderr: String,
    /// run.json.
    pub doc: RunDoc,
}

/// `nestbench run --backend inventory` with `levels`, writing into `dir/run`.
pub fn run_inventory(dir: &Path, levels: &[Level], extra: &[&str]) -> Ran {
    run_inventory_text(dir, &inventory(levels), extra)
}

/// `nestbench run --backend inventory` with the inventory `text`.
pub fn run_inventory_text(dir: &Path, text: &str, extra: &[&str]) -> Ran {
    std::fs::create_dir_all(dir).unwrap();
    let inv = dir.join("inventory.toml");
    std::fs::write(&inv, text).unwrap();
    let out = dir.join("run");
    let agent = static_agent();
    let o = Command::new(env!("CARGO_BIN_EXE_nestbench"))
        // Tests never touch a user's history: a throwaway one in the test's directory.
        .env("NESTBENCH_HISTORY", dir.join("history.sqlite"))
        .args(["run", "--backend", "inventory", "--inventory"])
        .arg(&inv)
        .arg("--out")
        .arg(&out)
        .arg("--agent")
        .arg(&agent)
        .args(extra)
        .output()
        .expect("run nestbench");
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let text = std::fs::read_to_string(out.join("run.json"))
        .unwrap_or_else(|e| panic!("no run.json ({e}); stderr:\n{stderr}"));
    let doc = RunDoc::from_json(&text, "run.json").expect("run.json parses as schema 1");
    Ran {
        code: o.status.code(),
        stderr,
        doc,
    }
}

/// A fresh directory for one scenario.
pub fn scenario_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("nbt-scenario-")
        .tempdir()
        .unwrap()
}
