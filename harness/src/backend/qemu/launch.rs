//! Starting levels. L1 is a child process of nestbench on the host (registered with the
//! cleanup registry, and killed by the kernel if nestbench itself dies); deeper levels
//! are started by the controller over SSH inside their parent with `-daemonize`, so
//! QEMU reports a bad command line synchronously, and die with L1. Acceleration is
//! detected per level ([`crate::virt`]): KVM where /dev/kvm is usable and the level's
//! CPU shows svm/vmx, else TCG with `-cpu max`, which emulates SVM so the child gets a
//! working /dev/kvm.

use super::argv::Accel;
use super::error::LaunchError;
use super::nesting;
use crate::cleanup::ProcessGuard;
use crate::cli::AccelArg;
use crate::remote::{shell_quote, Remote};
use crate::virt::{self, HostVirtError, Virt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// First line of `qemu --version`; the error says how to get QEMU.
pub fn qemu_version(qemu: &str) -> Result<String, LaunchError> {
    match Command::new(qemu).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_string()),
        Ok(o) => Err(LaunchError::VersionFailed {
            qemu: qemu.to_string(),
            stderr: String::from_utf8_lossy(&o.stderr).trim().to_string(),
        }),
        Err(error) => Err(LaunchError::QemuMissing {
            qemu: qemu.to_string(),
            error,
        }),
    }
}

/// A level's acceleration and why, for the plan lines, the progress and run.json.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// The acceleration.
    pub accel: Accel,
    /// Why (`host shows svm and /dev/kvm`, `forced by --accel tcg`, …).
    pub why: String,
}

/// Acceleration for a level whose parent (level `parent`, 0 = the host) shows `virt`.
pub fn choose(requested: AccelArg, parent: u32, virt: &Virt) -> Chosen {
    let parent = if parent == 0 {
        "host".to_string()
    } else {
        format!("L{parent}")
    };
    let (accel, why) = match (requested, virt.flag, virt.kvm) {
        (AccelArg::Kvm, _, _) => (Accel::Kvm, "forced by --accel kvm".into()),
        (AccelArg::Tcg, _, _) => (Accel::Tcg, "forced by --accel tcg".into()),
        (AccelArg::Auto, Some(v), true) => (Accel::Kvm, format!("{parent} shows {v} and /dev/kvm")),
        (AccelArg::Auto, None, _) => (Accel::Tcg, format!("{parent} CPU shows no svm/vmx")),
        (AccelArg::Auto, Some(v), false) => (
            Accel::Tcg,
            format!("{parent} shows {v} but /dev/kvm is not usable"),
        ),
    };
    Chosen { accel, why }
}

/// Acceleration for L1, from this host.
pub fn host_accel(requested: AccelArg) -> Result<Chosen, HostVirtError> {
    Ok(choose(requested, 0, &Virt::host()?))
}

/// Start L1 from `argv`, QEMU's own output going to `log`. Unless the stack may be
/// kept (`--keep`), the kernel kills it if nestbench dies without cleaning up.
pub fn spawn_host(
    argv: &[String],
    log: &Path,
    may_keep: bool,
) -> Result<(Child, ProcessGuard), LaunchError> {
    let log_error = |error| LaunchError::Log {
        path: log.to_path_buf(),
        error,
    };
    let out = std::fs::File::create(log).map_err(log_error)?;
    let err = out.try_clone().map_err(log_error)?;
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    if !may_keep {
        // SAFETY: prctl(2) only, async-signal-safe, between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
    }
    let child = cmd.spawn().map_err(|error| LaunchError::Spawn {
        qemu: argv[0].clone(),
        error,
    })?;
    let guard = ProcessGuard::new(child.id(), "L1 qemu");
    Ok((child, guard))
}

/// `data` as a shell word that `printf` turns back into the same bytes (octal escapes:
/// NUL, `%` and quotes included), so small files travel inside a command line.
pub fn printf_word(data: &[u8]) -> String {
    let mut w = String::with_capacity(data.len() * 4 + 2);
    w.push('\'');
    for b in data {
        w.push_str(&format!("\\{b:03o}"));
    }
    w.push('\'');
    w
}

/// How [`launch_in`] places a child whose parent is a column level
/// ([`nesting::in_column`]).
#[derive(Debug, Clone, Copy)]
pub struct Pin<'a> {
    /// The child's QEMU pid file.
    pub pidfile: &'a str,
    /// The child's vCPUs: the last one goes to the parent's CPU 1.
    pub vcpus: u32,
    /// The child runs a periodic tick: limit its LAPIC timer period
    /// ([`nesting::limit_child_tick`]).
    pub limit_tick: bool,
}

