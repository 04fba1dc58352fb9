//! The Windows disk workloads' plumbing: a scratch directory removed on every path,
//! page-aligned buffers from `VirtualAlloc`, data files opened unbuffered where the
//! volume allows, and what the volume is.
//!
//! `FILE_FLAG_NO_BUFFERING` is Windows' O_DIRECT: reads and writes bypass the system
//! file cache and go to the volume, provided the buffer address, the offset and the
//! length are multiples of the volume's sector size. Buffers here come from
//! `VirtualAlloc`, so they are page-aligned (4 KiB), and every offset and length is a
//! multiple of [`ALIGN`]: that suits every sector size up to 4 KiB, which covers
//! 512-byte and 4Kn disks. Whether the volume took it is probed with one aligned write
//! and recorded in `params`.
//!
//! Every data file is opened `FILE_FLAG_DELETE_ON_CLOSE`: whatever ends the agent, even
//! TerminateProcess, closing the handle deletes the file. The handles of the files open
//! now are kept here, so that the agent's console-interrupt handler can close them —
//! deleting them — before it removes the directories ([`abandon_open_files`]).

use super::sys::{from_wide, last_error, wide};
use crate::context::{IoContext, RunError};
use std::fs::{File, OpenOptions};
use std::mem::ManuallyDrop;
use std::os::windows::fs::{FileExt, OpenOptionsExt};
use std::os::windows::io::AsRawHandle;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
use windows_sys::Win32::Storage::FileSystem::{
    FileStorageInfo, GetDiskFreeSpaceW, GetDriveTypeW, GetFileInformationByHandleEx,
    GetVolumeInformationByHandleW, GetVolumePathNameW, FILE_FLAG_DELETE_ON_CLOSE,
    FILE_FLAG_NO_BUFFERING, FILE_STORAGE_INFO,
};
use windows_sys::Win32::System::Memory::{
    VirtualAlloc, VirtualFree, MEM_COMMIT, MEM_RELEASE, MEM_RESERVE, PAGE_READWRITE,
};

/// GetDriveTypeW's answer for a RAM disk (WinBase.h; windows-sys has it in a module
/// this crate has no other use for).
const DRIVE_RAMDISK: u32 = 6;

/// Alignment of every offset and length of unbuffered I/O (the page size, a multiple
/// of every sector size this supports).
pub const ALIGN: usize = 4096;
/// Name of the file a disk workload writes inside its scratch directory (the same as
/// on Linux, so the agent's work directory knows every path up front).
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

/// Page-aligned committed memory from `VirtualAlloc`, filled with pseudo-random bytes
/// so that no layer below can shortcut zeroes; released on drop.
pub struct SectorBuf {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: uniquely owned memory, like a Vec<u8>.
unsafe impl Send for SectorBuf {}

impl SectorBuf {
    /// `len` bytes, rounded up to [`ALIGN`].
    pub fn new(len: usize) -> Result<Self, RunError> {
        let len = len.max(ALIGN).div_ceil(ALIGN) * ALIGN;
        // SAFETY: a new private region; no existing memory is affected.
        let ptr = unsafe {
            VirtualAlloc(
                std::ptr::null(),
                len,
                MEM_RESERVE | MEM_COMMIT,
                PAGE_READWRITE,
            )
        };
        if ptr.is_null() {
            return Err(last_error(format!("VirtualAlloc a {len} byte I/O buffer")));
        }
        let mut b = SectorBuf {
            ptr: ptr.cast(),
            len,
        };
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
        self.len
    }

    /// Always false (buffers have at least [`ALIGN`] bytes).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The bytes, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: ptr is a live region of len bytes owned by self.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: as in as_mut_slice.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for SectorBuf {
    fn drop(&mut self) {
        // SAFETY: releases the region allocated in new().
        unsafe { VirtualFree(self.ptr.cast(), 0, MEM_RELEASE) };
    }
}

/// Raw handles (as integers) of the data files open now.
static OPEN: Mutex<Vec<usize>> = Mutex::new(Vec::new());

fn open_files() -> MutexGuard<'static, Vec<usize>> {
    OPEN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// For the agent's console-interrupt handler, just before it ends the process: closes
/// every data file still open — each is delete-on-close, so each is gone once this
/// returns — and keeps the list locked, so no data file is opened or closed again
/// (a thread that tries waits until the process ends).
pub fn abandon_open_files() {
    let open = open_files();
    for &h in open.iter() {
        // SAFETY: a handle a DataFile registered and has not closed (it deregisters
        // under this lock before closing); its File is never used to close it again,
        // because the lock is never released and the process ends.
        unsafe { CloseHandle(h as HANDLE) };
    }
    std::mem::forget(open);
}

/// An open data file, delete-on-close, and whether it bypasses the file cache.
pub struct DataFile {
    file: ManuallyDrop<File>,
    /// Whether it was opened with `FILE_FLAG_NO_BUFFERING`.
    pub unbuffered: bool,
}

impl DataFile {
    fn register(file: File, unbuffered: bool) -> DataFile {
        open_files().push(file.as_raw_handle() as usize);
        DataFile {
            file: ManuallyDrop::new(file),
            unbuffered,
        }
    }

