//! The guest's root file system, an initramfs: busybox (as init and every tool),
//! dropbear, and — except in the leaf variant for the deepest level — QEMU with its
//! libraries, accelerator module and firmware, so every level can host the next; plus
//! the kernel modules the init script loads (virtio, fw_cfg, kvm) with their
//! dependencies. Userland comes from the host's installed Debian packages (the same
//! Debian release as the guest kernel), so the QEMU inside the guests is the QEMU
//! that runs L1 unless `--qemu` says otherwise.

use super::cpio::{Entry, Tree};
use super::fetch::UnpackedKernel;
use anyhow::{bail, Context};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The guest init script (run by busybox init as `sysinit`).
pub const INIT_SH: &str = include_str!("../../guest/init.sh");

/// Modules the init script loads; their dependencies come along from modules.dep.
/// The leaf image (no QEMU) leaves out the hypervisor modules ([`HYPERVISOR_MODULES`]):
/// nothing runs a guest there, and loading kvm_amd costs ~10 s at L4 here.
pub const MODULES: &[&str] = &[
    "virtio_pci",
    "virtio_mmio",
    "virtio_blk",
    "virtio_net",
    "qemu_fw_cfg",
    "irqbypass",
    "kvm",
    "kvm_amd",
    "kvm_intel",
];

/// The part of [`MODULES`] only a level that starts a child needs.
pub const HYPERVISOR_MODULES: &[&str] = &["irqbypass", "kvm", "kvm_amd", "kvm_intel"];

/// Firmware QEMU needs for `-M pc -bios qboot.rom` and `-M microvm`; the ones marked
/// optional are added when the host has them.
const FIRMWARE: &[(&str, bool)] = &[
    ("qboot.rom", true),
    ("bios-microvm.bin", true),
    ("kvmvapic.bin", true),
    ("linuxboot_dma.bin", true),
    ("bios-256k.bin", false),
    ("efi-virtio.rom", false),
];

const QEMU_DATA: &str = "/usr/share/qemu";
const TCG_MODULE: &str = "/usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so";

/// Host files that go into the image (destination path, source).
#[derive(Debug, Clone, Default)]
pub struct Userland {
    /// (path in the guest, host file, mode).
    pub files: Vec<(String, PathBuf, u32)>,
    /// busybox applets to link to /bin/busybox.
    pub applets: Vec<String>,
    /// QEMU is in (not the leaf variant): the kvm modules come along.
    pub hypervisor: bool,
}

/// Find `name` on PATH or in the sbin directories; the error names the package.
pub fn find_tool(name: &str, package: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file());
    found.with_context(|| {
        format!(
            "{name} not found: install it with `apt-get install --no-install-recommends {package}`"
        )
    })
}

/// Libraries `ldd` lists for a binary (absolute paths, the dynamic loader included).
pub fn parse_ldd(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| {
            let l = l.trim();
            let path = match l.split_once("=>") {
                Some((_, rhs)) => rhs.split_whitespace().next()?,
                None => l.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| path.to_string())
        })
        .collect()
}

fn libs_of(bin: &Path) -> anyhow::Result<Vec<String>> {
    let out = Command::new("ldd")
        .arg(bin)
        .output()
        .context("cannot run ldd (libc-bin)")?;
    // A static binary makes ldd fail with "not a dynamic executable": no libraries.
    Ok(parse_ldd(&String::from_utf8_lossy(&out.stdout)))
}

/// The host files of the image; `with_qemu` false gives the leaf variant.
pub fn collect_userland(with_qemu: bool) -> anyhow::Result<Userland> {
    let mut u = Userland {
        hypervisor: with_qemu,
        ..Userland::default()
    };
    let busybox = find_tool("busybox", "busybox-static")?;
    let dropbear = find_tool("dropbear", "dropbear-bin")?;
    u.files.push(("bin/busybox".into(), busybox.clone(), 0o755));
    u.files
        .push(("usr/sbin/dropbear".into(), dropbear.clone(), 0o755));
    let mut dynamic = vec![dropbear];
    if with_qemu {
        let qemu = find_tool("qemu-system-x86_64", "qemu-system-x86")?;
        u.files
            .push(("usr/bin/qemu-system-x86_64".into(), qemu.clone(), 0o755));
        dynamic.push(qemu);
        if Path::new(TCG_MODULE).is_file() {
            u.files
                .push((TCG_MODULE[1..].to_string(), TCG_MODULE.into(), 0o644));
            dynamic.push(TCG_MODULE.into());
        }
        for (fw, required) in FIRMWARE {
            let p = Path::new(QEMU_DATA).join(fw);
            if p.is_file() {
                u.files.push((format!("usr/share/qemu/{fw}"), p, 0o644));
            } else if *required {
                bail!("{} not found: install qemu-system-data", p.display());
            }
        }
    }
    let mut libs = BTreeSet::new();
    for bin in &dynamic {
        libs.extend(libs_of(bin)?);
    }
    for lib in libs {
        u.files
            .push((lib[1..].to_string(), PathBuf::from(&lib), 0o755));
    }
    let list = Command::new(&busybox)
        .arg("--list")
        .output()
        .context("cannot run busybox --list")?;
    u.applets = String::from_utf8_lossy(&list.stdout)
        .split_whitespace()
        .filter(|a| *a != "busybox")
        .map(str::to_string)
        .collect();
    Ok(u)
}

/// Module name as modprobe compares it (`kvm-amd` and `kvm_amd` are the same).
fn norm(name: &str) -> String {
    name.replace('-', "_")
}

