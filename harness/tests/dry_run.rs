//! `nestbench run --dry-run` starts nothing and writes nothing. Every place a run would
//! touch points at a directory of the test's own — the run directory, the scratch
//! directory for the stack, the image cache, TMPDIR (L0's work directory) and the
//! history — and each must be exactly as before afterwards. The QEMU binary is a
//! script that leaves a mark if anything runs it, even `--version`. No real QEMU,
//! guest or agent is needed: the agent is a minimal static ELF header.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The places a run would write, each an empty directory of its own.
struct Sandbox {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Sandbox {
    fn new() -> Sandbox {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        for d in ["out", "scratch", "cache", "work", "history", "bin"] {
            std::fs::create_dir(root.join(d)).unwrap();
        }
        // 64 bytes: ELF magic, 64-bit, little-endian, x86-64, no program headers.
        let mut elf = vec![0u8; 64];
        elf[..4].copy_from_slice(b"\x7fELF");
        (elf[4], elf[5], elf[18]) = (2, 1, 62);
        std::fs::write(root.join("bin/agent"), elf).unwrap();
        let mark = root.join("qemu-ran");
        let qemu = root.join("bin/qemu-system-x86_64");
        std::fs::write(
            &qemu,
            format!("#!/bin/sh\necho \"$@\" >> '{}'\n", mark.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&qemu, std::fs::Permissions::from_mode(0o755)).unwrap();
        Sandbox { _tmp: tmp, root }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.root.join(p)
    }

    /// `nestbench run --dry-run ARGS` with every location inside the sandbox.
    fn dry_run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_nestbench"))
            .env("NESTBENCH_SCRATCH_DIR", self.path("scratch"))
            .env("NESTBENCH_CACHE", self.path("cache"))
            .env("NESTBENCH_HISTORY", self.path("history/history.sqlite"))
            .env("TMPDIR", self.path("work"))
            .args(["run", "--dry-run", "--out"])
            .arg(self.path("out"))
            .arg("--agent")
            .arg(self.path("bin/agent"))
            .args(args)
            .output()
            .unwrap()
    }

    /// Every file and directory under the sandbox, but the ones it made itself.
    fn written(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                }
                out.push(p);
            }
        }
        let mut all = vec![];
        walk(&self.root, &mut all);
        let own = ["bin", "bin/agent", "bin/qemu-system-x86_64"]
            .map(|p| self.path(p))
            .into_iter()
            .chain(["out", "scratch", "cache", "work", "history"].map(|p| self.path(p)))
            .collect::<Vec<_>>();
        all.retain(|p| !own.contains(p));
        all
    }
}

