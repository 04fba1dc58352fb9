//! `nestbench run --backend inventory` through a real 4-level SSH chain: network
//! namespaces joined by veth pairs, each level's OpenSSH sshd reachable only from
//! its parent (see `common/netns.rs`; test-only range 10.213.0.0/16, with
//! `unreachable` routes so nothing leaves the machine). The real static agent is
//! deployed through the jump chain at every level.
//!
//! These levels share one kernel: they test the transport (jump chains, host keys,
//! uploads, streaming, failure handling), not virtualization.
//!
//! Needs root, `sshd`, `ip` and `unshare` (CI has them); skipped with a reason
//! otherwise, failed under `CI=true`. The chain is built once for all scenarios here.

mod common;

use common::netns::{chain, Chain};
use common::{run_inventory, scenario_dir, skip, Level, Ran};
use model::rundoc::{LevelRecord, LevelStatus, RunStatus};
use std::path::Path;

fn level(r: &Ran, n: usize) -> &LevelRecord {
    &r.doc.levels[n]
}

fn status_line(r: &Ran) -> String {
    r.doc
        .levels
        .iter()
        .map(|l| {
            format!(
                "{}={:?} {}",
                l.name,
                l.status,
                l.error.as_deref().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_ok(r: &Ran, n: usize) {
    let l = level(r, n);
    assert_eq!(
        l.status,
        LevelStatus::Ok,
        "{}\n{}",
        status_line(r),
        r.stderr
    );
    assert!(!l.results.is_empty(), "L{n} has no results");
}

fn assert_status(r: &Ran, want: &[LevelStatus]) {
    let got: Vec<_> = r.doc.levels.iter().map(|l| l.status).collect();
    assert_eq!(got, want, "{}\n{}", status_line(r), r.stderr);
}

/// The one error line of level `n`, checked to be a single line.
fn error_of(r: &Ran, n: usize) -> &str {
    let e = level(r, n)
        .error
        .as_deref()
        .unwrap_or_else(|| panic!("L{n} has no error"));
    assert!(!e.contains('\n'), "multi-line error: {e}");
    eprintln!("L{n}: {e}");
    e
}

fn straight(c: &Chain) -> Vec<Level> {
    (1..=common::netns::DEPTH)
        .map(|k| Level::of(c, k))
        .collect()
}

fn write_script(dir: &Path, name: &str, body: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.display().to_string()
}

use LevelStatus::{Failed, Ok as Good, Skipped};

#[test]
fn four_level_chain_collects_smoke_results_from_every_level() {
    if skip() {
        return;
    }
    let c = chain();
    let dir = scenario_dir();
    let kh = dir.path().join("known_hosts");
    let mut levels = straight(c);
    for (k, l) in levels.iter_mut().enumerate() {
        l.known_hosts = Some((kh.clone(), "accept-new"));
        let w = dir.path().join(format!("w{}", k + 1));
        std::fs::create_dir(&w).unwrap();
        l.workdir = Some(w);
    }
    let r = run_inventory(dir.path(), &levels, &["--suite", "smoke"]);
    // The progress lines (stage + elapsed per level) are the per-stage timings.
    eprintln!("{}", r.stderr);
    assert_eq!(r.code, Some(0), "{}\n{}", status_line(&r), r.stderr);
    assert_eq!(r.doc.status, RunStatus::Complete);
    assert_eq!(r.doc.levels.len(), 5);
    let l0: Vec<_> = level(&r, 0)
        .results
        .iter()
        .map(|x| (&x.id.workload, &x.id.metric))
        .collect();
    for n in 0..=4 {
        assert_ok(&r, n);
        let got: Vec<_> = level(&r, n)
            .results
            .iter()
            .map(|x| (&x.id.workload, &x.id.metric))
            .collect();
        assert_eq!(got, l0, "L{n} measured other metrics than L0");
        let t = &level(&r, n).timings;
        eprintln!(
            "L{n}: provision {:.3} s, deploy {:.3} s, suite {:.1} s",
            t.provision_s.unwrap_or(0.0),
            t.deploy_s.unwrap_or(0.0),
            t.suite_s.unwrap_or(0.0)
        );
    }
    // Progress names the chain.
    assert!(r.stderr.contains("connect via L1→L2→L3"), "{}", r.stderr);
    // accept-new recorded each level's key once; the agent and its files are gone.
    let text = std::fs::read_to_string(&kh).unwrap();
    assert_eq!(text.lines().count(), 4, "{text}");
    for k in 0..4 {
        assert!(
            text.contains(&format!("{} ssh-ed25519 {}", c.addrs[k], c.host_keys[k])),
            "{text}"
        );
        let w = dir.path().join(format!("w{}", k + 1));
        let left: Vec<_> = std::fs::read_dir(&w).unwrap().collect();
        assert!(
            left.is_empty(),
            "L{} left files in its workdir: {left:?}",
            k + 1
        );
    }
}

#[test]
fn accepted_keys_are_trusted_strictly_afterwards_also_hashed() {
    if skip() {
        return;
    }
    let c = chain();
    let dir = scenario_dir();
    let kh = dir.path().join("kh");
    let mut levels = straight(c);
    // L2 through an extra sshd on a non-22 port: its line is `[host]:2222`.
    let _extra = c.extra_sshd(2, 2201, "", "");
    levels[1].port = 2201;
    for l in &mut levels {
        l.known_hosts = Some((kh.clone(), "accept-new"));
    }
    let only = ["--suite", "smoke", "--only", "exit.syscall"];
    let r = run_inventory(&dir.path().join("a"), &levels, &only);
    assert_status(&r, &[Good; 5]);
    let text = std::fs::read_to_string(&kh).unwrap();
    assert!(
        text.contains(&format!("[{}]:2201 ssh-ed25519", c.addrs[1])),
        "{text}"
    );
    // Hash the file as `HashKnownHosts yes` would, then insist on it.
    assert!(std::process::Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(&kh)
        .status()
        .unwrap()
        .success());
    for l in &mut levels {
        l.known_hosts = Some((kh.clone(), "strict"));
    }
    let r = run_inventory(&dir.path().join("b"), &levels, &only);
    assert_status(&r, &[Good; 5]);
}

#[test]
fn a_wrong_key_fails_its_level_and_skips_the_levels_behind_it() {
    if skip() {
        return;
    }
    let c = chain();
    let dir = scenario_dir();
    let wrong = dir.path().join("wrong");
    std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&wrong)
        .status()
        .unwrap();
    let mut levels = straight(c);
    levels[1].key = wrong.clone();
    let r = run_inventory(
        dir.path(),
        &levels,
        &["--suite", "smoke", "--only", "cpu.int"],
    );
    assert_eq!(r.code, Some(4));
    assert_eq!(r.doc.status, RunStatus::Partial);
    assert_status(&r, &[Good, Good, Failed, Skipped, Skipped]);
    assert_ok(&r, 1);
    let e = error_of(&r, 2);
    assert!(
        e.contains(&wrong.display().to_string()) && e.contains("user root"),
        "{e}"
    );
    assert!(error_of(&r, 3).contains("L2 failed"));
    assert!(r.stderr.contains(e), "error not on stderr: {}", r.stderr);
}

#[test]
fn a_host_key_mismatch_names_the_host_and_both_fingerprints() {
    if skip() {
        return;
    }
    let c = chain();
    let dir = scenario_dir();
    let kh = dir.path().join("known_hosts");
    // L3's line carries L1's key.
    let lines: String = (0..4)
        .map(|k| {
            format!(
                "{} ssh-ed25519 {}\n",
                c.addrs[k],
                c.host_keys[if k == 2 { 0 } else { k }]
            )
        })
        .collect();
    std::fs::write(&kh, lines).unwrap();
    let mut levels = straight(c);
    for l in &mut levels {
        l.known_hosts = Some((kh.clone(), "strict"));
    }
    let r = run_inventory(
        dir.path(),
        &levels,
        &["--suite", "smoke", "--only", "cpu.int"],
    );
    assert_eq!(r.code, Some(4));
    assert_status(&r, &[Good, Good, Good, Failed, Skipped]);
    let e = error_of(&r, 3);
    let fp = |k: usize| fingerprint(&c.dir.join(format!("host{k}.pub")));
    assert!(
        e.contains(&c.addrs[2]) && e.contains(&fp(1)) && e.contains(&fp(3)),
        "{e}"
    );
}

/// `ssh-keygen -lf`'s SHA256 fingerprint of a public key file.
fn fingerprint(pubkey: &Path) -> String {
    let o = std::process::Command::new("ssh-keygen")
        .arg("-lf")
        .arg(pubkey)
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string()
}

#[test]
fn an_unreachable_level_fails_after_a_bounded_wait_and_the_rest_still_runs() {
    if skip() {
        return;
    }
    let c = chain();
    let dir = scenario_dir();
    // A server that accepts TCP and never speaks SSH: the handshake must time out.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut levels = straight(c);
    let mut mute = Level::of(c, 1);
    (mute.name, mute.host, mute.port) = (
        "M".into(),
        "127.0.0.1".into(),
        silent.local_addr().unwrap().port(),
    );
    mute.connect_timeout = Some(3);
    let mut behind = Level::of(c, 2);
    (behind.name, behind.via) = ("B".into(), Some("M".into()));
    // L3's address straight from the host: the `unreachable` route refuses it here.
    let mut unrouted = Level::of(c, 3);
    (unrouted.name, unrouted.via) = ("U".into(), None);
    levels.insert(1, mute);
    levels.push(behind);
    levels.push(unrouted);
    let t0 = std::time::Instant::now();
    let r = run_inventory(
        dir.path(),
        &levels,
        &["--suite", "smoke", "--only", "cpu.int"],
    );
    assert_eq!(r.code, Some(4));
    assert_status(&r, &[Good, Good, Failed, Good, Good, Good, Skipped, Failed]);
    assert!(error_of(&r, 2).contains("timed out"), "{}", error_of(&r, 2));
    assert!(level(&r, 6).error.as_deref().unwrap().contains("L2 failed"));
    assert!(
        error_of(&r, 7).contains("No route to host"),
        "{}",
        error_of(&r, 7)
    );
    assert!(t0.elapsed().as_secs() < 120, "took {:?}", t0.elapsed());
    drop(silent);
}

#[test]
fn an_agent_that_prints_garbage_or_dies_fails_only_its_level() {
    if skip() {
        return;
    }
    let c = chain();
    let dir = scenario_dir();
    let run_cmd = r#"case "$SSH_ORIGINAL_COMMAND" in *" run --suite "*)"#;
    // L2: the deploy's first line (size+digest) and three protocol lines (begin and
    // two results) pass, then a line that is not JSON.
    let garble = write_script(dir.path(), "garble", &format!(
        "{run_cmd} sh -c \"$SSH_ORIGINAL_COMMAND\" | {{ IFS= read -r a; echo \"$a\"; IFS= read -r b; \
         echo \"$b\"; IFS= read -r c; echo \"$c\"; IFS= read -r d; echo \"$d\"; \
         echo 'garbage from L2'; cat; }} ;;\n*) exec sh -c \"$SSH_ORIGINAL_COMMAND\" ;; esac\n"
    ));
    // L3: the agent run gets 1 s of CPU, then the kernel kills it mid-suite.
    let starve = write_script(
        dir.path(),
        "starve",
        &format!(
            "{run_cmd} ulimit -t 1; exec sh -c \"$SSH_ORIGINAL_COMMAND\" ;;\n\
         *) exec sh -c \"$SSH_ORIGINAL_COMMAND\" ;; esac\n"
        ),
    );
    let _g = c.extra_sshd(2, 2222, &format!("ForceCommand {garble}"), "");
    let _s = c.extra_sshd(3, 2223, &format!("ForceCommand {starve}"), "");
    let mut levels = straight(c);
    levels[1].port = 2222;
    levels[2].port = 2223;
    let only = "cpu.int,cpu.fp,exit.syscall,mem.stream,mem.latency";
    let r = run_inventory(dir.path(), &levels, &["--suite", "smoke", "--only", only]);
    assert_eq!(r.code, Some(4));
    // Deeper levels still run: an agent failure does not make a level unreachable.
    assert_status(&r, &[Good, Good, Failed, Failed, Good]);
    let e2 = error_of(&r, 2);
    assert!(
        e2.contains("not protocol JSON") && e2.contains("garbage from L2"),
        "{e2}"
    );
    assert_eq!(
        level(&r, 2).results.len(),
        2,
        "results before the garbage are kept"
    );
    let e3 = error_of(&r, 3);
    assert!(e3.contains("agent failed"), "{e3}");
    assert!(
        !level(&r, 3).results.is_empty(),
        "results before the death are kept: {e3}"
    );
    assert_ok(&r, 4);
}

#[test]
fn a_full_work_directory_gives_a_clear_error() {
    if skip() {
        return;
    }
    let c = chain();
    let dir = scenario_dir();
    let full = dir.path().join("full4");
    std::fs::create_dir(&full).unwrap();
    // A 1 MiB tmpfs, mounted only in this sshd's private mount namespace.
    let mount = format!("mount -t tmpfs -o size=1m nbtfull {} &&", full.display());
    let _d = c.extra_sshd(4, 2224, "", &mount);
    let mut levels = straight(c);
    levels[3].port = 2224;
    levels[3].workdir = Some(full.clone());
    let r = run_inventory(
        dir.path(),
        &levels,
        &["--suite", "smoke", "--only", "cpu.int"],
    );
    assert_eq!(r.code, Some(4));
    assert_status(&r, &[Good, Good, Good, Good, Failed]);
    let want = format!(
        "no space left on device at L4 ({}): free space or point workdir elsewhere",
        full.display()
    );
    assert!(error_of(&r, 4).contains(&want), "{}", error_of(&r, 4));
}
