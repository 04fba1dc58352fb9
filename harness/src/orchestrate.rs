//! The run: L0 first, then each level brought up inside the previous one and measured
//! while it is the deepest level running (DESIGN §2). run.json is rewritten after every
//! level; teardown runs on every path (the stack guard's Drop, and the signal thread).

use crate::backend::Backend;
use crate::cli::AccelArg;
use crate::config::{BackendConfig, RunConfig};
use crate::deploy::{self, AgentJob, DeployError, Measured};
use crate::exit::{CmdResult, Failure, Outcome};
use crate::progress::{note, LevelProgress};
use crate::remote::local::LocalRemote;
use crate::rundir::{self, RunDir};
use crate::{cleanup, doctor, sizing};
use std::time::Instant;
use workloads::rundoc::{LevelRecord, LevelStatus, RunDoc, RunStatus, SCHEMA_VERSION};

/// Tears the stack down when dropped, unless it was kept.
struct StackGuard {
    backend: Option<Box<dyn Backend>>,
}

impl Drop for StackGuard {
    fn drop(&mut self) {
        if let Some(b) = self.backend.as_mut() {
            if let Err(e) = b.teardown() {
                note(&format!("nestbench: warning: teardown: {e:#}"));
            }
        }
    }
}

/// Run the whole job described by `cfg` with `backend` (None: host only).
pub fn execute(cfg: &RunConfig, backend: Option<Box<dyn Backend>>) -> CmdResult {
    let agent = crate::agentbin::load(&cfg.agent)?;
    let depth = backend.as_ref().map_or(0, |b| b.depth());
    let capacity = backend.as_ref().and_then(|b| b.capacity());
    let sizes = sizing::derive(cfg.suite, cfg.sizes, capacity);
    if let Some(b) = &backend {
        note(&format!("plan ({} backend, {depth} levels):", b.name()));
        for line in b.describe_plan() {
            note(&format!("  {line}"));
        }
    }
    rundir::create_dir(&cfg.out).map_err(Failure::from)?;
    let mut config = cfg.to_record();
    config.insert("levels".into(), depth.into());
    config.insert(
        "sizes".into(),
        serde_json::to_value(sizes).unwrap_or_default(),
    );
    let mut provenance = crate::provenance::collect(&agent);
    if let Some(b) = &backend {
        provenance.extend(b.provenance());
    }
    let doc = RunDoc {
        schema_version: SCHEMA_VERSION,
        run_id: cfg.run_id.clone(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: rundir::now_rfc3339(),
        finished_at: None,
        status: RunStatus::Running,
        config,
        levels: (0..=depth).map(LevelRecord::pending).collect(),
        provenance,
    };
    let rd = RunDir::start(&cfg.out, doc)?;
    note(&format!("run directory: {}", rd.root().display()));
    let rd_hook = rd.clone();
    let _hook = cleanup::HookGuard::new(move || on_interrupt(&rd_hook));
    let run_start = Instant::now();
    let job = AgentJob {
        binary: &agent.bytes,
        suite: cfg.suite,
        only: cfg.only.as_deref(),
        sizes,
    };

    // L0: the host, through the same deploy path as every guest.
    let mut rec = LevelRecord::pending(0);
    rec.env.accel = Some("native".into());
    rec.timings.ready_s = Some(0.0);
    rec.timings.provision_s = Some(0.0);
    let mut p = LevelProgress::start("L0");
    let workdir = std::env::temp_dir().display().to_string();
    let fs = crate::backend::qemu::disk::fs_type(&std::env::temp_dir());
    rec.env.disk = Some(format!(
        "{workdir} on the host's {fs} (no virtual disk layer)"
    ));
    let l0 = deploy::measure(&mut LocalRemote::default(), &workdir, &job, &mut p);
    let l0_ok = record_measurement(&mut rec, l0, p);
    rd.set_level(rec)?;
    if !l0_ok {
        mark_rest(&rd, 1, depth, "L0 could not be measured")?;
        rd.finish(RunStatus::Failed)?;
        let _ = render(&rd);
        let why = rd.snapshot().levels[0].error.clone().unwrap_or_default();
        return Err(Failure::error(format!("L0 could not be measured: {why}")));
    }

    let mut stack = StackGuard { backend };
    // Levels that could not be provisioned; those depending on one are skipped.
    let mut unreachable: Vec<u32> = vec![];
    for n in 1..=depth {
        if cleanup::interrupted() {
            break;
        }
        let backend = stack.backend.as_mut().expect("depth > 0 implies a backend");
        let name = format!("L{n}");
        if let Some(f) = unreachable.iter().find(|&&f| backend.depends_on(n, f)) {
            note(&format!("{name} skipped: L{f} failed"));
            mark_rest(&rd, n, n, &format!("L{f} failed"))?;
            continue;
        }
        let mut p = LevelProgress::start(&name);
        let mut rec = LevelRecord::pending(n);
        let prov = backend.provision(n, &mut |s| p.stage(s));
        let mut prov = match prov {
            Ok(prov) => prov,
            Err(e) => {
                p.done("failed");
                rec.status = LevelStatus::Failed;
                rec.error = Some(e.message.clone());
                note(&format!("{name} failed: {}", first_line(&e.message)));
                rd.set_level(rec)?;
                unreachable.push(n);
                continue;
            }
        };
        rec.env = prov.env.clone();
        rec.timings.provision_s = Some(prov.provision_s);
        rec.timings.ready_s = Some(run_start.elapsed().as_secs_f64());
        rd.set_level(rec.clone())?;
        // Can this level host the next one? Asked now, while it is up; the answer
        // decides after its measurement whether its children are attempted.
        let verdict = match child_accel(cfg) {
            Some(a) if n < depth => {
                p.stage("doctor: nesting checks");
                guest_verdict(prov.remote.as_mut(), &name, a)
            }
            _ => None,
        };
        let m = deploy::measure(prov.remote.as_mut(), &prov.workdir, &job, &mut p);
        // Lost with the stack, or its own failure? Deeper levels can't run in a level
        // that is gone; the results measured so far are kept either way. (Not asked
        // after Ctrl-C: the teardown is taking the stack away.)
        if !record_measurement(&mut rec, m, p) && !cleanup::interrupted() {
            if let Some(loss) = backend.diagnose(n) {
                note(&format!("{name}: {}", first_line(&loss)));
                rec.error = Some(format!("{}; {loss}", rec.error.unwrap_or_default()));
                unreachable.push(n);
            }
        }
        if let Some(why) = verdict {
            rec.status = LevelStatus::Failed;
            rec.error = Some(why);
            unreachable.push(n);
        }
        rd.set_level(rec)?;
    }

    // Interrupted: the levels never reached say so (the signal thread may not have
    // written run.json last).
    rd.update(skip_pending)?;
    let mut kept = vec![];
    if cfg.keep {
        if let Some(b) = stack.backend.as_mut() {
            kept = b.keep(rd.root())?;
        }
        stack.backend = None;
    } else {
        drop(stack);
    }
    let doc = rd.snapshot();
    let all_ok = doc.levels.iter().all(|l| l.status == LevelStatus::Ok);
    rd.finish(if all_ok {
        RunStatus::Complete
    } else {
        RunStatus::Partial
    })?;
    if let Err(e) = render(&rd) {
        note(&format!(
            "nestbench: warning: report not generated: {e:#}; run `nestbench report {}`",
            rd.root().display()
        ));
    }
    for line in kept {
        note(&line);
    }
    note(&format!("results: {}", rd.root().display()));
    Ok(if all_ok {
        Outcome::Ok
    } else {
        Outcome::Partial
    })
}

/// Fill `rec` from a measurement; returns whether the level is ok.
fn record_measurement(
    rec: &mut LevelRecord,
    m: Result<Measured, DeployError>,
    p: LevelProgress,
) -> bool {
    match m {
        Ok(m) => {
            if let Some(info) = &m.info {
                rec.env.absorb_info(info);
            }
            rec.timings.deploy_s = Some(m.deploy_s);
            rec.timings.suite_s = Some(m.suite_s);
            rec.results = m.outcome.results;
            rec.errors = m.outcome.errors;
            for w in &m.outcome.warnings {
                note(&format!("{}: warning: {w}", rec.name));
            }
            match m.outcome.failure {
                None => {
                    rec.status = LevelStatus::Ok;
                    let failed = rec.errors.len();
                    p.done(&if failed == 0 {
                        format!("ok, {} results", rec.results.len())
                    } else {
                        format!(
                            "ok, {} results, {failed} workloads failed",
                            rec.results.len()
                        )
                    });
                    true
                }
                Some(why) => {
                    rec.status = LevelStatus::Failed;
                    rec.error = Some(format!("agent failed: {why}"));
                    p.done("agent failed");
                    note(&format!("{}: agent failed: {why}", rec.name));
                    false
                }
            }
        }
        Err(e) => {
            rec.status = LevelStatus::Failed;
            rec.error = Some(e.to_string());
            p.done("failed");
            note(&format!("{}: {e}", rec.name));
            false
        }
    }
}

/// The acceleration a QEMU child must get: `kvm` when forced, else `auto` (TCG is a
/// fallback, so missing KVM only warns). Other backends start no children.
fn child_accel(cfg: &RunConfig) -> Option<&'static str> {
    match &cfg.backend {
        BackendConfig::Qemu(o) if o.accel == AccelArg::Kvm => Some("kvm"),
        BackendConfig::Qemu(_) => Some("auto"),
        _ => None,
    }
}

