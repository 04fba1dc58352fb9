//! `nestbench run --dry-run`: the plan of a run and every command it would execute at
//! each level, printed, with nothing started or written.
//!
//! Structurally unable to launch: it gets a validated [`RunConfig`] and builds text
//! from the same pure functions a run uses — the plan ([`plan::make`]), L1's
//! acceleration ([`launch::choose`] on this host's /proc/cpuinfo and /dev/kvm), the
//! working-set sizes ([`sizing::derive`]), the QEMU command lines ([`spec::level_spec`]
//! and [`argv::build`]) and the agent's command ([`deploy::deploy_command`]). It never
//! makes a `Backend`, a `Stack`, a `Remote` or a run directory, which are what start
//! processes and create files; nor does it ask QEMU its version or look the image up
//! (both run programs or write the cache). What is only known once the run makes it —
//! the stack's private directory, the image's digest, the agent's random file name —
//! is shown as `$STACK`, `$IMAGE` and `XXXXXXXX`. The sshd ports are picked free now,
//! as a run picks them, and will differ.

use crate::backend::host::fs_type;
use crate::backend::inventory::file as inventory;
use crate::config::{BackendConfig, RunConfig};
use crate::deploy::{self, AgentJob, Site};
use crate::exit::Failure;
use crate::remote::identify;
use crate::remote::shell_quote;
use crate::{agentbin, sizing};
use std::fmt::Write;

mod qemu;

/// The agent's file name at a level: a run adds 8 random hex digits.
const AGENT_NAME: &str = "nestbench-agent-XXXXXXXX";

/// The whole dry run as text, for stdout.
pub fn render(cfg: &RunConfig) -> Result<String, Failure> {
    // What the run would refuse before starting anything, the dry run refuses too.
    crate::rundir::check_usable(&cfg.out)?;
    let agent = agentbin::load(&cfg.agent)?;
    let mut out = String::new();
    let w = &mut out;
    line(
        w,
        "nestbench run --dry-run: nothing below is started or written",
    );
    line(
        w,
        &format!(
            "run {} into {} (created by the run; refused if not empty), suite {}{}{}",
            cfg.run_id,
            cfg.out.display(),
            cfg.suite,
            cfg.only
                .as_ref()
                .map_or(String::new(), |o| format!(", only {}", o.join(","))),
            if cfg.keep {
                ", stack kept (--keep)"
            } else {
                ""
            },
        ),
    );
    line(
        w,
        &format!(
            "agent {} ({} bytes, sha256 {}), {}",
            agent.path.display(),
            agent.bytes.len(),
            agent.sha256,
            match &cfg.backend {
                crate::config::BackendConfig::Qemu(q) if q.agent_drive.is_some() =>
                    "read off the agent drive in the guests, uploaded gzip-compressed elsewhere",
                _ => "uploaded gzip-compressed",
            }
        ),
    );
    line(
        w,
        &match cfg.history.location() {
            Ok(Some(l)) => format!("history: the run is recorded in {l}"),
            Ok(None) => "history: not recorded (--no-history)".into(),
            Err(e) => format!("history: not recorded: {e}"),
        },
    );
    match &cfg.backend {
        BackendConfig::HostOnly => {
            let host = sizing::HostMemory::probe();
            let sizes = sizing::derive(cfg.suite, cfg.sizes, sizing::Levels::HostOnly, host).sizes;
            sizes_line(w, sizes, "the host's last-level cache and available memory");
            level_zero(w, cfg, &agent, sizes);
        }
        BackendConfig::Qemu(opts) => qemu::qemu(w, cfg, opts, &agent)?,
        BackendConfig::Hyperv(h) => {
            let host = sizing::HostMemory::probe();
            let sizes = sizing::derive(cfg.suite, cfg.sizes, sizing::Levels::Unknown, host).sizes;
            sizes_line(w, sizes, "the suite's defaults");
            for l in crate::backend::hyperv::dryrun::dry_run_lines(cfg.levels, h) {
                line(w, &l);
            }
        }
        BackendConfig::Inventory(file) => {
            let inv = inventory::load(file).map_err(|e| Failure::usage(e.to_string()))?;
            let host = sizing::HostMemory::probe();
            let sizes = sizing::derive(cfg.suite, cfg.sizes, sizing::Levels::Unknown, host).sizes;
            sizes_line(w, sizes, "the suite's defaults");
            line(
                w,
                &format!(
                    "\nbackend inventory ({}), {} levels:",
                    file.display(),
                    inv.levels.len()
                ),
            );
            let machine = |w: &mut String,
                           label: String,
                           l: &inventory::InventoryLevel,
                           chain: &[inventory::Via]| {
                let jumps: Vec<String> = chain
                    .iter()
                    .map(|&v| ssh_dest(&inv.machine(v).target))
                    .collect();
                line(w, &format!("\n{label} ({}):", l.target.endpoint()));
                let jump = if jumps.is_empty() {
                    String::new()
                } else {
                    format!(" -J {}", jumps.join(","))
                };
                line(
                    w,
                    &format!(
                        "  connect (within {} s): ssh -i {}{jump} -p {} {}@{}",
                        l.connect_timeout.as_secs(),
                        l.target.key.display(),
                        l.target.port,
                        l.target.user,
                        l.target.host
                    ),
                );
                line(
                    w,
                    &format!(
                        "  identify: {} (a Windows level is then deployed to through PowerShell)",
                        identify::PROBE
                    ),
                );
                let workdir = l.workdir.clone().unwrap_or_else(|| "/tmp".into());
                agent_lines(w, &Site::at(workdir), cfg, &agent, sizes);
            };
            match &inv.l0 {
                Some(l0) => machine(w, "L0, remote".into(), l0, &[]),
                None => level_zero(w, cfg, &agent, sizes),
            }
            for (i, l) in inv.levels.iter().enumerate() {
                machine(w, format!("L{}", i + 1), l, &inv.chain(i));
            }
            line(
                w,
                "\nafterwards: nothing is torn down (the machines are yours)",
            );
        }
    }
    outputs(w, cfg);
    Ok(out)
}

