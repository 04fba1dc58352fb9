//! Helpers shared by the integration tests: fixtures, scratch directories, snapshots.
#![allow(dead_code)]

use model::rundoc::RunDoc;
use std::path::{Path, PathBuf};

/// Path of a fixture file.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A parsed fixture.
pub fn doc(name: &str) -> RunDoc {
    let path = fixture(name);
    RunDoc::from_json(
        &std::fs::read_to_string(&path).unwrap(),
        &path.display().to_string(),
    )
    .unwrap()
}

/// A fresh, empty scratch directory unique to `name`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("reports-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A run directory holding a copy of fixture `name` as run.json.
pub fn run_dir(fixture_name: &str, tag: &str) -> PathBuf {
    let dir = scratch(tag);
    std::fs::copy(fixture(fixture_name), dir.join("run.json")).unwrap();
    dir
}

/// Compare `actual` with the committed snapshot `name`; with `UPDATE_SNAPSHOTS=1`
/// rewrite the snapshot instead.
pub fn assert_snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}: run with UPDATE_SNAPSHOTS=1 and review it",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b);
        panic!(
            "snapshot {} differs (first differing line {:?}); if the change is intended rerun with UPDATE_SNAPSHOTS=1 and review the diff\n--- actual ---\n{actual}",
            path.display(),
            first.map(|i| i + 1)
        );
    }
}
