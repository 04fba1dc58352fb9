//! A level measured again after the stack lost it. On this project's machines the
//! first KVM level above TCG (L2) sometimes goes away while a level inside it boots or
//! runs (docs/qemu.md, "Reliability"): a fault of the emulated SVM below it, not of
//! the level being measured. Where the backend can ([`Backend::relaunch_budget`]),
//! the run brings the lost part of the stack back up and attempts the level again,
//! at most `--relaunch` times in the whole run. Nothing is hidden by it: the lost
//! attempt, with every result it sent, is kept in the level's `retries` (not mixed into
//! its results), the relaunch's seconds are recorded, the progress says what happens,
//! and the report lists the attempt with its error. A level that fails on its own (its
//! agent, its own boot) is not attempted again: only a loss the post-mortem names
//! (rule 8 in [`rules`]).

use super::level::{self, Measure};
use super::rules;
use crate::backend::Backend;
use crate::progress::{note, LevelProgress};
use crate::rundir::RunDir;
use model::rundoc::{LevelOutcome, LevelRecord, Retry};
use model::Level;
use std::time::Instant;

/// Attempt `lvl` ([`level::attempt`]); while the stack loses it and `left` relaunches
/// remain, clear what is left of the lost part, bring the levels above `lvl` back up
/// ([`Backend::relaunch`]) and attempt it again. Each lost attempt is
/// written to run.json before the relaunch starts.
pub fn attempt(
    lvl: Level,
    backend: &mut dyn Backend,
    measure: &mut Measure<'_>,
    rd: &RunDir,
    run_start: Instant,
    interrupted: &dyn Fn() -> bool,
    left: &mut u32,
) -> anyhow::Result<LevelRecord> {
    let mut retries: Vec<Retry> = Vec::new();
    loop {
        let mut rec = level::attempt(lvl, backend, measure, rd, run_start, interrupted)?;
        rec.retries = std::mem::take(&mut retries);
        let Some(outcome) = rec.outcome.clone() else {
            return Ok(rec);
        };
        let Some(from) = rules::relaunch_from(lvl, &outcome, *left, interrupted()) else {
            return Ok(rec);
        };
        rd.set_level(rec.clone())?;
        *left -= 1;
        let which = match lvl.0 - from.0 {
            0 => format!("{lvl}"),
            1 => format!("{from}"),
            _ => format!("{from}–{}", Level(lvl.0 - 1)),
        };
        let what = if from == lvl {
            format!("relaunching {lvl}")
        } else {
            format!("relaunching {which}, then {lvl}")
        };
        note(&format!(
            "{lvl}: {what} and measuring {lvl} again (attempt {}; --relaunch allows {} more)",
            rec.retries.len() + 2,
            *left
        ));
        let started = Instant::now();
        // Even a level lost on its own goes through the backend: what is left of it
        // (a wedged QEMU, its sessions) must go before it is launched again.
        let mut p = LevelProgress::start(&which);
        let relaunched = backend.relaunch(from, lvl, &mut |s| p.stage(s));
        p.done(if relaunched.is_ok() {
            "ready for another attempt"
        } else {
            "failed"
        });
        if let Err(e) = relaunched {
            note(&format!("{lvl}: relaunching {from} failed: {e}"));
            if let LevelOutcome::Lost { lost, reason } = outcome {
                rec.conclude(LevelOutcome::Lost {
                    lost,
                    reason: format!("{reason}; relaunching {from} failed: {}", e.message()),
                });
            }
            return Ok(rec);
        }
        retries = std::mem::take(&mut rec.retries);
        retries.push(Retry {
            attempt: Box::new(rec),
            relaunched_from: from,
            relaunch_s: started.elapsed().as_secs_f64(),
        });
    }
}
