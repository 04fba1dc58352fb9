//! A level measured again after the stack lost it (`nestbench run --relaunch`): the
//! report says which attempt its figures are from and lists the lost attempt with its
//! error; the lost attempt's results (kept in run.json's `retries`) are never mixed
//! into the level's figures, its CSV rows or `compare`.

mod common;

use model::rundoc::{LevelOutcome, Retry, RunDoc};
use model::Level;
use reports::analysis::Analysis;
use reports::export;

const LOST: &str = "agent failed: went silent; the stack lost L2: L2 does not answer";

/// The complete fixture, with L3 measured on its second attempt: the first sent its
/// results at a tenth of the speed, then was lost with L2.
fn retried() -> RunDoc {
    let mut d = common::doc("complete.json");
    let mut lost = d.levels[3].clone();
    for r in &mut lost.results {
        r.samples.iter_mut().for_each(|s| *s /= 10.0);
    }
    lost.results.truncate(2);
    lost.conclude(LevelOutcome::Lost {
        lost: Level(2),
        reason: LOST.into(),
    });
    d.levels[3].retries = vec![Retry {
        attempt: Box::new(lost),
        relaunched_from: Level(2),
        relaunch_s: 41.25,
    }];
    d
}

#[test]
fn the_report_names_the_attempt_and_lists_the_lost_one() {
    let md = export::markdown::render(&export::document::build(&Analysis::new(retried())));
    assert!(
        md.contains(&format!("| L3 | (attempt 1, measured again) | {LOST} |")),
        "{md}"
    );
    assert!(
        md.contains("attempt 1 was lost (2 results kept in run.json's retries, not used here); L2 was brought back up in 41.2 s; these figures are attempt 2's"),
        "{md}"
    );
    // The level itself is ok, and the run complete.
    assert!(md.contains("- **Failed or skipped:** none"), "{md}");
}

#[test]
fn the_lost_attempt_changes_no_figure() {
    let plain = Analysis::new(common::doc("complete.json"));
    let retried = Analysis::new(retried());
    let csv = |a: &Analysis| String::from_utf8(export::csv::to_bytes(a)).unwrap();
    assert_eq!(csv(&plain), csv(&retried));
    let row = |a: &Analysis| {
        a.row(Level(3), "cpu.int/ops")
            .and_then(|r| r.summary.as_ref().map(|s| s.median))
    };
    assert!(row(&plain).is_some());
    assert_eq!(row(&plain), row(&retried));
}
