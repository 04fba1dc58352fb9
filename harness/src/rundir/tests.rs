//! run.json has one owner: the interrupt hook racing the main thread, a sealed run, a
//! failed write.

use super::*;
use model::rundoc::{BackendKind, LevelStatus, RunConfigRecord, SCHEMA_VERSION};
use model::Level;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

/// A small document: three pending levels, nothing measured.
fn small_doc() -> RunDoc {
    RunDoc {
        schema_version: SCHEMA_VERSION,
        run_id: "race".into(),
        tool_version: "0".into(),
        started_at: now_rfc3339(),
        finished_at: None,
        status: RunStatus::Running,
        config: RunConfigRecord {
            backend: BackendKind::Host,
            levels: 2,
            suite: model::Suite::Smoke,
            only: None,
            keep: false,
            sizes: Default::default(),
            qemu: None,
            inventory: None,
            hyperv: None,
            tags: Default::default(),
        },
        levels: Level::up_to(2).map(LevelRecord::pending).collect(),
        provenance: Default::default(),
    }
}

/// Where the race runs: tmpfs when there is one (the race is in the code, not the
/// disk, and 1,000 iterations of fsyncs on a disk take many seconds), else the
/// temporary directory.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    tempfile::Builder::new()
        .prefix("nbt-rundir-")
        .tempdir_in(base)
        .unwrap()
}

/// The names in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The parsed run.json in `dir`; it must be whole and valid.
fn on_disk(dir: &Path) -> RunDoc {
    let text = std::fs::read_to_string(dir.join("run.json")).unwrap();
    RunDoc::from_json(&text, "run.json")
        .unwrap_or_else(|e| panic!("run.json is not a whole document: {e}\n{text:?}"))
}

/// Ctrl-C while the main thread writes: the signal thread runs orchestrate's interrupt
/// hook (update, then finish) while the main thread keeps updating. What the process
/// exit right after the hook would leave, and what is there once the main thread is
/// done too, must be the same every time: one whole run.json saying the run was
/// interrupted (the hook's status, the levels skipped), the last state recorded, and no
/// temporary file. The main thread keeps writing until the signal thread has looked,
/// so the two always overlap.
#[test]
fn an_interrupt_racing_the_main_thread_leaves_one_whole_run_json() {
    const UPDATES: usize = 20;
    for i in 0..1000 {
        let dir = scratch();
        let rd = RunDir::start(dir.path(), small_doc()).unwrap();
        let go = Arc::new(Barrier::new(2));
        let looked = Arc::new(AtomicBool::new(false));
        let signal_thread = {
            let (rd, go, looked) = (rd.clone(), go.clone(), looked.clone());
            let root = dir.path().to_path_buf();
            std::thread::spawn(move || {
                go.wait();
                crate::orchestrate::on_interrupt(&rd);
                // Here the signal thread exits the process.
                let text = std::fs::read_to_string(root.join("run.json")).unwrap();
                let names = entries(&root);
                looked.store(true, Ordering::SeqCst);
                (text, names)
            })
        };
        go.wait();
        let mut k = 0;
        while k < UPDATES || !looked.load(Ordering::SeqCst) {
            rd.update(|d| {
                d.run_id = format!("race-{k}");
            })
            .unwrap_or_else(|e| panic!("iteration {i}, update {k}: {e:#}"));
            k += 1;
        }
        let (at_exit, names_at_exit) = signal_thread.join().unwrap();
        let at_exit = RunDoc::from_json(&at_exit, "run.json").unwrap_or_else(|e| {
            panic!("iteration {i}: run.json at exit is not a whole document: {e}\n{at_exit:?}")
        });
        let doc = on_disk(dir.path());
        for (when, doc, names) in [
            ("at exit", &at_exit, names_at_exit),
            ("after the main thread", &doc, entries(dir.path())),
        ] {
            assert_eq!(doc.status, RunStatus::Partial, "iteration {i}, {when}");
            assert!(doc.finished_at.is_some(), "iteration {i}, {when}");
            assert!(
                doc.levels.iter().all(|l| l.status == LevelStatus::Skipped),
                "iteration {i}, {when}: {:?}",
                doc.levels
            );
            assert_eq!(names, ["run.json"], "iteration {i}, {when}");
        }
        assert_eq!(doc, rd.snapshot(), "iteration {i}: run.json is stale");
    }
}

/// After `finish`, updates (and a second finish) change nothing and write nothing.
#[test]
fn a_finished_run_is_sealed() {
    let dir = scratch();
    let rd = RunDir::start(dir.path(), small_doc()).unwrap();
    rd.finish(RunStatus::Partial).unwrap();
    let sealed = std::fs::read_to_string(dir.path().join("run.json")).unwrap();
    rd.update(|d| d.status = RunStatus::Running).unwrap();
    rd.set_level(LevelRecord::pending(Level(7))).unwrap();
    rd.finish(RunStatus::Complete).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("run.json")).unwrap(),
        sealed
    );
    assert_eq!(rd.snapshot(), on_disk(dir.path()));
    assert_eq!(rd.snapshot().status, RunStatus::Partial);
    assert!(rd.snapshot().provenance.host_load.at_end.is_some());
    assert_eq!(entries(dir.path()), ["run.json"]);
}

/// A small tmpfs mounted for one test, unmounted on drop.
struct TinyFs(tempfile::TempDir);

impl TinyFs {
    /// `kib` KiB of tmpfs, or `None` (the test skips) without root outside CI.
    fn mount(kib: u32) -> Option<TinyFs> {
        if !crate::testreq::require_root("mounts a tmpfs to fill") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let c = |s: &str| std::ffi::CString::new(s).unwrap();
        let target = c(dir.path().to_str().unwrap());
        let (fs, opts) = (c("tmpfs"), c(&format!("size={kib}k")));
        // SAFETY: mount(2) with valid NUL-terminated strings; the target is ours.
        let r = unsafe {
            libc::mount(
                fs.as_ptr(),
                target.as_ptr(),
                fs.as_ptr(),
                0,
                opts.as_ptr().cast(),
            )
        };
        assert_eq!(r, 0, "mount tmpfs: {}", std::io::Error::last_os_error());
        Some(TinyFs(dir))
    }
}

impl Drop for TinyFs {
    fn drop(&mut self) {
        let target = std::ffi::CString::new(self.0.path().to_str().unwrap()).unwrap();
        // SAFETY: unmounting the tmpfs this guard mounted.
        unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
    }
}

/// A full disk: the write fails saying what to do, its temporary file is gone, and
/// run.json still holds the previous state.
#[test]
fn a_failed_write_keeps_the_previous_run_json_and_no_temporary_file() {
    let Some(fs) = TinyFs::mount(64) else { return };
    let root = fs.0.path();
    let rd = RunDir::start(root, small_doc()).unwrap();
    let before = std::fs::read(root.join("run.json")).unwrap();
    let e = rd
        .update(|d| {
            d.run_id = "x".repeat(256 << 10);
        })
        .unwrap_err();
    let e = format!("{e:#}");
    assert!(e.contains("free some space"), "{e}");
    assert!(e.contains("previous run.json is intact"), "{e}");
    assert_eq!(std::fs::read(root.join("run.json")).unwrap(), before);
    assert_eq!(entries(root), ["run.json"]);
}
