//! A run, as its table of contents: prepare (agent, sizes, plan, run directory) →
//! every level from L0 down, each measured while it is the deepest level running, so
//! an idle child's timer ticks never distort its parent's figures → finish (keep or
//! tear down the stack, final status). The loop cannot see which backend it drives;
//! what happens to each level is decided by the pure rules of [`rules`]. run.json is
//! rewritten after every change; teardown runs on every path (the stack guard's Drop,
//! and the signal thread). The caller chooses the exit code and renders the report.

mod level;
mod relaunch;
pub mod rules;
#[cfg(test)]
mod tests;

use crate::backend::Backend;
use crate::config::RunConfig;
use crate::deploy::{self, AgentJob};
use crate::progress::note;
use crate::rundir::{self, RunDir};
use crate::{agentbin, cleanup, provenance, sizing};
use level::Measure;
use model::rundoc::{LevelOutcome, LevelRecord, LevelStatus, RunDoc, RunStatus, SCHEMA_VERSION};
use model::Level;
use rules::{Decision, Done};
use std::path::PathBuf;
use std::time::Instant;

/// What a finished (or interrupted) run produced.
#[derive(Debug)]
pub struct RunSummary {
    /// The run directory.
    pub root: PathBuf,
    /// Final status (rules: failed without L0, complete when every level was measured).
    pub status: RunStatus,
    /// Why L0 could not be measured, for a failed run.
    pub l0_failure: Option<String>,
    /// How to reach each level of a kept stack (`--keep`).
    pub kept: Vec<String>,
}

/// Run the whole job described by `cfg` with `backend`.
pub fn execute(cfg: &RunConfig, backend: Box<dyn Backend>) -> anyhow::Result<RunSummary> {
    let agent = agentbin::load(&cfg.agent)?;
    // Only a level found to run Windows needs it: a missing or broken one fails that
    // level alone, with this reason.
    let windows_agent = cfg.agents().load(model::catalog::Os::Windows);
    let host = sizing::HostMemory::probe();
    let levels = match (backend.depth(), backend.capacity()) {
        (0, _) => sizing::Levels::HostOnly,
        (_, Some(c)) => sizing::Levels::Guests(c),
        (_, None) => sizing::Levels::Unknown,
    };
    let fitted = sizing::derive(cfg.suite, cfg.sizes, levels, host);
    let sizes = fitted.sizes;
    print_plan(backend.as_ref());
    if let Some(why) = sizing::residency_note(&fitted, host, cfg.suite, cfg.sizes, levels) {
        note(&format!("sizes {sizes}: {why}"));
    }
    rundir::create_dir(&cfg.out)?;
    let mut doc = first_doc(cfg, backend.as_ref(), &agent, sizes);
    doc.provenance.host.llc_mib = host.llc_mib;
    let rd = RunDir::start(&cfg.out, doc)?;
    note(&format!("run directory: {}", rd.root().display()));
    let hook_rd = rd.clone();
    let _hook = cleanup::HookGuard::new(move || on_interrupt(&hook_rd));
    let job = AgentJob {
        binary: &agent.bytes,
        windows_binary: windows_agent
            .as_ref()
            .map(|a| a.bytes.as_slice())
            .map_err(|e| e.to_string()),
        suite: cfg.suite,
        only: cfg.only.as_deref(),
        sizes,
        llc_mib: host.llc_mib,
    };
    let mut stack = StackGuard {
        backend,
        released: false,
    };
    let mut measure = |r: &mut dyn crate::remote::Remote, site: &deploy::Site, p: &mut _| {
        deploy::measure(r, site, &job, p)
    };
    measure_levels(
        &rd,
        stack.backend.as_mut(),
        &mut measure,
        &cleanup::interrupted,
    )?;
    // Interrupted: the levels never reached say so (the signal thread may not have
    // written run.json last).
    rd.update(skip_pending)?;
    let kept = stack.finish(cfg.keep, &rd)?;
    let doc = rd.snapshot();
    let status = rules::run_status(&doc.levels);
    rd.finish(status)?;
    Ok(RunSummary {
        root: rd.root().to_path_buf(),
        status,
        l0_failure: doc.level(Level::HOST).and_then(|l| l.error.clone()),
        kept,
    })
}