fn stdout(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_qemu_dry_run_prints_every_levels_commands_and_starts_and_writes_nothing() {
    let s = Sandbox::new();
    let qemu = s.path("bin/qemu-system-x86_64");
    let o = s.dry_run(&[
        "--levels",
        "2",
        "--memory",
        "512",
        "--suite",
        "smoke",
        "--qemu",
        qemu.to_str().unwrap(),
        "--qemu-arg",
        "2:-no-hpet",
    ]);
    let text = stdout(&o);
    // The plan, then each level: L0's agent, L1's QEMU on the host (the given binary),
    // L2 started inside L1 with its extra argument, and every level's agent command.
    for want in [
        "plan (qemu backend, 2 levels):",
        "L1: ",
        "L2: ",
        "sizes (MiB): stream=",
        "L0 (this host",
        "L1 (on the host):",
        "L2 (inside L1",
        "-accel",
        "-no-hpet",
        "ssh -i $STACK/id_ed25519 -p ",
        "run --suite smoke --dir /scratch",
        // net.tcp: a forward per level on the parent's loopback, a peer in each parent,
        // and the parent's agent kept for it.
        "net.tcp peer in L0 (with the launch): ",
        "net.tcp peer in L1 (with the launch): a=/run/nestbench/nestbench-agent; ",
        // …or, without one (a relaunched parent), a checked copy off the agent drive.
        "dd if=/dev/vdc of=\"$a\"",
        "setsid \"$a\" net-peer",
        "--net-listen ",
        "mv -f ",
    ] {
        assert!(text.contains(want), "no {want:?} in\n{text}");
    }
    assert!(
        text.contains(",hostfwd=tcp:127.0.0.1:") && text.contains("net.tcp port "),
        "{text}"
    );
    let l1_argv = text
        .lines()
        .find(|l| l.trim_start().starts_with(qemu.to_str().unwrap()))
        .unwrap_or_else(|| panic!("no L1 command line in\n{text}"));
    assert!(l1_argv.contains("-M pc"), "{l1_argv}");
    assert_eq!(
        text.matches("run --suite smoke").count(),
        3,
        "one agent command per level (L0, L1, L2):\n{text}"
    );
    assert!(
        !s.path("qemu-ran").exists(),
        "the dry run ran QEMU: {}",
        std::fs::read_to_string(s.path("qemu-ran")).unwrap()
    );
    assert_eq!(
        s.written(),
        Vec::<PathBuf>::new(),
        "the dry run wrote files"
    );
}

#[test]
fn a_run_without_net_tcp_plans_no_forward_and_no_peer() {
    let s = Sandbox::new();
    let qemu = s.path("bin/qemu-system-x86_64");
    let o = s.dry_run(&[
        "--levels",
        "2",
        "--memory",
        "512",
        "--suite",
        "smoke",
        "--only",
        "cpu.int",
        "--qemu",
        qemu.to_str().unwrap(),
    ]);
    let text = stdout(&o);
    for unwanted in ["net.tcp", "net-peer", "--net-listen", "mv -f "] {
        assert!(!text.contains(unwanted), "{unwanted:?} in\n{text}");
    }
}

#[test]
fn a_host_only_dry_run_shows_the_l0_command_and_writes_nothing() {
    let s = Sandbox::new();
    let text = stdout(&s.dry_run(&["--levels", "0", "--suite", "smoke", "--quiet"]));
    assert!(text.contains("L0 (this host"), "{text}");
    assert!(!text.contains("L1"), "{text}");
    assert!(text.contains("--dir ") && text.contains("work"), "{text}");
    assert_eq!(s.written(), Vec::<PathBuf>::new());
}

#[test]
fn an_inventory_dry_run_shows_each_connection_and_connects_to_nothing() {
    let s = Sandbox::new();
    let inv = s.path("bin/inventory.toml");
    std::fs::write(
        &inv,
        "[[level]]\nname = \"L1\"\nhost = \"192.0.2.10\"\nuser = \"root\"\nkey = \"/k\"\n\
         [[level]]\nname = \"L2\"\nhost = \"10.0.0.2\"\nvia = \"L1\"\nuser = \"root\"\nkey = \"/k\"\nworkdir = \"/scratch\"\n",
    )
    .unwrap();
    let o = s.dry_run(&[
        "--backend",
        "inventory",
        "--inventory",
        inv.to_str().unwrap(),
        "--suite",
        "smoke",
    ]);
    let text = stdout(&o);
    assert!(text.contains("ssh -i /k -p 22 root@192.0.2.10"), "{text}");
    assert!(
        text.contains("-J root@192.0.2.10:22 -p 22 root@10.0.0.2"),
        "{text}"
    );
    std::fs::remove_file(&inv).unwrap();
    assert_eq!(s.written(), Vec::<PathBuf>::new());
}

#[test]
fn a_hyperv_dry_run_lists_each_levels_operations_in_order_and_contacts_nothing() {
    let s = Sandbox::new();
    // 192.0.2.0/24 (TEST-NET-1): nothing answers there, and nothing is asked.
    let o = s.dry_run(&[
        "--backend",
        "hyperv",
        "--levels",
        "2",
        "--hyperv-host",
        "Administrator@192.0.2.7",
        "--base-vhdx",
        "D:\\vm\\ws.vhdx",
        "--leaf-vhdx",
        "D:\\vm\\debian.vhdx",
        "--switch",
        "External",
        "--suite",
        "smoke",
    ]);
    let text = stdout(&o);
    let at = |what: &str| {
        text.find(what)
            .unwrap_or_else(|| panic!("no {what}: {text}"))
    };
    assert!(at("L1 (on the host)") < at("L2 (on L1)"), "{text}");
    assert!(
        text.contains("hyperv_copy_file: D:\\vm\\debian.vhdx copied hop by hop into L1"),
        "{text}"
    );
    assert!(
        at("hyperv_apply: expose_virtualization_extensions") < at("hyperv_start_vm"),
        "{text}"
    );
    assert!(
        text.contains("teardown, deepest first: hyperv_remove_vm (Stop-VM -TurnOff -Force"),
        "{text}"
    );
    assert_eq!(s.written(), Vec::<PathBuf>::new());
}

#[test]
fn a_hyperv_level_may_have_its_own_switch() {
    let s = Sandbox::new();
    let run = |switches: &[&str]| {
        let mut args = vec![
            "--backend",
            "hyperv",
            "--levels",
            "2",
            "--hyperv-host",
            "Administrator@192.0.2.7",
            "--base-vhdx",
            "D:\\vm\\ws.vhdx",
        ];
        args.extend(switches);
        s.dry_run(&args)
    };
    let text = stdout(&run(&["--switch", "L2=Internal", "--switch", "External"]));
    let l2 = text.find("L2 (on L1)").unwrap_or_else(|| panic!("{text}"));
    let (l1, l2) = text.split_at(l2);
    assert!(l1.contains("Generation 2, switch External,"), "{text}");
    assert!(l2.contains("Generation 2, switch Internal,"), "{text}");
    // Without a plain NAME the others keep the default.
    let text = stdout(&run(&["--switch", "L2=Internal"]));
    assert!(text.contains("switch Default Switch,"), "{text}");
    let o = run(&["--switch", "L3=Internal"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--switch L3=Internal: the stack's levels with a switch are L1 to L2"),
        "{err}"
    );
    assert_eq!(s.written(), Vec::<PathBuf>::new());
}

#[test]
fn a_dry_run_refuses_what_the_run_would_refuse() {
    let s = Sandbox::new();
    std::fs::write(s.path("out/old"), "x").unwrap();
    let o = s.dry_run(&["--levels", "0"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not empty"), "{err}");
    std::fs::remove_file(s.path("out/old")).unwrap();
    let o = s.dry_run(&["--levels", "0", "--suite", "huge"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(s.written(), Vec::<PathBuf>::new());
}

/// `run --backend hyperv` (and `--backend inventory`) with a flag only the QEMU backend
/// reads: a usage error on one line naming the flag, with or without --dry-run, and
/// nothing written — instead of a run that silently ignores it.
#[test]
fn qemu_only_flags_are_refused_by_the_other_backends() {
    let s = Sandbox::new();
    std::fs::write(s.path("bin/inventory.toml"), "").unwrap();
    let inv = s.path("bin/inventory.toml");
    let hyperv = [
        "--backend",
        "hyperv",
        "--levels",
        "2",
        "--hyperv-host",
        "Administrator@192.0.2.7",
        "--base-vhdx",
        "D:\\vm\\ws.vhdx",
    ];
    let inventory = [
        "--backend",
        "inventory",
        "--inventory",
        inv.to_str().unwrap(),
    ];
    let qemu_flags: [&[&str]; 6] = [
        &["--qemu-arg", "1:-no-hpet"],
        &["--relaunch", "2"],
        &["--accel", "tcg"],
        &["--kernel", "/boot/vmlinuz"],
        &["--initrd", "/boot/initrd.img"],
        &["--qemu", "/usr/bin/qemu-system-x86_64"],
    ];
    let check = |o: &Output, flag: &str, backend: &str| {
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{flag} with {backend}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!("{flag} only applies to the QEMU backend"))
                && err.contains(&format!("drop it for --backend {backend}")),
            "{err}"
        );
    };
    for flag in qemu_flags {
        for (backend, args) in [("hyperv", &hyperv[..]), ("inventory", &inventory[..])] {
            check(&s.dry_run(&[args, flag].concat()), flag[0], backend);
        }
    }
    // Without --dry-run too: refused before anything is contacted or written.
    let o = Command::new(env!("CARGO_BIN_EXE_nestbench"))
        .env("NESTBENCH_SCRATCH_DIR", s.path("scratch"))
        .env("NESTBENCH_HISTORY", s.path("history/history.sqlite"))
        .env("TMPDIR", s.path("work"))
        .args(["run", "--out"])
        .arg(s.path("out"))
        .args(["--agent", s.path("bin/agent").to_str().unwrap()])
        .args(hyperv)
        .args(["--qemu-arg", "1:-no-hpet"])
        .output()
        .unwrap();
    check(&o, "--qemu-arg", "hyperv");
    std::fs::remove_file(&inv).unwrap();
    assert_eq!(s.written(), Vec::<PathBuf>::new());
}
