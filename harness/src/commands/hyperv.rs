//! `nestbench hyperv prepare VM --host USER@HOST [--apply [--turn-off]] [--memory-gb N]`:
//! connect, make sure it is Windows, inspect, print every check with ✔/⚠/✘ and the
//! exact PowerShell that fixes each ✘; with `--apply`, make the changes in order,
//! print each, and check again. Exit 0 ready, 6 not ready (a check failed), 1 could
//! not check (unreachable, not Windows, no Hyper-V, no rights, no such VM), 2 usage
//! — `doctor`'s convention.

use crate::backend::inventory::file::{expand, home};
use crate::cli::hyperv::PrepareArgs;
use crate::cli::{HypervAction, HypervCmd};
use crate::doctor::{self, Check};
use crate::exit::{CmdResult, Failure, Outcome};
use crate::hyperv::checks::{self, Blocked, Finding, Wanted};
use crate::hyperv::{self, HypervError};
use crate::remote::identify::Os;
use crate::remote::ssh::{HostKeyCheck, SshRemote, SshTarget};
use std::time::Duration;

/// Entry point of `nestbench hyperv`.
pub fn hyperv(cmd: HypervCmd) -> CmdResult {
    match cmd.action {
        HypervAction::Prepare(args) => prepare(&args),
    }
}

fn could_not(e: impl std::fmt::Display) -> Failure {
    Failure::error(e.to_string())
}

fn target(args: &PrepareArgs) -> Result<SshTarget, Failure> {
    let (user, host) = args
        .host
        .split_once('@')
        .filter(|(u, h)| !u.is_empty() && !h.is_empty())
        .ok_or_else(|| Failure::usage(format!("--host {}: give it as USER@HOST", args.host)))?;
    Ok(SshTarget {
        name: "Hyper-V host".into(),
        host: host.into(),
        port: args.port,
        user: user.into(),
        key: expand(&args.key, &home()),
        host_key: HostKeyCheck::KnownHosts {
            file: expand(&args.known_hosts, &home()),
            accept_new: args.accept_new,
        },
    })
}

fn print_all(findings: &[Finding]) {
    for f in findings {
        println!("{}", f.check);
    }
}

fn checks_of(findings: &[Finding]) -> Vec<Check> {
    findings.iter().map(|f| f.check.clone()).collect()
}

/// `nestbench hyperv prepare`.
fn prepare(args: &PrepareArgs) -> CmdResult {
    let t = target(args)?;
    let mut remote = SshRemote::connect(&t, &[], Duration::from_secs(args.connect_timeout))
        .map_err(could_not)?;
    let id = remote
        .identify(Duration::from_secs(args.connect_timeout))
        .map_err(could_not)?;
    let Some(win) = id.windows.as_ref().filter(|_| id.probed.os == Os::Windows) else {
        return Err(Failure::error(format!(
            "{} is not Windows ({}): hyperv prepare needs a Hyper-V host",
            t.endpoint(),
            id.probed
                .uname
                .as_deref()
                .unwrap_or("a POSIX shell answered")
        )));
    };
    let scratch = win.temp.clone();
    let want = Wanted {
        memory_gb: args.memory_gb,
        ..Wanted::default()
    };
    let inspect = |remote: &mut SshRemote| {
        hyperv::inspect(remote, &args.vm, &scratch).map_err(|e| match e {
            HypervError::Refused(why) => Failure::error(format!("{}: {why}", t.endpoint())),
            other => could_not(other),
        })
    };
    let state = inspect(&mut remote)?;
    println!(
        "nestbench hyperv prepare: VM {} on {} ({}, build {}, {})",
        args.vm, state.host.computer, state.host.caption, state.host.build, state.host.cpu_name
    );
    let findings = checks::judge(&state, want);
    print_all(&findings);
    let failed = doctor::any_failed(&checks_of(&findings));
    if !failed {
        println!("\nVM {} is ready for nesting; nothing to change", args.vm);
        return Ok(Outcome::Ok);
    }
    let first = doctor::first_failure_line(&checks_of(&findings)).unwrap_or_default();
    if !args.apply {
        return Err(Failure::not_ready(format!(
            "VM {} is not set up for nesting: {first} (--apply makes the changes)",
            args.vm
        )));
    }
    let steps = match checks::plan(&findings, args.turn_off) {
        Ok(steps) => steps,
        Err(Blocked::Unfixable(why)) => {
            return Err(Failure::not_ready(format!(
                "VM {} cannot be set up for nesting on this host, nothing changed: {why}",
                args.vm
            )))
        }
        Err(Blocked::NeedsTurnOff(why)) => {
            return Err(Failure::not_ready(format!(
                "nothing changed on VM {}: {why}",
                args.vm
            )))
        }
    };
    println!("\napplying {} changes:", steps.len());
    let applied = hyperv::apply(&mut remote, &args.vm, &steps, &scratch).map_err(could_not)?;
    for op in &applied.done {
        if let Some(s) = steps.iter().find(|s| s.op() == op) {
            println!("changed: {}", s.powershell(&args.vm));
        }
    }
    if let Some((step, why)) = &applied.failed {
        let shown = steps
            .iter()
            .find(|s| s.op() == step)
            .map_or_else(|| step.clone(), |s| s.powershell(&args.vm));
        return Err(Failure::error(format!(
            "{}: `{shown}` failed: {why} (the changes before it were made)",
            t.endpoint()
        )));
    }
    println!("\nafter the changes:");
    let after = checks::judge(&inspect(&mut remote)?, want);
    print_all(&after);
    if let Some(why) = doctor::first_failure_line(&checks_of(&after)) {
        return Err(Failure::not_ready(format!(
            "VM {} is still not set up for nesting: {why}",
            args.vm
        )));
    }
    println!(
        "\nVM {} is ready for nesting: start it with Start-VM -Name {}",
        args.vm,
        checks::quote(&args.vm)
    );
    Ok(Outcome::Ok)
}
