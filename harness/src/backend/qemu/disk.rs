//! Scratch disks that are real at every level (docs/qemu.md, "Disks"). L1's disk is one
//! sparse raw file on the host; level n's ext4 file system sits at the offset where the
//! shallower levels' file systems end, and each level hands the rest of its /dev/vdb to
//! its child as a raw region (`offset=`/`size=`), so an L3 write crosses three virtual
//! disk layers, each opened with O_DIRECT. Every file system is made on the host
//! beforehand (`mke2fs -E offset=`, inode tables and journal written out, no lazy
//! init), so no guest formats anything while booting and no ext4lazyinit thread runs
//! behind a measurement.

use super::argv::CacheMode;
use crate::plan::Plan;
use anyhow::{bail, Context};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::Command;

const MIB: u64 = 1024 * 1024;

/// Create L1's scratch file at `path` for `plan` and make every level's file system.
/// Returns how QEMU can open it.
pub fn create(path: &Path, plan: &Plan) -> anyhow::Result<CacheMode> {
    let total = plan.disk_mib(1) * MIB;
    let f = std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot create the scratch file {}", path.display()))?;
    f.set_len(total)?;
    drop(f);
    for l in &plan.levels {
        let offset = plan.abs_offset_mib(l.level) * MIB;
        let out = Command::new("mke2fs")
            .args([
                "-q", "-F", "-t", "ext4", "-m", "0", "-i", "1048576", "-J", "size=16",
            ])
            .arg("-E")
            .arg(format!(
                "offset={offset},nodiscard,lazy_itable_init=0,lazy_journal_init=0"
            ))
            .args(["-L", &format!("nbscratch{}", l.level)])
            .arg(path)
            .arg(format!("{}k", l.fs_mib * 1024))
            .output()
            .context("cannot run mke2fs: install it with `apt-get install e2fsprogs`")?;
        if !out.status.success() {
            bail!(
                "mke2fs for L{}'s scratch file system failed: {}",
                l.level,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
    Ok(cache_mode(path))
}

/// `Direct` when `path` can be opened with O_DIRECT (not on tmpfs), else `Buffered`.
pub fn cache_mode(path: &Path) -> CacheMode {
    let direct = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
        .is_ok();
    if direct {
        CacheMode::Direct
    } else {
        CacheMode::Buffered
    }
}

pub use crate::backend::host::fs_type;

/// run.json `env.disk` for level `n`.
pub fn describe(plan: &Plan, n: u32, host_file: &Path, cache: CacheMode) -> String {
    let fs = plan.level(n).fs_mib;
    if n == 1 {
        let note = match cache {
            CacheMode::Direct => "",
            CacheMode::Buffered => "; no O_DIRECT there, the host page cache answers",
        };
        format!(
            "ext4 ({fs} MiB) on virtio-blk, backed by raw file {} on host {} ({}){note}",
            host_file.display(),
            fs_type(host_file),
            cache.options()
        )
    } else {
        format!(
            "ext4 ({fs} MiB) on virtio-blk, backed by L{}'s /dev/vdb at offset {} MiB ({}), {n} virtual disk layers",
            n - 1,
            plan.level(n - 1).fs_mib,
            CacheMode::Direct.options()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::AccelArg;
    use crate::plan::{self, HostResources};

    #[test]
    fn makes_every_levels_file_system() {
        if !crate::testreq::require_tool("mke2fs", "e2fsprogs") {
            return;
        }
        let host = HostResources {
            cpus: 2,
            mem_available_mib: 20_000,
            disk_available_mib: 100_000,
            scratch_dir: "/tmp".into(),
        };
        let p = plan::make(2, None, None, AccelArg::Auto, &host).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("scratch.raw");
        create(&f, &p).unwrap();
        assert_eq!(std::fs::metadata(&f).unwrap().len(), p.disk_mib(1) * MIB);
        // ext4 superblock magic 0xEF53 at 1024 + 56 of each file system.
        use std::io::{Read, Seek, SeekFrom};
        let mut file = std::fs::File::open(&f).unwrap();
        for n in 1..=2 {
            let mut magic = [0u8; 2];
            file.seek(SeekFrom::Start(p.abs_offset_mib(n) * MIB + 1024 + 56))
                .unwrap();
            file.read_exact(&mut magic).unwrap();
            assert_eq!(magic, [0x53, 0xEF], "L{n}");
        }
        assert!(describe(&p, 2, &f, CacheMode::Direct).contains("L1's /dev/vdb"));
    }
}
