//! Which runs a command means: one syntax for every command that takes runs.
//!
//! An input is
//! - a run directory (holding `run.json`) or a `run.json` file: one run;
//! - a directory whose subdirectories are run directories: a set, oldest run first
//!   (its subdirectories without a `run.json` are ignored; one whose run.json cannot be
//!   read is an error naming it — a set must not silently lose runs);
//! - `history:KEY=VALUE,…`: runs selected from the run history (README, "Run history").
//!
//! The runs of one input must be of one configuration (`reports::compare::RunSet`).

use crate::exit::Failure;
use model::rundoc::RunDoc;
use reports::compare::RunSet;
use std::path::Path;

/// The prefix of a history selection.
pub const HISTORY_PREFIX: &str = "history:";

/// Runs selected from the history, for a `history:` input.
pub type HistorySelect<'a> = dyn FnMut(&str) -> Result<Vec<RunDoc>, Failure> + 'a;

/// The runs `input` names.
pub fn resolve(input: &str, history: &mut HistorySelect<'_>) -> Result<RunSet, Failure> {
    let runs = match input.strip_prefix(HISTORY_PREFIX) {
        Some(selection) => history(selection)?,
        None => from_path(Path::new(input))?,
    };
    RunSet::new(input, runs).map_err(|e| Failure::error(e.to_string()))
}

/// The runs of a path: a run, or a directory of runs.
pub fn from_path(path: &Path) -> Result<Vec<RunDoc>, Failure> {
    let load = |p: &Path| reports::load_run(p).map_err(|e| Failure::error(e.to_string()));
    if !path.exists() {
        return Err(Failure::error(format!(
            "{} does not exist: give a run directory, a run.json, a directory of run directories or history:KEY=VALUE,…",
            path.display()
        )));
    }
    if path.is_file() || path.join("run.json").is_file() {
        return Ok(vec![load(path)?]);
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| Failure::error(format!("cannot read directory {}: {e}", path.display())))?;
    let mut dirs: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("run.json").is_file())
        .collect();
    dirs.sort();
    let mut runs = dirs
        .iter()
        .map(|d| load(d))
        .collect::<Result<Vec<_>, _>>()?;
    if runs.is_empty() {
        return Err(Failure::error(format!(
            "{} is neither a run directory nor a directory of run directories (no run.json in it or its subdirectories)",
            path.display()
        )));
    }
    runs.sort_by(|a, b| a.started_at.cmp(&b.started_at));
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> String {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../reports/tests/fixtures/complete.json"
        ))
        .unwrap()
    }

    #[test]
    fn a_run_a_file_and_a_set_of_runs_resolve() {
        let dir = tempfile::tempdir().unwrap();
        let mut none = |_: &str| -> Result<Vec<RunDoc>, Failure> { unreachable!() };
        for (i, t) in ["2025-01-02T00:00:00Z", "2025-01-01T00:00:00Z"]
            .iter()
            .enumerate()
        {
            let d = dir.path().join(format!("r{i}"));
            std::fs::create_dir(&d).unwrap();
            let mut doc = RunDoc::from_json(&fixture(), "f").unwrap();
            doc.run_id = format!("r{i}");
            doc.started_at = t.to_string();
            std::fs::write(d.join("run.json"), doc.to_json()).unwrap();
        }
        std::fs::create_dir(dir.path().join("not-a-run")).unwrap();
        let set = resolve(dir.path().to_str().unwrap(), &mut none).unwrap();
        let ids: Vec<_> = set.runs.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["r1", "r0"], "oldest first");
        let one = resolve(dir.path().join("r0").to_str().unwrap(), &mut none).unwrap();
        assert_eq!(one.runs.len(), 1);
        let file = resolve(dir.path().join("r0/run.json").to_str().unwrap(), &mut none).unwrap();
        assert_eq!(file.runs[0].run_id, "r0");
        let e = resolve(dir.path().join("not-a-run").to_str().unwrap(), &mut none).unwrap_err();
        assert!(
            e.message.contains("neither a run directory"),
            "{}",
            e.message
        );
        let e = resolve("/nonexistent/x", &mut none).unwrap_err();
        assert!(e.message.contains("does not exist"), "{}", e.message);
    }

    #[test]
    fn history_inputs_go_to_the_history() {
        let mut asked = String::new();
        let mut h = |sel: &str| -> Result<Vec<RunDoc>, Failure> {
            asked = sel.to_string();
            Ok(vec![RunDoc::from_json(&fixture(), "f").unwrap()])
        };
        let set = resolve("history:last=5,suite=quick", &mut h).unwrap();
        assert_eq!(asked, "last=5,suite=quick");
        assert_eq!(set.runs.len(), 1);
        let mut empty = |_: &str| -> Result<Vec<RunDoc>, Failure> { Ok(vec![]) };
        let e = resolve("history:last=5", &mut empty).unwrap_err();
        assert!(e.message.contains("holds no run"), "{}", e.message);
    }
}
