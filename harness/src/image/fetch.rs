//! The guest kernel, from Debian's archive: the `linux-image-cloud-amd64` metapackage is
//! resolved to the versioned package (`apt-cache depends`), downloaded with
//! `apt-get download` into the cache and unpacked with `dpkg-deb -x`. Nothing is
//! installed on the host: the kernel and its modules only ever live in the cache.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The metapackage followed unless `NESTBENCH_KERNEL_PACKAGE` names another one.
pub const DEFAULT_KERNEL_META: &str = "linux-image-cloud-amd64";

/// A versioned kernel package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelPackage {
    /// e.g. `linux-image-6.1.0-56-cloud-amd64`.
    pub name: String,
    /// Debian version, e.g. `6.1.192-2`.
    pub version: String,
}

/// An unpacked kernel package.
#[derive(Debug, Clone)]
pub struct UnpackedKernel {
    /// The bzImage.
    pub vmlinuz: PathBuf,
    /// `lib/modules/<release>` inside the unpacked tree (with modules.dep).
    pub modules: PathBuf,
    /// Kernel release, e.g. `6.1.0-56-cloud-amd64`.
    pub release: String,
}

fn run(cmd: &mut Command, what: &str, package_hint: &str) -> anyhow::Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {what}: install it ({package_hint}) and retry"))?;
    if !out.status.success() {
        bail!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The `Depends:` target of a metapackage in `apt-cache depends` output that is itself
/// a `linux-image-*` package.
pub fn parse_depends(out: &str) -> Option<String> {
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("Depends:"))
        .map(|d| d.trim().trim_start_matches('<').trim_end_matches('>'))
        .find(|d| d.starts_with("linux-image-"))
        .map(str::to_string)
}

/// The first `Version:` in `apt-cache show` output.
pub fn parse_version(out: &str) -> Option<String> {
    out.lines()
        .find_map(|l| l.strip_prefix("Version:"))
        .map(|v| v.trim().to_string())
}

/// Resolve the kernel metapackage to the versioned package the archive offers now.
pub fn resolve_kernel() -> anyhow::Result<KernelPackage> {
    let meta =
        std::env::var("NESTBENCH_KERNEL_PACKAGE").unwrap_or_else(|_| DEFAULT_KERNEL_META.into());
    let deps = run(
        Command::new("apt-cache").args(["depends", &meta]),
        "apt-cache depends",
        "apt",
    )?;
    // A versioned package name given directly has no linux-image dependency.
    let name = parse_depends(&deps).unwrap_or(meta.clone());
    let show = run(
        Command::new("apt-cache").args(["show", "--no-all-versions", &name]),
        "apt-cache show",
        "apt",
    )?;
    let version = parse_version(&show).with_context(|| {
        format!("apt-cache knows no version of {name}; run `apt-get update` and retry")
    })?;
    Ok(KernelPackage { name, version })
}

/// Download `pkg` into `debs` (reused when already there); returns the .deb.
pub fn download(pkg: &KernelPackage, debs: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(debs).with_context(|| format!("cannot create {}", debs.display()))?;
    let escaped = pkg.version.replace(':', "%3a");
    let want = debs.join(format!("{}_{}_amd64.deb", pkg.name, escaped));
    if want.is_file() {
        return Ok(want);
    }
    run(
        Command::new("apt-get")
            .args(["download", "-q", "-o", "APT::Sandbox::User=root"])
            .arg(format!("{}={}", pkg.name, pkg.version))
            .current_dir(debs),
        "apt-get download",
        "apt",
    )
    .with_context(|| format!("cannot download {} {}", pkg.name, pkg.version))?;
    if !want.is_file() {
        bail!(
            "apt-get download did not produce {}; check the apt sources",
            want.display()
        );
    }
    Ok(want)
}

/// Unpack `deb` into `dest` (replaced) and index its modules with `depmod -b`.
pub fn unpack(deb: &Path, dest: &Path) -> anyhow::Result<UnpackedKernel> {
    if dest.exists() {
        std::fs::remove_dir_all(dest)?;
    }
    std::fs::create_dir_all(dest).with_context(|| format!("cannot create {}", dest.display()))?;
    run(
        Command::new("dpkg-deb").arg("-x").arg(deb).arg(dest),
        "dpkg-deb -x",
        "dpkg",
    )?;
    let boot = dest.join("boot");
    let vmlinuz = std::fs::read_dir(&boot)
        .with_context(|| format!("{} has no /boot", deb.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmlinuz-"))
        })
        .with_context(|| format!("{} has no /boot/vmlinuz-*", deb.display()))?;
    let release = vmlinuz
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("vmlinuz-"))
        .unwrap_or_default()
        .to_string();
    let modules = dest.join("lib/modules").join(&release);
    run(
        Command::new("depmod").arg("-b").arg(dest).arg(&release),
        "depmod",
        "kmod",
    )?;
    Ok(UnpackedKernel {
        vmlinuz,
        modules,
        release,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_the_versioned_package() {
        let out = "linux-image-cloud-amd64\n  Depends: linux-image-6.1.0-56-cloud-amd64\n";
        assert_eq!(
            parse_depends(out).as_deref(),
            Some("linux-image-6.1.0-56-cloud-amd64")
        );
        assert_eq!(parse_depends("foo\n  Depends: kmod\n"), None);
        assert_eq!(
            parse_version("Package: x\nVersion: 6.1.192-2\nVersion: 1\n").as_deref(),
            Some("6.1.192-2")
        );
        assert_eq!(parse_version("Package: x\n"), None);
    }
}
