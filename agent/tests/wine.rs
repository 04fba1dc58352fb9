//! nestbench-agent.exe, run for real under Wine (Debian 12's wine64, Wine 8.0): `info`
//! must be one HostInfo with the Windows facts and the last-level cache the Linux agent
//! would read here, a smoke run must be a stream the controller's parser accepts with
//! every catalog metric as a result or — only where the catalog or the machine says so
//! — a not-applicable record, its figures positive and finite (sanity only: they are
//! Wine's figures, not Windows'), and a Ctrl-C in the middle of a disk workload must
//! leave nothing behind.
//!
//! The .exe is built by scripts/build-agent-windows (quick when it is up to date). It
//! runs in a fresh WINEPREFIX of its own, in a temporary directory holding only the
//! .exe and the test-only bcryptprimitives shim (wine-shim/README.md), so it shows that
//! the agent needs nothing but what Wine provides under Windows' own DLL names. The
//! prefix's wineserver is killed and both directories removed on every path, failure
//! included ([`Wine`]'s drop). Without wine64, MinGW or the Rust target the test skips;
//! under CI (harness/src/testreq.rs) it fails instead.

#[allow(dead_code)] // the shared rule has more than this test uses
#[path = "../../harness/src/testreq.rs"]
mod testreq;

use model::catalog::{Os, WORKLOADS};
use model::protocol::{parse_stream, PROTOCOL_VERSION};
use model::{HostInfo, MetricId};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const WINE: &str = "/usr/lib/wine/wine64";
const WINESERVER: &str = "/usr/lib/wine/wineserver";
const TARGET: &str = "x86_64-pc-windows-gnu";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Whether everything the test needs is here (under CI: panics naming what is not).
fn available() -> bool {
    let target = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .is_ok_and(|o| {
            o.status.success() && Path::new(String::from_utf8_lossy(&o.stdout).trim()).is_dir()
        });
    testreq::require_tool(WINE, "wine64")
        && testreq::require_tool(WINESERVER, "wine64")
        && testreq::require_tool("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")
        && testreq::require(
            &format!("the Rust target {TARGET}"),
            target,
            &format!("rustup target add {TARGET}, or run scripts/setup"),
        )
}

/// scripts/build-agent-windows' output.
fn build_exe() -> PathBuf {
    let ok = Command::new(root().join("scripts/build-agent-windows"))
        .arg("--quiet")
        .status()
        .expect("run scripts/build-agent-windows")
        .success();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let exe = target.join(TARGET).join("release/nestbench-agent.exe");
    assert!(
        ok && exe.is_file(),
        "scripts/build-agent-windows did not produce {}",
        exe.display()
    );
    exe
}

/// All of `r`, read on a thread of its own (so neither pipe can fill up and stall).
fn drain<R: Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut v);
        }
        v
    })
}