fn line(w: &mut String, s: &str) {
    let _ = writeln!(w, "{s}");
}

fn ssh_dest(t: &crate::remote::ssh::SshTarget) -> String {
    format!("{}@{}:{}", t.user, t.host, t.port)
}

fn sizes_line(w: &mut String, sizes: model::Sizes, from: &str) {
    line(
        w,
        &format!("sizes (MiB): {sizes} (from {from}; --sizes wins)"),
    );
}

/// An argv as one shell line.
fn words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The upload and the one command that verifies, runs and removes the agent.
fn agent_lines(
    w: &mut String,
    site: &Site,
    cfg: &RunConfig,
    agent: &agentbin::AgentBinary,
    sizes: model::Sizes,
) {
    let dir = site.agent_dir.as_deref().unwrap_or(&site.workdir);
    let path = format!("{}/{AGENT_NAME}", dir.trim_end_matches('/'));
    let job = AgentJob {
        binary: &agent.bytes,
        windows_binary: Err("no Windows agent".into()),
        suite: cfg.suite,
        only: cfg.only.as_deref(),
        sizes,
        llc_mib: sizing::HostMemory::probe().llc_mib,
    };
    if let Some(dev) = &site.agent_device {
        line(
            w,
            &format!("  run (the agent read off its drive {dev}; an upload as at L0 when it is not there): {}", deploy::drive_command(&path, dev, site, &job)),
        );
        return;
    }
    line(w, &format!("  upload the agent (gzip) to {path}"));
    line(
        w,
        &format!("  run: {}", deploy::deploy_command(&path, site, &job)),
    );
}

fn level_zero(w: &mut String, cfg: &RunConfig, agent: &agentbin::AgentBinary, sizes: model::Sizes) {
    let tmp = std::env::temp_dir();
    line(
        w,
        &format!(
            "\nL0 (this host, sh -c in {}, {}):",
            tmp.display(),
            fs_type(&tmp)
        ),
    );
    agent_lines(w, &Site::at(tmp.display().to_string()), cfg, agent, sizes);
}

/// What the run would leave in its directory.
fn outputs(w: &mut String, cfg: &RunConfig) {
    line(w, &format!(
        "\nrun directory {}: run.json (rewritten after every change), results.csv, report.md, report.html, charts/, logs/",
        cfg.out.display()
    ));
}
