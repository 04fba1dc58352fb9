//! The Windows agent's working directory: `<--dir>\nestbench-agent-<pid>-<nanos>`, made
//! at start and removed at the end on every path, as on Linux (`workdir.rs`):
//!
//! - at the end of the run, on drop;
//! - on a console event — Ctrl-C, Ctrl-Break, the console closing, logoff, shutdown,
//!   what Windows sends where Linux sends SIGINT, SIGTERM or SIGHUP — from a handler
//!   that Windows runs on a thread of its own while the workload goes on: it closes
//!   the data files still open, removes every path the disk workloads write
//!   (`<workdir>\<id>\data`, known up front) and the directories, and exits 130 for
//!   Ctrl-C, 131 for Ctrl-Break, 143 otherwise;
//! - even when the process is killed outright (TerminateProcess, which runs no code of
//!   the agent's), the data files go, because each is opened delete-on-close and the
//!   kernel closes a dead process's handles (`workloads`' Windows scratch module). Only
//!   the emptied directories can then remain, as on Linux after SIGKILL.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once, PoisonError};
use windows_sys::core::BOOL;
use windows_sys::Win32::System::Console::{SetConsoleCtrlHandler, CTRL_BREAK_EVENT, CTRL_C_EVENT};

/// Paths for the console handler, deepest first; empty when none are registered.
static CLEANUP: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

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
    /// Creates a fresh directory under `parent` (private to the user, as `%TEMP%`'s
    /// inherited ACL makes it) and arranges its removal on console events for the
    /// files of `disk_ids` workloads.
    pub fn create(parent: &Path, disk_ids: &[&str]) -> Result<Self, WorkDirError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = parent.join(format!("nestbench-agent-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&path).map_err(|e| WorkDirError {
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
        cleanup_list().clear();
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            eprintln!(
                "nestbench-agent: could not remove {}: {e}",
                self.path.display()
            );
        }
    }
}

fn cleanup_list() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    CLEANUP.lock().unwrap_or_else(PoisonError::into_inner)
}

fn register(root: &Path, disk_ids: &[&str]) {
    let mut paths = Vec::new();
    for id in disk_ids {
        let dir = root.join(id);
        paths.push(dir.join(workloads::kernels::scratch::FILE_NAME));
        paths.push(dir);
    }
    paths.push(root.to_path_buf());
    *cleanup_list() = paths;
    static HANDLER: Once = Once::new();
    HANDLER.call_once(|| {
        // SAFETY: installs a handler for this process's console events.
        if unsafe { SetConsoleCtrlHandler(Some(on_console_event), 1) } == 0 {
            eprintln!(
                "nestbench-agent: cannot handle console events ({}): an interrupt may leave empty directories",
                std::io::Error::last_os_error()
            );
        }
    });
}

/// The exit status after console event `kind`, as a shell reports a signalled command.
fn exit_code(kind: u32) -> i32 {
    match kind {
        CTRL_C_EVENT => 128 + 2,
        CTRL_BREAK_EVENT => 128 + 3,
        _ => 128 + 15,
    }
}

/// Runs on a thread Windows starts for the event, while the workload goes on: closes
/// the open data files (which deletes them), removes the registered paths, exits.
unsafe extern "system" fn on_console_event(kind: u32) -> BOOL {
    workloads::kernels::scratch::abandon_open_files();
    for path in cleanup_list().iter() {
        if std::fs::remove_file(path).is_err() {
            let _ = std::fs::remove_dir(path);
        }
    }
    std::process::exit(exit_code(kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_events_exit_as_signals_would() {
        assert_eq!(exit_code(CTRL_C_EVENT), 130);
        assert_eq!(exit_code(CTRL_BREAK_EVENT), 131);
        assert_eq!(exit_code(2), 143);
    }
}
