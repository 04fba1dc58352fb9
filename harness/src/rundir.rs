//! The run directory and its source of truth, run.json. run.json is rewritten
//! atomically after every change of state, so whatever happens later — a crashed level,
//! Ctrl-C, a full disk — what was measured is already on disk.
//!
//! One owner: the document and the file are behind one lock, and every write happens
//! while holding it — serialised, written to a temporary file of its own in the same
//! directory (`.run.json.<pid>.<n>.tmp`), fsynced, renamed over run.json, then the
//! directory fsynced. So the main thread and the signal thread's interrupt hook can
//! never interleave their writes, and a later state is never overwritten by an earlier
//! one. A failed write removes its temporary file and leaves the previous run.json as
//! it was.
//!
//! [`RunDir::finish`] seals the run: the signal thread exits the process right after
//! its hook has finished the run, so any later update (the main thread still going) is
//! ignored rather than starting a temporary file the exit could leave behind, or
//! replacing the interrupt's record. A write also holds off that exit while it runs
//! ([`crate::cleanup::hold_exit`]), which covers a signal that comes before the hook is
//! registered.

use anyhow::Context;
use model::rundoc::{LevelRecord, RunDoc, RunStatus};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A run directory being written.
#[derive(Clone)]
pub struct RunDir {
    root: PathBuf,
    state: Arc<Mutex<State>>,
}

/// What the lock guards: the document, and whether it is sealed.
struct State {
    doc: RunDoc,
    /// Set by `finish`: later changes are ignored and nothing more is written.
    sealed: bool,
}

/// Makes each temporary file name unique within the process (the pid makes it unique
/// between processes).
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Whether `path` may become a run directory: absent, or an empty directory. Only
/// reads (`run --dry-run` asks it too).
pub fn check_usable(path: &Path) -> anyhow::Result<()> {
    if path.exists() {
        let mut entries = std::fs::read_dir(path).with_context(|| {
            format!(
                "{} exists and is not a readable directory; choose another --out",
                path.display()
            )
        })?;
        if entries.next().is_some() {
            anyhow::bail!(
                "run directory {} exists and is not empty; choose another --out or remove it",
                path.display()
            );
        }
    }
    Ok(())
}

/// Create `path` (and parents); refuse an existing non-empty directory.
pub fn create_dir(path: &Path) -> anyhow::Result<()> {
    check_usable(path)?;
    std::fs::create_dir_all(path.join("logs")).with_context(|| {
        format!(
            "cannot create run directory {}; check permissions and free space",
            path.display()
        )
    })
}

impl RunDir {
    /// Start a run directory at `root` (already created) with `doc` as its first state.
    pub fn start(root: &Path, doc: RunDoc) -> anyhow::Result<RunDir> {
        write(root, &doc)?;
        Ok(RunDir {
            root: root.to_path_buf(),
            state: Arc::new(Mutex::new(State { doc, sealed: false })),
        })
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Change the document and write it out at once. Once the run is finished (sealed)
    /// `f` is not applied and nothing is written, and `Ok` is returned: the finished
    /// record is final (after Ctrl-C it is the interrupt hook's).
    pub fn update(&self, f: impl FnOnce(&mut RunDoc)) -> anyhow::Result<()> {
        let mut state = self.lock();
        if state.sealed {
            return Ok(());
        }
        f(&mut state.doc);
        write(&self.root, &state.doc)
    }

    /// Replace level `n`'s record and write run.json (ignored once sealed).
    pub fn set_level(&self, rec: LevelRecord) -> anyhow::Result<()> {
        self.update(|d| {
            if let Some(slot) = d.levels.iter_mut().find(|l| l.level == rec.level) {
                *slot = rec;
            } else {
                d.levels.push(rec);
            }
        })
    }

    /// A copy of the current document.
    pub fn snapshot(&self) -> RunDoc {
        self.lock().doc.clone()
    }

    /// Mark the run finished with `status`, write it and seal the run: later updates,
    /// and a second `finish`, are ignored (the first finish wins). Sealed even if the
    /// write fails, so that no later write starts after the caller has given up.
    pub fn finish(&self, status: RunStatus) -> anyhow::Result<()> {
        let load = crate::provenance::load_now();
        let mut state = self.lock();
        if state.sealed {
            return Ok(());
        }
        state.sealed = true;
        let d = &mut state.doc;
        d.status = status;
        d.finished_at = Some(now_rfc3339());
        d.provenance.host_load.at_end = load;
        write(&self.root, &state.doc)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Replace `root`/run.json with `doc`: a temporary file of this write's own, fsynced,
/// renamed over run.json, then the directory fsynced. Callers hold the lock (or own the
/// only copy, in `start`). On failure before the rename the temporary file is removed
/// and run.json is untouched.
fn write(root: &Path, doc: &RunDoc) -> anyhow::Result<()> {
    // Not cut short by the signal thread's exit (e.g. a signal before the caller's
    // interrupt hook was registered), so the temporary file is never left behind.
    let _no_exit = crate::cleanup::hold_exit();
    let path = root.join("run.json");
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = root.join(format!(".run.json.{}.{n}.tmp", std::process::id()));
    let replaced = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(doc.to_json().as_bytes())?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = replaced {
        let _ = std::fs::remove_file(&tmp);
        anyhow::bail!(
            "cannot write {}: {e}; free some space — the previous run.json is intact",
            path.display()
        );
    }
    std::fs::File::open(root)
        .and_then(|d| d.sync_all())
        .with_context(|| {
            format!(
                "{} was written but its directory could not be synced, so it may not \
                 survive a crash; check the file system",
                path.display()
            )
        })
}

/// Now, as RFC 3339 UTC.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// A fresh run id: UTC timestamp plus random suffix, e.g. `20261128T021500Z-3f9a`.
pub fn new_run_id() -> String {
    let t = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    format!(
        "{}-{:04x}",
        t.format(&fmt).unwrap_or_default(),
        rand::random::<u16>()
    )
}

#[cfg(test)]
mod tests;