    /// The file.
    pub fn file(&self) -> &File {
        &self.file
    }
}

impl Drop for DataFile {
    fn drop(&mut self) {
        let mut open = open_files();
        let h = self.file.as_raw_handle() as usize;
        open.retain(|&o| o != h);
        // SAFETY: dropped once, here, while the list no longer holds its handle.
        unsafe { ManuallyDrop::drop(&mut self.file) };
    }
}

/// Creates `path` (read-write, delete-on-close), with `FILE_FLAG_NO_BUFFERING` when
/// `unbuffered` is asked for and the volume takes an aligned write of `probe` so; else
/// through the file cache.
pub fn open_data_file(
    path: &Path,
    probe: &SectorBuf,
    unbuffered: bool,
) -> Result<DataFile, RunError> {
    let open = |flags: u32| {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(FILE_FLAG_DELETE_ON_CLOSE | flags)
            .open(path)
    };
    if unbuffered {
        if let Ok(file) = open(FILE_FLAG_NO_BUFFERING) {
            if file.seek_write(&probe.as_slice()[..ALIGN], 0).is_ok() {
                return Ok(DataFile::register(file, true));
            }
        }
    }
    let file = open(0).ctx(|| format!("cannot create {}", path.display()))?;
    Ok(DataFile::register(file, false))
}

/// Writes all of `buf` at `offset`.
pub fn write_all_at(f: &File, mut buf: &[u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match f.seek_write(buf, offset)? {
            0 => return Err(std::io::ErrorKind::WriteZero.into()),
            n => {
                buf = &buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

/// Fills all of `buf` from `offset`.
pub fn read_exact_at(f: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match f.seek_read(buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

/// Writes `size` bytes of `buf`'s content from offset 0 and flushes them to the volume:
/// the setup that gives reads something real to read.
pub fn prefill(f: &File, buf: &SectorBuf, size: u64, path: &Path) -> Result<(), RunError> {
    let mut off = 0u64;
    while off < size {
        let n = (buf.len() as u64).min(size - off) as usize;
        write_all_at(f, &buf.as_slice()[..n], off).ctx(|| format!("write {}", path.display()))?;
        off += n as u64;
    }
    f.sync_all()
        .ctx(|| format!("FlushFileBuffers {}", path.display()))
}

/// What holds a data file, as far as Windows says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// File system name (`NTFS`, `ReFS`, `FAT32`…), `unknown` when not said.
    pub fs: String,
    /// The sector size unbuffered I/O must respect: the physical sector size for
    /// performance (FileStorageInfo, Windows 8+), else the volume's bytes per sector.
    pub sector_b: Option<u32>,
    /// Whether the volume is a RAM disk (its "disk" figures are memory figures).
    pub ram_disk: bool,
}

/// The volume of the open file `f`, which lives under `dir`.
pub fn volume_of(dir: &Path, f: &File) -> Volume {
    let h = f.as_raw_handle();
    let mut name = [0u16; 64];
    // SAFETY: an open handle and a buffer of the length given.
    let fs = if unsafe {
        GetVolumeInformationByHandleW(
            h,
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            name.as_mut_ptr(),
            name.len() as u32,
        )
    } != 0
    {
        from_wide(&name)
    } else {
        "unknown".into()
    };
    let mut root = [0u16; 1024];
    // SAFETY: a NUL-terminated path and a buffer of the length given.
    let root_ok =
        unsafe { GetVolumePathNameW(wide(dir).as_ptr(), root.as_mut_ptr(), root.len() as u32) }
            != 0;
    // SAFETY: a plain C struct, valid when zeroed; filled for an open handle.
    let mut storage: FILE_STORAGE_INFO = unsafe { std::mem::zeroed() };
    let sector = if unsafe {
        GetFileInformationByHandleEx(
            h,
            FileStorageInfo,
            (&mut storage as *mut FILE_STORAGE_INFO).cast(),
            std::mem::size_of::<FILE_STORAGE_INFO>() as u32,
        )
    } != 0
        && storage.PhysicalBytesPerSectorForPerformance > 0
    {
        Some(storage.PhysicalBytesPerSectorForPerformance)
    } else if root_ok {
        let (mut spc, mut bps, mut free, mut total) = (0u32, 0u32, 0u32, 0u32);
        // SAFETY: a NUL-terminated root path and four u32s to fill.
        (unsafe { GetDiskFreeSpaceW(root.as_ptr(), &mut spc, &mut bps, &mut free, &mut total) }
            != 0
            && bps > 0)
            .then_some(bps)
    } else {
        None
    };
    // SAFETY: a NUL-terminated root path.
    let ram_disk = root_ok && unsafe { GetDriveTypeW(root.as_ptr()) } == DRIVE_RAMDISK;
    Volume {
        fs,
        sector_b: sector,
        ram_disk,
    }
}