/// Shell: pin the QEMU of `pidfile`, whose guest has `vcpus` vCPUs: its last vCPU
/// thread (comm `CPU n/KVM` or `CPU n/TCG`) to CPU 1, every other thread to CPU 0.
/// Runs only when QEMU started (`$st` = 0).
fn pin_command(pidfile: &str, vcpus: u32) -> String {
    format!(
        "if [ $st = 0 ]; then p=$(cat {pf}); taskset -a -p 1 $p >/dev/null; \
         for t in /proc/$p/task/*; do case $(cat $t/comm) in \
         'CPU {last}/'*) taskset -p 2 ${{t##*/}} >/dev/null;; esac; done; fi; ",
        pf = shell_quote(pidfile),
        last = vcpus.saturating_sub(1),
    )
}

/// A small file written in the parent before its child starts (mode 0600).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestFile {
    /// Where, in the parent.
    pub path: String,
    /// Its content.
    pub data: Vec<u8>,
}

/// Everything [`launch_in`] does in the parent, in one command.
#[derive(Debug, Clone, Copy)]
pub struct ChildLaunch<'a> {
    /// The parent's directory for per-level files (`/run/nestbench`), made first.
    pub dir: &'a str,
    /// Files the child needs (its host key, authorized_keys).
    pub files: &'a [GuestFile],
    /// Started when the parent is KVM-capable ([`virt::PROBE_KVM_CAPABLE`]).
    pub kvm_argv: &'a [String],
    /// Started otherwise. When the acceleration is forced, both are the same argv.
    pub tcg_argv: &'a [String],
    /// Where QEMU's own output goes in the parent.
    pub log: &'a str,
    /// A command started once QEMU runs: the child's net.tcp peer (`netpeer`).
    pub peer: Option<&'a str>,
    /// Limit on the whole command.
    pub timeout: Duration,
    /// Also ask `qemu-system-x86_64 --version` (after the launch; every guest runs the
    /// image's QEMU, so once per stack is enough — starting QEMU again in a deep
    /// parent slows the child booting there).
    pub ask_version: bool,
    /// Set when the parent is a column level.
    pub pin: Option<Pin<'a>>,
}

/// What the parent showed in [`launch_in`]'s probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentAnswer {
    /// Its CPU flag and /dev/kvm: what picked the argv that ran.
    pub virt: Virt,
    /// First line of its `qemu-system-x86_64 --version`, when asked for.
    pub qemu_version: Option<String>,
}

/// Parse the probe part of [`launch_in`]'s output.
pub fn parse_answer(out: &str) -> ParentAnswer {
    ParentAnswer {
        virt: virt::parse_probe(out).virt,
        qemu_version: out
            .lines()
            .find_map(|l| l.strip_prefix(QEMU_VERSION))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty()),
    }
}

/// Prefix of the QEMU version line in [`launch_in`]'s output.
const QEMU_VERSION: &str = "qemu_version=";

/// Separates the probe's answer from QEMU's log in [`launch_in`]'s output.
const LOG_MARK: &str = "--- qemu log";