/// Every level, L0 first, through the same steps: decide (rules), attempt (again,
/// after a relaunch, when the stack lost it) or skip, record. Stops early only when run.json cannot be written.
pub fn measure_levels(
    rd: &RunDir,
    backend: &mut dyn Backend,
    measure: &mut Measure<'_>,
    interrupted: &dyn Fn() -> bool,
) -> anyhow::Result<()> {
    let run_start = Instant::now();
    let mut done: Vec<Done> = Vec::new();
    let mut relaunches_left = backend.relaunch_budget();
    for lvl in Level::up_to(backend.depth()) {
        let decision = {
            let b: &dyn Backend = backend;
            rules::decide(lvl, &done, &|l, on| b.depends_on(l, on), interrupted())
        };
        let rec = match decision {
            Decision::Attempt => relaunch::attempt(
                lvl,
                backend,
                measure,
                rd,
                run_start,
                interrupted,
                &mut relaunches_left,
            )?,
            Decision::Skip(reason) => {
                if !matches!(reason, model::rundoc::SkipReason::Interrupted) {
                    note(&format!("{lvl} skipped: {}", reason.describe()));
                }
                let mut rec = LevelRecord::pending(lvl);
                rec.conclude(LevelOutcome::Skipped { reason });
                rec
            }
        };
        rd.set_level(rec.clone())?;
        done.push(Done::of(&rec));
    }
    Ok(())
}

/// The plan, printed before anything starts.
fn print_plan(backend: &dyn Backend) {
    let lines = backend.describe_plan();
    if !lines.is_empty() {
        note(&format!(
            "plan ({} backend, {} levels):",
            backend.name(),
            backend.depth()
        ));
        for line in lines {
            note(&format!("  {line}"));
        }
    }
}

/// run.json as the run starts: configuration, provenance, every level pending.
fn first_doc(
    cfg: &RunConfig,
    backend: &dyn Backend,
    agent: &agentbin::AgentBinary,
    sizes: model::Sizes,
) -> RunDoc {
    let mut provenance = provenance::collect(agent);
    backend.record_provenance(&mut provenance);
    RunDoc {
        schema_version: SCHEMA_VERSION,
        run_id: cfg.run_id.clone(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: rundir::now_rfc3339(),
        finished_at: None,
        status: RunStatus::Running,
        config: cfg.to_record(backend.depth(), sizes),
        levels: Level::up_to(backend.depth())
            .map(LevelRecord::pending)
            .collect(),
        provenance,
    }
}

/// What the signal thread does to run.json before it exits: the levels not reached are
/// skipped and the run is finished (and sealed) as partial.
pub(crate) fn on_interrupt(rd: &RunDir) {
    let _ = rd.update(skip_pending);
    let _ = rd.finish(RunStatus::Partial);
}

/// Levels still pending when the run stops were never reached: it was interrupted.
fn skip_pending(d: &mut RunDoc) {
    for l in d
        .levels
        .iter_mut()
        .filter(|l| l.status == LevelStatus::Pending)
    {
        l.conclude(LevelOutcome::Skipped {
            reason: model::rundoc::SkipReason::Interrupted,
        });
    }
}

/// Tears the stack down when dropped, unless [`StackGuard::finish`] already kept it or
/// tore it down.
struct StackGuard {
    backend: Box<dyn Backend>,
    released: bool,
}

impl StackGuard {
    /// Keep the stack (`--keep`: returns how to reach each level) or tear it down now.
    fn finish(&mut self, keep: bool, rd: &RunDir) -> anyhow::Result<Vec<String>> {
        self.released = true;
        if keep {
            return self.backend.keep(rd.root());
        }
        self.teardown();
        Ok(vec![])
    }

    fn teardown(&mut self) {
        if let Err(e) = self.backend.teardown() {
            note(&format!("nestbench: warning: teardown: {e:#}"));
        }
    }
}

impl Drop for StackGuard {
    fn drop(&mut self) {
        if !self.released {
            self.teardown();
        }
    }
}
