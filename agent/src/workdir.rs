//! The agent's own working directory: `<--dir>/nestbench-agent-<pid>-<nanos>`, made
//! at start and removed at the end on every path — on drop, and from SIGINT, SIGTERM
//! and SIGHUP (e.g. when the controller's SSH session goes away). A signal handler may
//! only make async-signal-safe calls, so the paths it removes are prepared up front:
//! each disk workload writes exactly `<workdir>/<id>/data`.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicPtr, Ordering};

/// Paths for the signal handler, deepest first; null when none are registered.
static CLEANUP: AtomicPtr<Vec<CString>> = AtomicPtr::new(std::ptr::null_mut());

/// The agent's directory could not be made.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot create the agent's directory {path}: {reason}: pass --dir a writable directory")]
pub struct WorkDirError {
    /// The directory it tried to make.
    pub path: String,
    /// The OS error.
    pub reason: String,
}

/// The working directory; removed with everything in it on drop.
#[derive(Debug)]
pub struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    /// Creates a fresh, private directory under `parent` and arranges its removal on
    /// termination signals for the files of `disk_ids` workloads.
    pub fn create(parent: &Path, disk_ids: &[&str]) -> Result<Self, WorkDirError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = parent.join(format!("nestbench-agent-{}-{nanos}", std::process::id()));
        let mut b = std::fs::DirBuilder::new();
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(&path).map_err(|e| WorkDirError {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        register(&path, disk_ids);
        Ok(WorkDir { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        // The path list is leaked, not freed: a handler running on another thread may
        // still be reading it.
        CLEANUP.store(std::ptr::null_mut(), Ordering::SeqCst);
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            eprintln!(
                "nestbench-agent: could not remove {}: {e}",
                self.path.display()
            );
        }
    }
}

fn cstr(p: &Path) -> Option<CString> {
    CString::new(p.as_os_str().as_bytes()).ok()
}

fn register(root: &Path, disk_ids: &[&str]) {
    let mut paths = Vec::new();
    for id in disk_ids {
        let dir = root.join(id);
        paths.extend(cstr(&dir.join(workloads::kernels::scratch::FILE_NAME)));
        paths.extend(cstr(&dir));
    }
    paths.extend(cstr(root));
    CLEANUP.store(Box::into_raw(Box::new(paths)), Ordering::SeqCst);
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: installs a handler that only calls async-signal-safe functions.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = handler;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

extern "C" fn on_signal(sig: libc::c_int) {
    let p = CLEANUP.load(Ordering::SeqCst);
    if !p.is_null() {
        // SAFETY: registered Vecs are never freed; unlink and rmdir are async-signal-safe and harmless on paths that do not exist.
        unsafe {
            for path in (*p).iter() {
                if libc::unlink(path.as_ptr()) != 0 {
                    libc::rmdir(path.as_ptr());
                }
            }
        }
    }
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(128 + sig) };
}
