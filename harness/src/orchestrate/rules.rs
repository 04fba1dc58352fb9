//! The level-status rules, as pure functions of what happened so far. The run loop
//! asks [`decide`] before each level, turns what the level did into an outcome with
//! [`classify`], and the run's status comes from [`run_status`]. Nothing here touches
//! a backend, a remote or a file, so every rule is unit-tested against a fake backend
//! (`orchestrate/tests.rs`). The rules, in the order they apply:
//!
//! 1. After an interrupt (Ctrl-C, SIGTERM), every level not yet attempted is skipped.
//! 2. Without L0 — the reference every figure is a fraction of — nothing else runs.
//! 3. A level is skipped when a level it depends on (`Backend::depends_on`: in a nested
//!    stack every shallower level; in an inventory the hops of its `via` chain) is not
//!    up: unreachable, lost, or skipped itself.
//! 4. A level is skipped when a level it depends on was measured but cannot host a
//!    child the way the run asks (e.g. `--accel kvm` and no svm/vmx inside it). That
//!    parent stays `ok`: its own figures are good.
//! 5. A level that cannot be provisioned or reached is *unreachable*.
//! 6. A level whose agent dies, is cut off or lies is *agent failed*, with what it sent
//!    kept; levels that depend on it still run (they need the level up, not its
//!    agent) — unless the backend's post-mortem finds that the stack lost this level
//!    or one below it: then it is *lost*, naming the level that went away.
//! 7. The run is `failed` when L0 was not measured, `complete` when every level was,
//!    `partial` otherwise.
//! 8. A level the stack lost (rule 6, or a boot that failed because a level below it
//!    went away) is attempted again after the backend brought the lost level back up,
//!    while the run's relaunch budget lasts (`--relaunch`, [`relaunch_from`]); the
//!    lost attempt is kept in the level's `retries`. L0 is never relaunched.

use model::rundoc::{Hosting, LevelOutcome, LevelRecord, RunStatus, SkipReason};
use model::Level;

/// What the loop knows about a level it has finished with.
#[derive(Debug, Clone, PartialEq)]
pub struct Done {
    /// The level.
    pub level: Level,
    /// How it ended.
    pub outcome: LevelOutcome,
    /// Whether it can host a child, when judged.
    pub hosting: Option<Hosting>,
}

impl Done {
    /// From a concluded level record (a record without an outcome counts as skipped).
    pub fn of(rec: &LevelRecord) -> Done {
        Done {
            level: rec.level,
            outcome: rec.outcome.clone().unwrap_or(LevelOutcome::Skipped {
                reason: SkipReason::Interrupted,
            }),
            hosting: rec.hosting.clone(),
        }
    }
}

/// Whether to attempt a level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Provision and measure it.
    Attempt,
    /// Record it as skipped, for this reason.
    Skip(SkipReason),
}

/// Rules 1–4: attempt `level`, given the levels `done` before it, which levels it
/// `depends_on`, and whether the run was `interrupted`.
pub fn decide(
    level: Level,
    done: &[Done],
    depends_on: &dyn Fn(Level, Level) -> bool,
    interrupted: bool,
) -> Decision {
    if interrupted {
        return Decision::Skip(SkipReason::Interrupted);
    }
    if !level.is_host() {
        let l0_measured = done
            .iter()
            .any(|d| d.level.is_host() && d.outcome == LevelOutcome::Measured);
        if !l0_measured {
            return Decision::Skip(SkipReason::ReferenceMissing);
        }
    }
    for d in done.iter().filter(|d| depends_on(level, d.level)) {
        if !d.outcome.is_up() {
            return Decision::Skip(SkipReason::DependsOn { level: d.level });
        }
        if let Some(h) = d.hosting.as_ref().filter(|h| !h.can_host) {
            return Decision::Skip(SkipReason::CannotHost {
                parent: d.level,
                detail: h.detail.clone(),
            });
        }
    }
    Decision::Attempt
}

/// How the agent of an attempted level ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentEnd {
    /// Its stream ended properly.
    Finished,
    /// It failed (or nothing could be deployed); `results_kept` were kept.
    Failed {
        /// Why, in one line.
        reason: String,
        /// Results received before the failure.
        results_kept: usize,
    },
}

/// Rules 5–6 for a level that was provisioned: its outcome from how its agent ended
/// and, for a failure, the backend's post-mortem (`loss`: the level that went away and
/// what it left).
pub fn classify(agent: AgentEnd, loss: Option<(Level, String)>) -> LevelOutcome {
    match (agent, loss) {
        (AgentEnd::Finished, _) => LevelOutcome::Measured,
        (AgentEnd::Failed { reason, .. }, Some((lost, what))) => LevelOutcome::Lost {
            lost,
            reason: format!("agent failed: {reason}; the stack lost {lost}: {what}"),
        },
        (
            AgentEnd::Failed {
                reason,
                results_kept,
            },
            None,
        ) => LevelOutcome::AgentFailed {
            reason,
            results_kept,
        },
    }
}

/// Rule 8: the level from which the stack must be brought back up to attempt `level`
/// again after it ended with `outcome` — the level that went away — or None: the
/// outcome was not a loss, the run was interrupted, or no relaunch is left.
pub fn relaunch_from(
    level: Level,
    outcome: &LevelOutcome,
    budget_left: u32,
    interrupted: bool,
) -> Option<Level> {
    match outcome {
        LevelOutcome::Lost { lost, .. }
            if budget_left > 0 && !interrupted && !lost.is_host() && *lost <= level =>
        {
            Some(*lost)
        }
        _ => None,
    }
}

/// Rule 6 for a level that could not be brought up because the stack lost `lost`
/// below it (`what`: the post-mortem's words); its own boot failures stay
/// unreachable (rule 5).
pub fn lost_while_booting(
    level: Level,
    reason: String,
    loss: Option<(Level, String)>,
) -> LevelOutcome {
    match loss {
        Some((lost, what)) if lost < level => LevelOutcome::Lost {
            lost,
            reason: format!("{reason}; the stack lost {lost}: {what}"),
        },
        _ => LevelOutcome::Unreachable { reason },
    }
}

/// Rule 7: the run's status from its levels' records.
pub fn run_status(levels: &[LevelRecord]) -> RunStatus {
    let measured = |l: &LevelRecord| l.outcome == Some(LevelOutcome::Measured);
    match levels.iter().find(|l| l.level.is_host()) {
        Some(l0) if measured(l0) => {
            if levels.iter().all(measured) {
                RunStatus::Complete
            } else {
                RunStatus::Partial
            }
        }
        _ => RunStatus::Failed,
    }
}
