//! One level's turn: provision it, measure it, judge whether it can host the next, and
//! turn all of that into its run.json record. The record is written as soon as the
//! level answers (with its environment and timings) and again when it is done, so a
//! later failure loses nothing.

use super::rules::{self, AgentEnd};
use crate::backend::{Backend, BackendErrorKind};
use crate::deploy::{DeployError, Measured, Site};
use crate::progress::{note, LevelProgress};
use crate::remote::Remote;
use crate::rundir::RunDir;
use model::rundoc::{LevelOutcome, LevelRecord};
use model::{HostInfo, Level};
use std::time::Instant;

/// Measures a level that is up: the real one is [`crate::deploy::measure`]; tests pass
/// a scripted one.
pub type Measure<'a> =
    dyn FnMut(&mut dyn Remote, &Site, &mut LevelProgress) -> Result<Measured, DeployError> + 'a;

/// Provision, measure and conclude `level`; `run_start` dates its `ready_s`.
pub fn attempt(
    level: Level,
    backend: &mut dyn Backend,
    measure: &mut Measure<'_>,
    rd: &RunDir,
    run_start: Instant,
    interrupted: &dyn Fn() -> bool,
) -> anyhow::Result<LevelRecord> {
    let mut p = LevelProgress::start(&level.to_string());
    let mut rec = LevelRecord::pending(level);
    let mut prov = match backend.provision(level, &mut |s| p.stage(s)) {
        Ok(prov) => prov,
        Err(e) => {
            // Its own boot failure, or a level below it went away meanwhile?
            let loss = match e.kind.as_ref() {
                BackendErrorKind::Interrupted => None,
                _ if interrupted() => None,
                _ => backend.diagnose(level),
            };
            let outcome = rules::lost_while_booting(level, e.message(), loss);
            p.done(&progress_word(&outcome, &rec));
            note(&format!("{e}"));
            rec.conclude(outcome);
            return Ok(rec);
        }
    };
    rec.env = prov.env.clone();
    rec.timings.provision_s = Some(prov.provision_s);
    rec.timings.connect_s = prov.connect_s;
    rec.timings.ready_s = Some(run_start.elapsed().as_secs_f64());
    rd.set_level(rec.clone())?;

    let measured = measure(prov.remote.as_mut(), &prov.site, &mut p);
    let (end, info) = absorb(&mut rec, measured);
    // Lost with the stack, or its own failure? (Not asked after Ctrl-C: the teardown
    // is taking the stack away.)
    let loss = match &end {
        AgentEnd::Failed { .. } if !interrupted() => backend.diagnose(level),
        _ => None,
    };
    let loss_line = loss
        .as_ref()
        .map(|(lost, what)| format!("{level}: the stack lost {lost}: {}", first_line(what)));
    let outcome = rules::classify(end, loss);
    p.done(&progress_word(&outcome, &rec));
    match (&outcome, loss_line) {
        (LevelOutcome::Measured, _) => {}
        (LevelOutcome::Lost { .. }, Some(line)) => note(&line),
        (other, _) => note(&format!(
            "{level}: {}",
            first_line(&other.describe().unwrap_or_default())
        )),
    }
    if outcome.is_up() {
        rec.hosting = info.and_then(|i| backend.hosting(level, &i));
        if let Some(h) = rec.hosting.as_ref().filter(|h| !h.can_host) {
            note(&format!("{level} cannot host a child: {}", h.detail));
        }
    }
    rec.conclude(outcome);
    Ok(rec)
}

/// Fill `rec` from a measurement: the agent's view of the level, timings, results,
/// metrics that do not apply and workload errors. Returns how the agent ended and its `info`.
fn absorb(rec: &mut LevelRecord, m: Result<Measured, DeployError>) -> (AgentEnd, Option<HostInfo>) {
    match m {
        Ok(m) => {
            if let Some(info) = &m.info {
                rec.env.absorb_info(info);
            }
            rec.timings.deploy_s = Some(m.deploy_s);
            rec.timings.suite_s = Some(m.suite_s);
            rec.results = m.outcome.results;
            rec.not_applicable = m.outcome.not_applicable;
            rec.errors = m.outcome.errors;
            for w in &m.outcome.warnings {
                note(&format!("{}: warning: {w}", rec.level));
            }
            let end = match m.outcome.failure {
                None => AgentEnd::Finished,
                Some(reason) => AgentEnd::Failed {
                    reason,
                    results_kept: rec.results.len(),
                },
            };
            (end, m.info)
        }
        Err(e) => (
            AgentEnd::Failed {
                reason: e.to_string(),
                results_kept: 0,
            },
            None,
        ),
    }
}

fn progress_word(outcome: &LevelOutcome, rec: &LevelRecord) -> String {
    let na = match rec.not_applicable.len() {
        0 => String::new(),
        n => format!(", {n} not applicable"),
    };
    match outcome {
        LevelOutcome::Measured if rec.errors.is_empty() => {
            format!("ok, {} results{na}", rec.results.len())
        }
        LevelOutcome::Measured => format!(
            "ok, {} results{na}, {} workloads failed",
            rec.results.len(),
            rec.errors.len()
        ),
        LevelOutcome::AgentFailed { .. } => "agent failed".into(),
        LevelOutcome::Lost { lost, .. } => format!("lost ({lost} went away)"),
        LevelOutcome::Unreachable { .. } | LevelOutcome::Skipped { .. } => "failed".into(),
    }
}

/// The first line of a message that may carry a console tail.
pub fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}
