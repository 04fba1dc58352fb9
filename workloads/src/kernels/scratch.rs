//! The disk workloads' plumbing: a scratch directory that is removed on every path,
//! page-aligned buffers, file-system detection and opening files with O_DIRECT where
//! the file system allows it.
//!
//! Disk figures only mean something when they cross the virtual disk, not the guest's
//! page cache; O_DIRECT gets there. tmpfs (the agent's directory on a RAM-rooted
//! host) refuses O_DIRECT, so the fallback is taken and recorded in `params`.
//!
//! Files are prepared within the setup budget ([`prepare`], see [`crate::setup`]) and
//! only over what was really written. Preallocating instead (fallocate) and reading
//! the unwritten extents would be dishonest: on this project's ext4, 256 MiB of
//! fallocated file read back with O_DIRECT at 30 GB/s — no device I/O at all, the file
//! system answers zeros — against 1.6 GB/s for the same file written; a sparse file's
//! holes read at 54 GB/s.

use crate::context::{IoContext, RunError};
use crate::setup::SetupClock;
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Alignment of O_DIRECT buffers, offsets and sizes.
pub const ALIGN: usize = 4096;
/// Name of the file a disk workload writes inside its scratch directory.
pub const FILE_NAME: &str = "data";

/// A workload's own directory (`<dir>/<workload id>`), removed with its contents on drop.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates `<parent>/<name>`; fails when `parent` is missing or not writable.
    pub fn create(parent: &Path, name: &str) -> Result<Self, RunError> {
        let path = parent.join(name);
        std::fs::create_dir(&path).ctx(|| {
            format!(
                "cannot create scratch directory {}: pass --dir a writable directory",
                path.display()
            )
        })?;
        Ok(ScratchDir { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The data file's path inside it.
    pub fn file(&self) -> PathBuf {
        self.path.join(FILE_NAME)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A zeroed heap buffer aligned to [`ALIGN`].
pub struct AlignedBuf {
    ptr: *mut u8,
    layout: Layout,
}

// SAFETY: the buffer is uniquely owned heap memory, like a Vec<u8>.
unsafe impl Send for AlignedBuf {}

impl AlignedBuf {
    /// `len` bytes (rounded up to [`ALIGN`]) filled with pseudo-random bytes, so no
    /// layer below can shortcut zeroes.
    pub fn new(len: usize) -> Result<Self, RunError> {
        let len = len.max(ALIGN).div_ceil(ALIGN) * ALIGN;
        let layout = Layout::from_size_align(len, ALIGN)
            .map_err(|_| RunError::Other(format!("bad buffer size {len}")))?;
        // SAFETY: layout has non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        if ptr.is_null() {
            return Err(RunError::Other(format!(
                "cannot allocate a {len} byte I/O buffer"
            )));
        }
        let mut b = AlignedBuf { ptr, layout };
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for chunk in b.as_mut_slice().chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        Ok(b)
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.layout.size()
    }

    /// Always false (buffers have at least [`ALIGN`] bytes).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The bytes, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: ptr is a live allocation of layout.size() bytes owned by self.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.layout.size()) }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: as in as_mut_slice.
        unsafe { std::slice::from_raw_parts(self.ptr, self.layout.size()) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        // SAFETY: allocated in new() with this layout.
        unsafe { dealloc(self.ptr, self.layout) };
    }
}

/// What a file system is, from statfs(2)'s f_type.
pub fn fs_type(path: &Path) -> String {
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
        return "unknown".into();
    };
    // SAFETY: statfs fills the zeroed struct for a NUL-terminated path.
    let t = unsafe {
        let mut s: libc::statfs = std::mem::zeroed();
        if libc::statfs(c.as_ptr(), &mut s) != 0 {
            return "unknown".into();
        }
        s.f_type as u64
    };
    match t {
        0x0102_1994 => "tmpfs",
        0x8584_58f6 => "ramfs",
        0xEF53 => "ext4",
        0x5846_5342 => "xfs",
        0x9123_683E => "btrfs",
        0x794C_7630 => "overlayfs",
        0x2FC1_2FC1 => "zfs",
        0xF2F5_2010 => "f2fs",
        0x6969 => "nfs",
        0x0102_1997 => "9p",
        0x6573_5546 => "fuse",
        0x4d44 => "vfat",
        _ => return format!("0x{t:x}"),
    }
    .into()
}

/// Whether the file system keeps files in RAM (so "disk" figures are memory figures).
pub fn is_ram_fs(fs: &str) -> bool {
    matches!(fs, "tmpfs" | "ramfs")
}

/// An open data file and whether it bypasses the page cache.
pub struct DataFile {
    /// The file.
    pub file: File,
    /// Whether it was opened with O_DIRECT.
    pub direct: bool,
}

/// Creates `path` (read-write), with O_DIRECT when the file system accepts it: some
/// refuse at open (tmpfs), some only at the first aligned write, which is probed.
pub fn open_data_file(path: &Path, probe: &AlignedBuf) -> Result<DataFile, RunError> {
    use std::os::unix::fs::FileExt;
    let open = |flags: i32| {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .custom_flags(flags)
            .open(path)
    };
    if let Ok(file) = open(libc::O_DIRECT) {
        if file.write_at(&probe.as_slice()[..ALIGN], 0).is_ok() {
            return Ok(DataFile { file, direct: true });
        }
    }
    let file = open(0).ctx(|| format!("cannot create {}", path.display()))?;
    Ok(DataFile {
        file,
        direct: false,
    })
}

/// Bytes written between two fdatasyncs when preparing a file without O_DIRECT.
const BUFFERED_SYNC_EVERY: u64 = 4 << 20;

/// Writes `buf`'s content over the file from offset 0, one buffer at a time, until
/// `size` bytes are written or `clock`'s budget is spent (checked after each buffer, so
/// at least one is written), then syncs; returns the bytes written, the part of the
/// file reads may range over. Without O_DIRECT the writes are fdatasynced every
/// 4 MiB, so the clock sees the device's pace, not the page cache's. The rest of the
/// file is never allocated: reading unwritten blocks (holes, fallocated extents) is
/// answered with zeros without touching the device, so it is never measured.
pub fn prepare(
    f: &File,
    buf: &AlignedBuf,
    size: u64,
    path: &Path,
    direct: bool,
    clock: &SetupClock,
) -> Result<u64, RunError> {
    use std::os::unix::fs::FileExt;
    let mut off = 0u64;
    while off < size {
        let n = (buf.len() as u64).min(size - off) as usize;
        f.write_all_at(&buf.as_slice()[..n], off)
            .ctx(|| format!("write {}", path.display()))?;
        off += n as u64;
        if !direct && off % BUFFERED_SYNC_EVERY < n as u64 {
            f.sync_data()
                .ctx(|| format!("fdatasync {}", path.display()))?;
        }
        if clock.spent() {
            break;
        }
    }
    f.sync_all().ctx(|| format!("fsync {}", path.display()))?;
    Ok(off)
}

/// Asks the kernel to drop the file's cached pages (only matters without O_DIRECT).
pub fn drop_cache(f: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: advisory call on an open descriptor.
    unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
}
