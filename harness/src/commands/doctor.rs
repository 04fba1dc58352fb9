//! `nestbench doctor [--levels N] [--boot] [--json]`: print every check with ✔/⚠/✘
//! and the fix for each ✘; exit 6 (not ready) when a run would fail, 1 when the
//! checks themselves could not be made — the convention `hyperv prepare` shares. With `--boot`, bring real
//! guests up level by level and check nesting inside each. With `--json`, stdout is one
//! document instead (`format` nestbench-doctor, `version` 1: every check with its
//! status, detail and fix, and whether a run can proceed); boot progress stays on
//! stderr, and the exit code and error line are as without it.

use crate::cli::{AccelArg, DoctorArgs};
use crate::config::QemuOptions;
use crate::doctor::{self, guest, host, Check};
use crate::exit::{CmdResult, Failure, Outcome};
use std::time::Duration;

/// `format` of the `--json` document.
pub const JSON_FORMAT: &str = "nestbench-doctor";

/// Entry point of `nestbench doctor`.
pub fn doctor(args: DoctorArgs) -> CmdResult {
    let human = !args.json;
    let say = |s: &str| {
        if human {
            println!("{s}");
        }
    };
    say(&format!(
        "nestbench doctor: host, for --levels {}",
        args.levels
    ));
    let mut checks = host::for_run(args.levels, None);
    if args.levels > 0 {
        checks.push(image_check());
    }
    if human {
        print_all(&checks);
    }
    let boot = args.boot && !doctor::any_failed(&checks) && args.levels > 0;
    if boot {
        say(&format!(
            "\nnestbench doctor: booting {} levels",
            args.levels
        ));
        let booted = boot_checks(args.levels)?;
        if human {
            print_all(&booted);
        }
        checks.extend(booted);
    }
    let failed = doctor::any_failed(&checks);
    if args.json {
        super::print_stdout(&json_document(args.levels, boot, &checks))?;
    }
    if failed {
        return Err(Failure::not_ready(format!(
            "a nested run would fail here: {}",
            doctor::first_failure_line(&checks).unwrap_or_default()
        )));
    }
    say(&format!(
        "\nall checks passed: `nestbench run --levels {}` can run here",
        args.levels
    ));
    Ok(Outcome::Ok)
}

/// The `--json` document.
fn json_document(levels: u32, booted: bool, checks: &[Check]) -> String {
    let word = |s: doctor::Status| match s {
        doctor::Status::Pass => "pass",
        doctor::Status::Warn => "warn",
        doctor::Status::Fail => "fail",
    };
    let doc = serde_json::json!({
        "format": JSON_FORMAT,
        "version": 1,
        "tool_version": env!("CARGO_PKG_VERSION"),
        "levels": levels,
        "booted": booted,
        "ok": !doctor::any_failed(checks),
        "checks": checks.iter().map(|c| serde_json::json!({
            "name": c.name,
            "status": word(c.status),
            "detail": c.detail,
            "fix": c.fix,
        })).collect::<Vec<_>>(),
    });
    format!("{doc:#}\n")
}

fn print_all(checks: &[Check]) {
    for c in checks {
        println!("{c}");
    }
}

fn image_check() -> Check {
    match crate::image::cached() {
        Ok(Some(img)) => Check::pass(
            "guest image",
            format!("{} ({}) in {}", img.digest, img.kernel_package, img.dir.display()),
        ),
        Ok(None) => Check::warn(
            "guest image",
            "not built for the current inputs: `nestbench run` builds it first (about a minute)",
            "nestbench image build",
        ),
        Err(e) => Check::fail(
            "guest image",
            format!("cannot be built here: {e:#}"),
            "apt-get update, then `nestbench image build` (the kernel is fetched with apt-get download)",
        ),
    }
}

/// Boot levels one by one with the QEMU backend and check inside each.
fn boot_checks(levels: u32) -> Result<Vec<Check>, Failure> {
    use crate::backend::{qemu::QemuBackend, Backend};
    let dir = tempfile::Builder::new()
        .prefix("nestbench-doctor-")
        .tempdir()
        .map_err(|e| Failure::error(e.to_string()))?;
    std::fs::create_dir_all(dir.path().join("logs")).map_err(|e| Failure::error(e.to_string()))?;
    crate::cleanup::install_signal_handlers();
    let opts = QemuOptions {
        accel: AccelArg::Auto,
        memory_mib: None,
        cpus: None,
        kernel: None,
        initrd: None,
        qemu: None,
        extra_args: vec![],
        relaunch: 0,
        net_peer: None,
        agent_drive: None,
    };
    let image = || crate::image::ensure(&mut |s| eprintln!("{s}"));
    let mut backend = QemuBackend::new(levels, &opts, dir.path(), false, image)
        .map_err(|e| Failure::error(e.to_string()))?;
    let mut out = vec![];
    for n in 1..=levels {
        let name = format!("L{n}");
        match backend.provision(model::Level(n), &mut |s| eprintln!("{name}: {s}")) {
            Ok(mut p) => {
                let accel = p.env.accel.unwrap_or(model::Accel::Unknown);
                out.push(Check::pass(
                    &format!("{name} boots"),
                    format!("up in {:.0} s under {accel}", p.provision_s),
                ));
                if n < levels {
                    out.extend(guest::check_level(
                        p.remote.as_mut(),
                        &name,
                        "auto",
                        Duration::from_secs(300),
                    ));
                }
            }
            Err(e) => {
                eprintln!("{name}: {}", e.message());
                out.push(Check::fail(&format!("{name} boots"), e.message().lines().next().unwrap_or("").to_string(), "read the console lines above; `nestbench run --levels N --keep` leaves a stack up to inspect"));
                break;
            }
        }
    }
    let _ = backend.teardown();
    Ok(out)
}
