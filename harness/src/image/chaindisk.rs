//! The chain disk: a small ext2 file system holding the kernel and the initramfs
//! images, attached read-only to every level as /dev/vda and passed on to the child
//! (`-drive file=/dev/vda,readonly=on`), so a level starts its child with
//! `-kernel /mnt/vmlinuz -initrd /mnt/initrd.img` without anything being copied over
//! SSH. Made with `mke2fs -d` (e2fsprogs ≥ 1.43), which needs no root and no loop device.

use anyhow::{bail, Context};
use std::path::Path;
use std::process::Command;

/// Files on the chain disk as the guest sees them under /mnt.
pub const VMLINUZ: &str = "vmlinuz";
/// The full initramfs (with QEMU).
pub const INITRD: &str = "initrd.img";
/// The leaf initramfs (no QEMU), for the deepest level.
pub const LEAF_INITRD: &str = "initrd-leaf.img";

/// Make `out` from the files in `dir` (an ext2 image sized to fit them).
pub fn make(dir: &Path, out: &Path) -> anyhow::Result<()> {
    let mut bytes = 0u64;
    for e in std::fs::read_dir(dir)? {
        bytes += e?.metadata()?.len();
    }
    let kib = bytes / 1024 * 11 / 10 + 4096;
    let _ = std::fs::remove_file(out);
    let o = Command::new("mke2fs")
        .args([
            "-q", "-F", "-t", "ext2", "-b", "4096", "-m", "0", "-L", "nbchain", "-d",
        ])
        .arg(dir)
        .arg(out)
        .arg(format!("{kib}k"))
        .output()
        .context("cannot run mke2fs: install it with `apt-get install e2fsprogs`")?;
    if !o.status.success() {
        bail!(
            "mke2fs -d {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&o.stderr).trim()
        );
    }
    Ok(())
}
