//! Helpers of the history's integration tests: run documents to record (the version 1
//! fixtures of `reports`, a real run directory, and variations of it), the machine
//! requirement rule ([`req`]), a throwaway PostgreSQL server ([`pg`]) with TLS
//! certificates ([`certs`]), and the test bodies both engines run ([`suite`]).

#![allow(dead_code)] // each test binary uses its own subset

pub mod certs;
pub mod pg;
/// The project's one rule for a missing requirement, shared with the controller's tests.
#[path = "../../../harness/src/testreq.rs"]
pub mod req;
pub mod suite;

use model::rundoc::{RunDoc, RunStatus};
use model::Suite;
use std::path::{Path, PathBuf};

/// The crate's directory.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The version 1 run.json fixtures of `reports` (complete.json, partial.json).
pub fn v1_fixtures() -> Vec<PathBuf> {
    let dir = crate_dir().join("../reports/tests/fixtures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    assert!(v.len() >= 2, "fixtures in {}", dir.display());
    v
}

/// A real run directory: `nestbench run --levels 0 --suite smoke --only cpu.int`
/// made with the debug binary (run.json and results.csv kept).
pub fn real_run_dir() -> PathBuf {
    crate_dir().join("tests/fixtures/run-l0")
}

/// Read a run.json file.
pub fn read_doc(path: &Path) -> RunDoc {
    RunDoc::from_json(
        &std::fs::read_to_string(path).unwrap(),
        &path.display().to_string(),
    )
    .unwrap()
}

/// Every fixture document: the version 1 ones (upgraded) and the real run.
pub fn fixture_docs() -> Vec<RunDoc> {
    let mut docs: Vec<RunDoc> = v1_fixtures().iter().map(|p| read_doc(p)).collect();
    docs.push(read_doc(&real_run_dir().join("run.json")));
    docs
}

/// `n` runs that differ in every selectable field, one day apart from 2025-01-01:
/// run `i` is `run-{i:02}`, tagged `ci=yes` and `qemu=` abc/def alternately, suite
/// smoke/quick alternately, levels `i % 3`, backend qemu for even `i` else host, tool
/// 0.1.(i % 2), status complete except every third (partial), and on a second host
/// (another CPU) from `i >= n - 2`.
pub fn varied_runs(n: usize) -> Vec<RunDoc> {
    let base = read_doc(&real_run_dir().join("run.json"));
    (0..n)
        .map(|i| {
            let mut d = base.clone();
            d.run_id = format!("run-{i:02}");
            d.started_at = format!("2025-01-{:02}T12:00:00Z", i + 1);
            d.finished_at = Some(format!("2025-01-{:02}T12:10:00Z", i + 1));
            d.config.tags.insert("ci".into(), "yes".into());
            let qemu = if i % 2 == 0 { "abc" } else { "def" };
            d.config.tags.insert("qemu".into(), qemu.into());
            d.config.suite = if i % 2 == 0 {
                Suite::Smoke
            } else {
                Suite::Quick
            };
            d.config.levels = (i % 3) as u32;
            d.config.backend = if i % 2 == 0 {
                model::rundoc::BackendKind::Qemu
            } else {
                model::rundoc::BackendKind::Host
            };
            d.tool_version = format!("0.1.{}", i % 2);
            d.status = if i % 3 == 2 {
                RunStatus::Partial
            } else {
                RunStatus::Complete
            };
            if i + 2 >= n {
                d.provenance.host.cpu = Some("Another CPU".into());
            }
            d
        })
        .collect()
}

/// Whether `text` is one line.
pub fn one_line(text: &str) -> bool {
    !text.contains('\n')
}
