//! Teardown on every path. Whatever a run starts on this machine — a qemu process, a
//! temporary directory, a key file — is registered here with an RAII guard. The guard
//! cleans up on normal drop (success and error paths); on SIGINT/SIGTERM/SIGHUP the
//! signal thread cleans up everything still registered, runs the interrupt hooks (which
//! record the interruption in run.json) and exits 130/143. Deeper levels live inside
//! L1's qemu, so killing the host-side processes takes the whole stack down.
//!
//! The main thread keeps running meanwhile. A write that must not be cut short by that
//! exit (run.json's temporary file and rename) holds [`hold_exit`]: the signal thread
//! waits for such writes before exiting, and none starts after.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Registry {
    /// id → (pid, label, whether pid is a process group to signal as a whole)
    pids: BTreeMap<u64, (i32, String, bool)>,
    paths: BTreeMap<u64, PathBuf>,
    hooks: BTreeMap<u64, Box<dyn FnOnce() + Send>>,
}

static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Shared by writes in progress; the signal thread takes it exclusively to exit.
static EXIT_GATE: RwLock<()> = RwLock::new(());

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// True once a termination signal arrived; long loops check it to stop early.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Keep the signal-time exit away until the guard is dropped (it waits for the
/// guard); once the signal thread is exiting, this blocks until the process is gone.
/// For short writes that must not be left half done, such as a temporary file renamed
/// into place; never hold it across anything slow.
pub fn hold_exit() -> RwLockReadGuard<'static, ()> {
    EXIT_GATE.read().unwrap_or_else(|p| p.into_inner())
}

/// When a termination signal arrived, block until the signal thread ends the process
/// (it exits with 128+signal after teardown); return at once otherwise.
pub fn await_signal_exit() {
    if interrupted() {
        std::thread::sleep(Duration::from_secs(120));
    }
}

/// Terminate `pid` (SIGTERM, then SIGKILL after `grace`) and reap it if it is ours.
pub fn terminate(pid: i32, grace: Duration) {
    terminate_target(pid, false, grace)
}

/// As [`terminate`]; with `group`, every process of the group `pid` leads is signalled.
fn terminate_target(pid: i32, group: bool, grace: Duration) {
    let target = if group { -pid } else { pid };
    // SAFETY: plain kill(2)/waitpid(2) calls on a pid we started; no memory is shared.
    unsafe {
        if libc::kill(target, libc::SIGTERM) != 0 {
            return;
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            let mut st = 0;
            let r = libc::waitpid(pid, &mut st, libc::WNOHANG);
            if r == pid || (r < 0 && libc::kill(pid, 0) != 0) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        libc::kill(target, libc::SIGKILL);
        let mut st = 0;
        libc::waitpid(pid, &mut st, 0);
    }
}

/// A process that must not outlive the run. Dropping the guard terminates it.
#[derive(Debug)]
pub struct ProcessGuard {
    id: u64,
    pid: i32,
}

impl ProcessGuard {
    /// Register `pid` (described by `label` in messages).
    pub fn new(pid: u32, label: impl Into<String>) -> Self {
        let id = next_id();
        registry()
            .pids
            .insert(id, (pid as i32, label.into(), false));
        ProcessGuard {
            id,
            pid: pid as i32,
        }
    }

    /// Register the process group led by `pgid`: a signal-time cleanup reaches the
    /// leader's children too (e.g. what `sh -c` started).
    pub fn group(pgid: u32, label: impl Into<String>) -> Self {
        let id = next_id();
        registry()
            .pids
            .insert(id, (pgid as i32, label.into(), true));
        ProcessGuard {
            id,
            pid: pgid as i32,
        }
    }

    /// Stop tracking the process without killing it (for `--keep`, or once it has
    /// been reaped).
    pub fn release(self) {
        registry().pids.remove(&self.id);
        std::mem::forget(self);
    }
}

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        if let Some((_, _, group)) = registry().pids.remove(&self.id) {
            terminate_target(self.pid, group, Duration::from_secs(3));
        }
    }
}

/// A file or directory that must not outlive the run. Dropping the guard removes it.
#[derive(Debug)]
pub struct PathGuard {
    id: u64,
    path: PathBuf,
}

impl PathGuard {
    /// Register `path` for removal.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let id = next_id();
        let path = path.into();
        registry().paths.insert(id, path.clone());
        PathGuard { id, path }
    }

    /// The guarded path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keep the path (for `--keep`).
    pub fn release(self) -> PathBuf {
        registry().paths.remove(&self.id);
        let p = self.path.clone();
        std::mem::forget(self);
        p
    }
}

impl Drop for PathGuard {
    fn drop(&mut self) {
        if registry().paths.remove(&self.id).is_some() {
            remove_path(&self.path);
        }
    }
}

fn remove_path(p: &Path) {
    if p.is_dir() {
        let _ = std::fs::remove_dir_all(p);
    } else {
        let _ = std::fs::remove_file(p);
    }
}

/// Something to do if the run is interrupted (e.g. record it in run.json). Dropping
/// the guard unregisters it. Hooks run on the signal thread, in registration order,
/// while the main thread may still be running: what a hook shares with it must be
/// synchronised (run.json is: see rundir.rs).
pub struct HookGuard {
    id: u64,
}

impl HookGuard {
    /// Register `hook`.
    pub fn new(hook: impl FnOnce() + Send + 'static) -> Self {
        let id = next_id();
        registry().hooks.insert(id, Box::new(hook));
        HookGuard { id }
    }
}

impl Drop for HookGuard {
    fn drop(&mut self) {
        registry().hooks.remove(&self.id);
    }
}

/// Kill every registered process and remove every registered path, newest first.
pub fn clean_all() {
    let (pids, paths) = {
        let mut r = registry();
        (std::mem::take(&mut r.pids), std::mem::take(&mut r.paths))
    };
    for (_, (pid, _, group)) in pids.into_iter().rev() {
        terminate_target(pid, group, Duration::from_secs(2));
    }
    for (_, p) in paths.into_iter().rev() {
        remove_path(&p);
    }
}

/// Start the thread that turns SIGINT/SIGTERM/SIGHUP into a clean exit.
pub fn install_signal_handlers() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            INTERRUPTED.store(true, Ordering::SeqCst);
            eprintln!("\nnestbench: interrupted, tearing the stack down…");
            clean_all();
            let hooks = std::mem::take(&mut registry().hooks);
            for (_, h) in hooks {
                h();
            }
            // Writes in progress finish first; later ones wait for the exit.
            let _no_more_writes = EXIT_GATE.write().unwrap_or_else(|p| p.into_inner());
            std::process::exit(128 + sig);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_clean_up_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("scratch");
        std::fs::create_dir(&p).unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        {
            let _g = PathGuard::new(&p);
            let _pg = ProcessGuard::new(pid, "sleep");
        }
        assert!(!p.exists());
        // SAFETY: probing a pid with signal 0.
        assert_ne!(unsafe { libc::kill(pid as i32, 0) }, 0, "process survived");
        // The guard reaped it already; this only satisfies the Child's contract.
        let _ = child.try_wait();
    }

    #[test]
    fn released_guards_leave_things_alone() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kept");
        std::fs::write(&p, "x").unwrap();
        PathGuard::new(&p).release();
        assert!(p.exists());
    }
}