/// Waits for `child` at most `limit`, else kills it and says so; never panics (it
/// also runs in [`Wine`]'s drop).
fn finish(mut child: Child, limit: Duration) -> Result<Output, String> {
    let (out, err) = (drain(child.stdout.take()), drain(child.stderr.take()));
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("did not finish within {} s", limit.as_secs()));
            }
            Err(e) => return Err(format!("cannot be waited for: {e}")),
        }
    };
    Ok(Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// [`finish`], panicking with `what` when it does not.
fn finished(child: Child, limit: Duration, what: &str) -> Output {
    finish(child, limit).unwrap_or_else(|e| panic!("{what} {e}"))
}

/// A Wine prefix and a directory with the .exe and the shim; both go, with the
/// prefix's wineserver, when this is dropped — also when the test panics.
struct Wine {
    prefix: tempfile::TempDir,
    bin: tempfile::TempDir,
}

impl Wine {
    fn new(exe: &Path) -> Wine {
        let w = Wine {
            prefix: tempfile::tempdir().unwrap(),
            bin: tempfile::tempdir().unwrap(),
        };
        std::fs::copy(exe, w.exe()).unwrap();
        let shim = root().join("agent/tests/wine-shim");
        let built = Command::new("x86_64-w64-mingw32-gcc")
            .args(["-shared", "-O2", "-o"])
            .arg(w.bin.path().join("bcryptprimitives.dll"))
            .arg(shim.join("processprng.c"))
            .arg(shim.join("bcryptprimitives.def"))
            .arg("-ladvapi32")
            .status()
            .expect("run x86_64-w64-mingw32-gcc");
        assert!(built.success(), "the Wine shim did not build");
        let boot = finished(
            w.cmd(&["wineboot", "-i"]).spawn().expect("start wineboot"),
            Duration::from_secs(180),
            "wineboot -i",
        );
        assert!(
            boot.status.success(),
            "wineboot -i: {}",
            String::from_utf8_lossy(&boot.stderr)
        );
        w
    }

    fn exe(&self) -> PathBuf {
        self.bin.path().join("nestbench-agent.exe")
    }

    /// `wine64 ARGS` in the bin directory with this prefix, output piped.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(WINE);
        c.args(args)
            .current_dir(self.bin.path())
            .env("WINEPREFIX", self.prefix.path())
            .env("WINEDEBUG", "-all")
            // No Mono or Gecko installers (they would want a network and a display).
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env_remove("DISPLAY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// The agent with `args`, to completion.
    fn agent(&self, args: &[&str]) -> Output {
        let mut all = vec!["nestbench-agent.exe"];
        all.extend(args);
        let child = self.cmd(&all).spawn().expect("start wine64");
        finished(
            child,
            Duration::from_secs(300),
            &format!("nestbench-agent.exe {args:?}"),
        )
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        let kill = Command::new(WINESERVER)
            .arg("-k")
            .env("WINEPREFIX", self.prefix.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if let Ok(k) = kill {
            if let Err(e) = finish(k, Duration::from_secs(30)) {
                eprintln!("wineserver -k {e}");
            }
        }
    }
}

/// `p` as Wine sees it: the Unix root is drive Z:.
fn win_path(p: &Path) -> String {
    format!("Z:{}", p.display()).replace('/', "\\")
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn the_exe_under_wine_reports_info_runs_the_smoke_suite_and_cleans_up_after_ctrl_c() {
    if !available() {
        return;
    }
    let t0 = Instant::now();
    let exe = build_exe();
    let wine = Wine::new(&exe);
    eprintln!(
        "wine: built and booted in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    info(&wine);
    smoke(&wine);
    interrupted(&wine);
    eprintln!(
        "wine: the agent's checks took {:.1} s",
        t.elapsed().as_secs_f64()
    );
}

fn info(wine: &Wine) {
    let out = wine.agent(&["info"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    let info: HostInfo = serde_json::from_str(&text).unwrap();
    assert!(info.vcpus >= 1 && info.memory_mib > 0, "{info:?}");
    assert!(
        !info.hostname.is_empty() && !info.cpu_model.is_empty(),
        "{info:?}"
    );
    assert!(!info.kvm_usable);
    // Wine answers GetLogicalProcessorInformationEx(RelationCache) from this machine's
    // sysfs cache directories, so the .exe's LLC is the one the Linux agent reads here
    // (480 MiB on the machine this was written on): Some where sysfs describes a cache,
    // None — the API yielding no cache record — where it does not.
    let sysfs = model::info::llc_mib_from(|p| std::fs::read_to_string(p).ok());
    assert_eq!(info.llc_mib, sysfs, "{info:?}");
    assert_ne!(info.llc_mib, Some(0), "{info:?}");
    let w = info.windows.expect("the Windows facts");
    assert!(w.build > 0 && w.version.contains('.'), "{w:?}");
    assert_eq!(info.kernel, format!("{}.{}", w.version, w.build));
    // Wine has a service manager but no Hyper-V.
    assert_eq!(w.hyperv_vmms, "not installed");
    eprintln!("wine: info {text}");
}

fn smoke(wine: &Wine) {
    let dir = tempfile::tempdir().unwrap();
    let out = wine.agent(&[
        "run",
        "--suite",
        "smoke",
        "--dir",
        &win_path(dir.path()),
        "--sizes",
        "stream=3,latency=4,pagefault=2,disk=2",
        "--budget-ms",
        "20",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let s = parse_stream(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(s.failure, None, "{stderr}");
    let begin = s.begin.as_ref().unwrap();
    assert_eq!(begin.protocol, PROTOCOL_VERSION);
    assert!(begin.info.windows.is_some());
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let cpus = begin.info.vcpus;
    for w in WORKLOADS {
        for m in w.metrics {
            let id = MetricId::of(w, m);
            let result = s.results.iter().find(|r| r.id == id);
            let na = s.not_applicable.iter().find(|n| n.id == id);
            assert!(
                result.is_some() != na.is_some(),
                "{id}: result {result:?}, not applicable {na:?}"
            );
            let expect_na = !w.os.contains(&Os::Windows) || (w.id == "exit.ipi" && cpus < 2);
            assert_eq!(na.is_some(), expect_na, "{id}: {na:?}");
            if let Some(r) = result {
                assert!(
                    r.samples.len() >= 5 && r.samples.iter().all(|v| v.is_finite() && *v > 0.0),
                    "{id}: {:?}",
                    r.samples
                );
            }
        }
    }
    let disk = s
        .results
        .iter()
        .find(|r| r.id.key() == "disk.seq/write")
        .unwrap();
    assert!(disk.params["no_buffering"].is_boolean() && disk.params["fs"].is_string());
    let timer = s
        .results
        .iter()
        .find(|r| r.id.key() == "exit.timer/sleep_overshoot")
        .unwrap();
    assert!(
        timer.params["timer_resolution_us"].as_f64().unwrap() > 0.0,
        "{:?}",
        timer.params
    );
    assert!(
        entries(dir.path()).is_empty(),
        "left behind: {:?}",
        entries(dir.path())
    );
}

/// Ctrl-C (SIGINT, which Wine turns into a CTRL_C_EVENT) while disk.fsync writes its
/// file: exit 130 and nothing left in --dir.
fn interrupted(wine: &Wine) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = wine.cmd(&[
        "nestbench-agent.exe",
        "run",
        "--suite",
        "standard",
        "--only",
        "disk.fsync",
        "--dir",
        &win_path(dir.path()),
    ]);
    let child = cmd.stdout(Stdio::null()).spawn().expect("start wine64");
    let deadline = Instant::now() + Duration::from_secs(60);
    let written = || {
        entries(dir.path())
            .iter()
            .any(|w| dir.path().join(w).join("disk.fsync").join("data").exists())
    };
    while !written() {
        if Instant::now() > deadline {
            let out = finish(child, Duration::from_secs(1));
            panic!("the agent never wrote its file: {out:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signals the wine64 process this test started (it runs the .exe itself).
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = finished(child, Duration::from_secs(60), "the interrupted agent");
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        entries(dir.path()).is_empty(),
        "left behind: {:?}",
        entries(dir.path())
    );
}
