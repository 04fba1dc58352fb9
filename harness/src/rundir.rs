//! The run directory and its source of truth, run.json. run.json is rewritten
//! atomically (write to a temporary file, then rename) after every change of state, so
//! whatever happens later — a crashed level, Ctrl-C, a full disk — what was measured
//! is already on disk.

use anyhow::Context;
use model::rundoc::{LevelRecord, RunDoc, RunStatus};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A run directory being written.
#[derive(Clone)]
pub struct RunDir {
    root: PathBuf,
    doc: Arc<Mutex<RunDoc>>,
}

/// Create `path` (and parents); refuse an existing non-empty directory.
pub fn create_dir(path: &Path) -> anyhow::Result<()> {
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
        let rd = RunDir {
            root: root.to_path_buf(),
            doc: Arc::new(Mutex::new(doc)),
        };
        rd.save()?;
        Ok(rd)
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Change the document and write it out at once.
    pub fn update(&self, f: impl FnOnce(&mut RunDoc)) -> anyhow::Result<()> {
        {
            let mut doc = self.doc.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut doc);
        }
        self.save()
    }

    /// Replace level `n`'s record and write run.json.
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
        self.doc.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Mark the run finished with `status` and write it.
    pub fn finish(&self, status: RunStatus) -> anyhow::Result<()> {
        let load = crate::provenance::load_now();
        self.update(|d| {
            d.status = status;
            d.finished_at = Some(now_rfc3339());
            d.provenance.host_load.at_end = load;
        })
    }

    fn save(&self) -> anyhow::Result<()> {
        let text = self.doc.lock().unwrap_or_else(|p| p.into_inner()).to_json();
        let path = self.root.join("run.json");
        let tmp = self.root.join(".run.json.tmp");
        std::fs::write(&tmp, text.as_bytes())
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                anyhow::anyhow!(
                    "cannot write {}: {e}; free some space — the previous run.json is intact",
                    path.display()
                )
            })
    }
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