/// Start a level inside its parent in one command (one SSH round trip, which costs
/// seconds at L3), as `job` says: write its files, probe the parent
/// ([`virt::PROBE`]), then start its KVM argv when the parent shows svm/vmx and
/// /dev/kvm, else its TCG argv. Both must `-daemonize`. QEMU's own output goes to
/// `job.log` there (not into the SSH channel, which a daemon could hold open) and
/// comes back in the error when it fails. With `job.pin`, before QEMU starts the
/// parent's CPU 1 comes online ([`nesting::ONLINE_CHILD_CPU`]); once QEMU runs, the
/// child's last vCPU thread (threads are named by `debug-threads=on`) goes to CPU 1
/// and every other thread to CPU 0.
pub fn launch_in(
    parent: &mut dyn Remote,
    job: &ChildLaunch<'_>,
) -> Result<ParentAnswer, LaunchError> {
    let words = |argv: &[String]| {
        argv.iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut cmd = format!("mkdir -p {} && ( umask 077", shell_quote(job.dir));
    for f in job.files {
        cmd.push_str(&format!(
            " && printf {} > {}",
            printf_word(&f.data),
            shell_quote(&f.path)
        ));
    }
    cmd.push_str(&format!(
        " ) || {{ echo 'cannot write the per-level files in {dir}'; exit 97; }}; \
         {probe}\
         {online}if {capable}; then {k}; else {t}; fi </dev/null >{log} 2>&1; \
         st=$?; {pin}{peer}{version}echo '{LOG_MARK}'; \
         [ $st = 0 ] || {{ cat {log}; exit $st; }}",
        dir = job.dir,
        probe = virt::PROBE,
        capable = virt::PROBE_KVM_CAPABLE,
        k = words(job.kvm_argv),
        t = words(job.tcg_argv),
        log = shell_quote(job.log),
        online = job.pin.map_or(String::new(), |p| {
            let tick = if p.limit_tick {
                nesting::limit_child_tick()
            } else {
                String::new()
            };
            format!("{}{tick}", nesting::ONLINE_CHILD_CPU)
        }),
        pin = job
            .pin
            .map_or(String::new(), |p| pin_command(p.pidfile, p.vcpus)),
        peer = job
            .peer
            .map_or(String::new(), |p| format!("[ $st = 0 ] && {{ {p} }}; ")),
        version = if job.ask_version {
            "echo \"qemu_version=$(qemu-system-x86_64 --version 2>&1 | head -n1)\"; "
        } else {
            ""
        },
    ));
    let out = parent.exec(&cmd, job.timeout)?;
    let (probe, qemu_log) = out
        .stdout
        .split_once(LOG_MARK)
        .unwrap_or((out.stdout.as_str(), ""));
    if out.status.code != Some(0) {
        let why = if qemu_log.trim().is_empty() {
            out.stdout.trim()
        } else {
            qemu_log.trim()
        };
        return Err(LaunchError::NotStarted {
            parent: parent.endpoint(),
            code: out.status.code,
            output: why.to_string(),
        });
    }
    Ok(parse_answer(probe))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::virt::VirtFlag;

    fn virt(flag: Option<VirtFlag>, kvm: bool) -> Virt {
        Virt { flag, kvm }
    }

    #[test]
    fn accel_follows_the_parents_cpu() {
        let svm = Some(VirtFlag::Svm);
        let c = choose(AccelArg::Auto, 1, &virt(svm, true));
        assert_eq!(c.accel, Accel::Kvm);
        assert_eq!(c.why, "L1 shows svm and /dev/kvm");
        let c = choose(AccelArg::Auto, 0, &virt(None, true));
        assert_eq!(
            (c.accel, c.why.as_str()),
            (Accel::Tcg, "host CPU shows no svm/vmx")
        );
        let vmx = Some(VirtFlag::Vmx);
        assert_eq!(
            choose(AccelArg::Auto, 1, &virt(vmx, false)).accel,
            Accel::Tcg
        );
        assert_eq!(
            choose(AccelArg::Kvm, 1, &virt(None, false)).accel,
            Accel::Kvm
        );
        assert_eq!(choose(AccelArg::Tcg, 1, &virt(svm, true)).accel, Accel::Tcg);
    }

    #[test]
    fn reads_the_parents_answer() {
        let p = parse_answer(
            "virt=svm\nkvm=yes\nnested=1\nqemu_version=QEMU emulator version 7.2.22\n",
        );
        assert_eq!(p.virt, virt(Some(VirtFlag::Svm), true));
        assert_eq!(
            p.qemu_version.as_deref(),
            Some("QEMU emulator version 7.2.22")
        );
        let p = parse_answer("virt=\nkvm=no\nnested=\n");
        assert_eq!((p.virt, p.qemu_version), (virt(None, false), None));
    }

    #[test]
    fn the_launch_command_runs_under_sh() {
        // The whole command against a local shell: files written, the probe's
        // choice made, the version asked, a failing QEMU's log in the error.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f").display().to_string();
        let log = dir.path().join("q.log").display().to_string();
        let files = [GuestFile {
            path: file.clone(),
            data: b"key\n".to_vec(),
        }];
        let ok = ["true".to_string()];
        // The peer part as a launch embeds it (here it finds no agent: no peer).
        let peer = super::super::netpeer::guest_peer_command(2, 1, Duration::from_secs(1), None);
        let mut job = ChildLaunch {
            dir: &dir.path().display().to_string(),
            files: &files,
            kvm_argv: &ok,
            tcg_argv: &ok,
            log: &log,
            peer: Some(&peer),
            timeout: Duration::from_secs(30),
            ask_version: true,
            pin: None,
        };
        let mut sh = crate::remote::local::LocalRemote::default();
        let a = launch_in(&mut sh, &job).unwrap();
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
        assert_eq!(a.virt.flag, virt::cpu_flag(&cpuinfo));
        assert!(a.qemu_version.is_some());
        assert_eq!(std::fs::read(&file).unwrap(), b"key\n");
        let bad = [
            "sh".to_string(),
            "-c".into(),
            "echo no such machine; exit 1".into(),
        ];
        job.kvm_argv = &bad;
        job.tcg_argv = &bad;
        job.ask_version = false;
        let e = launch_in(&mut sh, &job).unwrap_err().to_string();
        assert!(
            e.starts_with("QEMU did not start in") && e.ends_with("no such machine"),
            "{e}"
        );
    }

    #[test]
    fn printf_word_round_trips_any_bytes() {
        let data: Vec<u8> = (0..=255u8).chain(*b"%s'\\n").collect();
        let w = printf_word(&data);
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("printf {w}"))
            .output()
            .unwrap();
        assert_eq!(out.stdout, data);
    }

    #[test]
    fn missing_qemu_names_the_package() {
        let e = qemu_version("/nonexistent/qemu-system-x86_64")
            .unwrap_err()
            .to_string();
        assert!(e.contains("qemu-system-x86"), "{e}");
    }
}