/// modules.dep (paths relative to the modules directory) to name → (path, deps).
pub fn parse_modules_dep(text: &str) -> BTreeMap<String, (String, Vec<String>)> {
    let mut m = BTreeMap::new();
    for line in text.lines() {
        let Some((path, deps)) = line.split_once(':') else {
            continue;
        };
        let base = path.rsplit('/').next().unwrap_or(path);
        let name = norm(base.split(".ko").next().unwrap_or(base));
        let deps = deps.split_whitespace().map(str::to_string).collect();
        m.insert(name, (path.to_string(), deps));
    }
    m
}

/// The module files `wanted` needs (each with its dependencies), as modules.dep lines.
pub fn module_closure(
    dep: &BTreeMap<String, (String, Vec<String>)>,
    wanted: &[&str],
) -> Vec<(String, Vec<String>)> {
    let by_path: BTreeMap<&str, &Vec<String>> =
        dep.values().map(|(p, d)| (p.as_str(), d)).collect();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for w in wanted {
        let Some((path, deps)) = dep.get(&norm(w)) else {
            continue; // built in, or not in this kernel
        };
        out.insert(path.clone(), deps.clone());
        for d in deps {
            let dd = by_path
                .get(d.as_str())
                .map(|v| (*v).clone())
                .unwrap_or_default();
            out.insert(d.clone(), dd);
        }
    }
    out.into_iter().collect()
}

/// Build the initramfs tree from `userland` and the kernel's modules.
pub fn tree(userland: &Userland, kernel: &UnpackedKernel) -> anyhow::Result<Tree> {
    let mut t = Tree::default();
    for d in [
        "proc", "sys", "dev", "run", "tmp", "mnt", "scratch", "root", "sbin", "usr/sbin",
    ] {
        t.add(d, Entry::Dir);
    }
    for (dest, src, mode) in &userland.files {
        t.add(
            dest,
            Entry::HostFile {
                src: src.clone(),
                mode: *mode,
            },
        );
    }
    for a in &userland.applets {
        if !t.contains(&format!("bin/{a}")) {
            t.add(&format!("bin/{a}"), Entry::Symlink("busybox".into()));
        }
    }
    t.add("init", Entry::Symlink("bin/busybox".into()));
    let text = |s: &str, mode| Entry::Bytes {
        data: s.as_bytes().to_vec(),
        mode,
    };
    t.add("etc/nestbench/init.sh", text(INIT_SH, 0o755));
    t.add(
        "etc/inittab",
        text("::sysinit:/etc/nestbench/init.sh\n", 0o644),
    );
    t.add("etc/passwd", text("root:x:0:0:root:/root:/bin/sh\n", 0o644));
    t.add("etc/group", text("root:x:0:\n", 0o644));
    t.add("etc/shells", text("/bin/sh\n", 0o644));
    let dep_text = std::fs::read_to_string(kernel.modules.join("modules.dep"))
        .with_context(|| format!("{}: no modules.dep", kernel.modules.display()))?;
    let wanted: Vec<&str> = MODULES
        .iter()
        .copied()
        .filter(|m| userland.hypervisor || !HYPERVISOR_MODULES.contains(m))
        .collect();
    let closure = module_closure(&parse_modules_dep(&dep_text), &wanted);
    let base = format!("lib/modules/{}", kernel.release);
    let mut dep_out = String::new();
    for (path, deps) in &closure {
        t.add(
            &format!("{base}/{path}"),
            Entry::HostFile {
                src: kernel.modules.join(path),
                mode: 0o644,
            },
        );
        dep_out.push_str(&format!("{path}: {}\n", deps.join(" ")));
    }
    t.add(&format!("{base}/modules.dep"), text(&dep_out, 0o644));
    if let Ok(b) = std::fs::read(kernel.modules.join("modules.builtin")) {
        t.add(
            &format!("{base}/modules.builtin"),
            Entry::Bytes {
                data: b,
                mode: 0o644,
            },
        );
    }
    Ok(t)
}

/// Write `tree` as a zstd-compressed newc archive at `out`.
pub fn write_zstd(tree: &Tree, out: &Path) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut child = Command::new("zstd")
        .args(["-q", "-T0", "-3", "-c"])
        .stdin(Stdio::piped())
        .stdout(file)
        .spawn()
        .context("cannot run zstd: install it with `apt-get install zstd`")?;
    let mut stdin = std::io::BufWriter::new(child.stdin.take().expect("piped"));
    tree.write_newc(&mut stdin)?;
    stdin.flush()?;
    drop(stdin);
    if !child.wait()?.success() {
        bail!("zstd failed writing {}", out.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ldd_output() {
        let out = "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x1)\n\t/lib64/ld-linux-x86-64.so.2 (0x2)\n\tlibgone.so => not found\n";
        assert_eq!(
            parse_ldd(out),
            [
                "/lib/x86_64-linux-gnu/libz.so.1",
                "/lib64/ld-linux-x86-64.so.2"
            ]
        );
        assert!(parse_ldd("\tnot a dynamic executable\n").is_empty());
    }

    #[test]
    fn module_closure_follows_modules_dep() {
        let dep = "kernel/arch/x86/kvm/kvm.ko: kernel/virt/lib/irqbypass.ko\n\
                   kernel/arch/x86/kvm/kvm-amd.ko: kernel/arch/x86/kvm/kvm.ko kernel/virt/lib/irqbypass.ko\n\
                   kernel/virt/lib/irqbypass.ko:\n\
                   kernel/drivers/other.ko:\n";
        let c = module_closure(&parse_modules_dep(dep), &["kvm_amd", "not_there"]);
        let paths: Vec<_> = c.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "kernel/arch/x86/kvm/kvm-amd.ko",
                "kernel/arch/x86/kvm/kvm.ko",
                "kernel/virt/lib/irqbypass.ko"
            ]
        );
        assert_eq!(c[1].1, ["kernel/virt/lib/irqbypass.ko"]);
    }
}
