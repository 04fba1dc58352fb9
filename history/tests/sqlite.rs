//! The embedded engine on temporary files: the shared suite, and what only a file can
//! show — migrations from nothing, a newer schema and a corrupt file refused in one
//! line without a change, and the directory created on first use.

mod common;

use common::one_line;
use history::{open, HistoryError, Location};
use std::path::Path;

fn sqlite(_name: &str) -> Option<(tempfile::TempDir, Location)> {
    let dir = tempfile::tempdir().unwrap();
    let loc = Location::Sqlite(dir.path().join("history.sqlite"));
    Some((dir, loc))
}

shared_suite!(sqlite);

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[test]
fn an_empty_file_is_migrated_in_a_directory_made_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/history.sqlite");
    let mut h = open(&Location::Sqlite(path.clone())).unwrap();
    assert_eq!(h.schema_version().unwrap(), history::SCHEMA_VERSION);
    drop(h);
    let tables: Vec<String> = raw(&path)
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        tables,
        [
            "noise_profiles",
            "run_metrics",
            "run_tags",
            "runs",
            "schema_migrations"
        ]
    );
    let steps: i64 = raw(&path)
        .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(steps, history::SCHEMA_VERSION);
}

#[test]
fn a_newer_schema_is_refused_in_one_line_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite");
    drop(open(&Location::Sqlite(path.clone())).unwrap());
    raw(&path)
        .execute(
            "INSERT INTO schema_migrations VALUES (99, 'from the future', '2030-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = open(&Location::Sqlite(path.clone())).unwrap_err();
    assert!(
        matches!(err, HistoryError::TooNew { found: 99, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        one_line(&text) && text.contains("upgrade nestbench"),
        "{text}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file was changed"
    );
}

#[test]
fn a_file_of_random_bytes_is_refused_in_one_line_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite");
    // Deterministic noise (xorshift), 64 KiB.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let bytes: Vec<u8> = (0..65536)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&path, &bytes).unwrap();
    let err = open(&Location::Sqlite(path.clone())).unwrap_err();
    assert!(matches!(err, HistoryError::Corrupt { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        one_line(&text) && text.contains("not a usable nestbench history"),
        "{text}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn a_directory_in_the_way_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let err = open(&Location::Sqlite(dir.path().to_path_buf())).unwrap_err();
    assert!(one_line(&err.to_string()), "{err}");
}

#[test]
fn a_version_1_database_gains_the_tail_columns_and_keeps_its_profiles() {
    // Made a version 1 database by undoing step 2 on a fresh one: the columns dropped,
    // its row deleted, and a profile written the way version 1 wrote them.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite");
    drop(open(&Location::Sqlite(path.clone())).unwrap());
    raw(&path)
        .execute_batch(
            "ALTER TABLE noise_profiles DROP COLUMN tail_nu;
             ALTER TABLE noise_profiles DROP COLUMN tail_scale;
             DELETE FROM schema_migrations WHERE version = 2;
             INSERT INTO noise_profiles VALUES ('h', 'c', 0, 'cpu.int', 'ops', 0.02, 10, 't');",
        )
        .unwrap();
    let mut h = open(&Location::Sqlite(path.clone())).unwrap();
    assert_eq!(h.schema_version().unwrap(), 2);
    let p = h.profiles("h", "c").unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].log_sigma, p[0].runs), (0.02, 10));
    assert_eq!((p[0].tail_nu, p[0].tail_scale), (None, None));
}