/// Run the doctor's in-guest checks; warnings are printed, a failure is returned in
/// the doctor's words.
fn guest_verdict(
    remote: &mut dyn crate::remote::Remote,
    name: &str,
    accel: &str,
) -> Option<String> {
    let checks =
        doctor::guest::check_level(remote, name, accel, std::time::Duration::from_secs(600));
    for c in checks.iter().filter(|c| c.status == doctor::Status::Warn) {
        note(&format!("{name}: {}", c.detail));
    }
    doctor::first_failure_line(&checks)
}

/// The interrupt hook, run by the signal thread, which exits the process right after:
/// the levels never reached are skipped and the run is partial. `finish` seals run.json,
/// so what the main thread still writes afterwards is ignored (rundir.rs).
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
        l.status = LevelStatus::Skipped;
        l.error = Some("run interrupted".into());
    }
}

fn mark_rest(rd: &RunDir, from: u32, to: u32, why: &str) -> anyhow::Result<()> {
    rd.update(|d| {
        for l in d
            .levels
            .iter_mut()
            .filter(|l| l.level >= from && l.level <= to)
        {
            l.status = LevelStatus::Skipped;
            l.error = Some(format!("skipped: {why}"));
        }
    })
}

fn render(rd: &RunDir) -> anyhow::Result<()> {
    crate::commands::report::render(rd.root())
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}
