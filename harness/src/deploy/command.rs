//! The one POSIX shell command that follows the agent's arrival at a Linux level, in
//! its two forms: after an upload it unpacks the gzip stream in place
//! ([`deploy_command`]); on a QEMU level that has the agent drive it copies the agent
//! off that read-only drive instead ([`drive_command`]), so nothing crosses the SSH
//! chain but the command. Both then verify what arrived (size and SHA-256, printed as
//! the first line) and only when it is what the controller holds run the suite, whose
//! begin record carries the level's `info`. Every process started costs page faults,
//! and a page fault at L4 is a trip through four hypervisors, so the tail runs as few
//! programs as it can. Pure functions, so `run --dry-run` prints them.

use super::{AgentJob, Site};
use crate::remote::shell_quote;
use sha2::{Digest, Sha256};

/// After the upload: `path` holds the gzip stream. It is opened, unlinked and unpacked
/// to a new file of the same name (so the agent never has a second name), then
/// verified and run ([`verify_and_run`]).
pub fn deploy_command(path: &str, site: &Site, job: &AgentJob<'_>) -> String {
    let p = shell_quote(path);
    format!(
        "{{ rm -f {p} && gzip -dc > {p}; }} < {p} && chmod 755 {p}; {}",
        verify_and_run(path, Size::Counted, site, job)
    )
}

/// Without an upload: the agent's bytes are the first `job.binary.len()` bytes of the
/// read-only block device `device` (the agent drive the backend attached; padded to
/// whole sectors with zeros). They are copied to `path` in one read (busybox `head -c`
/// copies in small pieces: 7 s for the agent at L4, where one `dd` read took 1–2 s),
/// then verified and run. When
/// the device is missing or holds something else, the digest line says so and the
/// caller uploads instead.
pub fn drive_command(path: &str, device: &str, site: &Site, job: &AgentJob<'_>) -> String {
    let p = shell_quote(path);
    format!(
        "dd if={dev} of={p} bs={len} count=1 status=none && chmod 755 {p}; {}",
        verify_and_run(path, Size::ImpliedByDigest, site, job),
        len = job.binary.len(),
        dev = shell_quote(device),
    )
}

/// How the size of what arrived is checked.
#[derive(Clone, Copy)]
enum Size {
    /// Counted (`wc -c`) and printed: a truncated upload says how much arrived.
    Counted,
    /// Not counted (`-` is printed): a copy of exactly the agent's length off the
    /// drive, whose SHA-256 covers its size as well — and `wc` is one more program
    /// start, about 0.4–0.6 s at L4 (measured there: `time wc -c` 0.62 s).
    ImpliedByDigest,
}

/// The common tail: print "size sha256" of `path` (size `-` when `size` says it is
/// implied by the digest); only when both match `job.binary` run the suite (the protocol stream), with a heartbeat on stderr (`place::silence`). The agent is removed at the end — or, with
/// `site.keep_agent`, moved there for the child's net peer — and the command exits with
/// the agent's status (1 when it did not run).
fn verify_and_run(path: &str, size: Size, site: &Site, job: &AgentJob<'_>) -> String {
    let p = shell_quote(path);
    let heartbeat = super::place::heartbeat().as_secs().max(1).to_string();
    let run = std::iter::once(p.clone())
        .chain(agent_args(job, site).iter().map(|a| shell_quote(a)))
        .chain(["--heartbeat-s".to_string(), heartbeat])
        .collect::<Vec<_>>()
        .join(" ");
    let keep = site.keep_agent.as_ref().map_or(String::new(), |k| {
        let dir = k.rsplit_once('/').map_or(".", |(d, _)| d);
        let dir = if dir.is_empty() { "/" } else { dir };
        format!(
            "{{ mkdir -p {d} && mv -f {p} {k}; }} || ",
            d = shell_quote(dir),
            k = shell_quote(k)
        )
    });
    let (count, check) = match size {
        Size::Counted => (
            format!("s=$(wc -c < {p})"),
            format!("[ \"$s\" = {} ] && ", job.binary.len()),
        ),
        Size::ImpliedByDigest => ("s=-".to_string(), String::new()),
    };
    format!(
        "{count}; h=$(sha256sum {p}); h=${{h%% *}}; echo \"$s $h\"; r=1; \
         if {check}[ \"$h\" = {sha} ]; then {run}; r=$?; \
         {keep}rm -f {p}; else rm -f {p}; fi; exit $r",
        sha = hex::encode(Sha256::digest(job.binary)),
    )
}

/// The suite run's arguments: `run --suite S --dir D [--only W,…] [--sizes …]
/// [--llc-mib N] [--net-listen P --net-backend TEXT]`.
pub(super) fn agent_args(job: &AgentJob<'_>, site: &Site) -> Vec<String> {
    let mut args = vec![
        "run".to_string(),
        "--suite".into(),
        job.suite.to_string(),
        "--dir".into(),
        site.workdir.clone(),
    ];
    if let Some(only) = job.only {
        args.extend(["--only".to_string(), only.join(",")]);
    }
    let sizes = job.sizes.to_string();
    if !sizes.is_empty() {
        args.extend(["--sizes".to_string(), sizes]);
    }
    if let Some(llc) = job.llc_mib {
        args.extend(["--llc-mib".to_string(), llc.to_string()]);
    }
    if let Some(net) = &site.net {
        args.extend([
            "--net-listen".to_string(),
            net.port.to_string(),
            "--net-backend".into(),
            net.backend.clone(),
        ]);
    }
    args
}
