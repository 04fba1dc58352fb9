//! mem.pagefault on Windows: the rate of first-touch page faults on fresh committed
//! memory.
//!
//! `VirtualAlloc(MEM_RESERVE | MEM_COMMIT)` only promises the pages; the first write to
//! each is a demand-zero fault that Windows' memory manager serves with a zeroed
//! frame — and with nested paging the parent must back that frame too, as on Linux
//! (`kernels/pagefault.rs`). Large pages are never used (they need MEM_LARGE_PAGES and
//! a privilege), so one touch is one 4 KiB fault. Releasing and allocating a region
//! anew happens outside the timing. `params.faults_per_touch` is the process's
//! PageFaultCount growth per touched page, which should be about 1 (null where the
//! count never moves, as under Wine).

use super::sys::last_error;
use crate::context::{obj, Context, RunError};
use crate::timing::{samples, Step};
use model::WorkloadResult;
use serde_json::json;
use std::time::Instant;
use windows_sys::Win32::System::Memory::{
    VirtualAlloc, VirtualFree, MEM_COMMIT, MEM_RELEASE, MEM_RESERVE, PAGE_READWRITE,
};
use windows_sys::Win32::System::ProcessStatus::{K32GetProcessMemoryInfo, PROCESS_MEMORY_COUNTERS};
use windows_sys::Win32::System::SystemInformation::{GetSystemInfo, SYSTEM_INFO};
use windows_sys::Win32::System::Threading::GetCurrentProcess;

/// A fresh committed region, released on drop.
struct Region {
    ptr: *mut u8,
    len: usize,
    page: usize,
    next: usize,
}

impl Region {
    fn alloc(len: usize, page: usize) -> Result<Self, RunError> {
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
            return Err(last_error(format!("VirtualAlloc {len} bytes")));
        }
        Ok(Region {
            ptr: ptr.cast(),
            len,
            page,
            next: 0,
        })
    }

    fn pages_left(&self) -> usize {
        (self.len - self.next) / self.page
    }

    /// Writes one byte to each of the next `n` untouched pages.
    fn touch(&mut self, n: usize) {
        for _ in 0..n {
            // SAFETY: `next` < `len` (callers stay within pages_left); the region is
            // committed read-write.
            unsafe { self.ptr.add(self.next).write_volatile(1) };
            self.next += self.page;
        }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: releases exactly the region this value owns.
        unsafe { VirtualFree(self.ptr.cast(), 0, MEM_RELEASE) };
    }
}

/// The process's page faults so far (soft and hard; a u32 that wraps).
fn page_faults() -> u32 {
    // SAFETY: fills the zeroed struct of the size given, for this process.
    unsafe {
        let mut c: PROCESS_MEMORY_COUNTERS = std::mem::zeroed();
        c.cb = std::mem::size_of::<PROCESS_MEMORY_COUNTERS>() as u32;
        K32GetProcessMemoryInfo(GetCurrentProcess(), &mut c, c.cb);
        c.PageFaultCount
    }
}

fn page_size() -> usize {
    // SAFETY: fills the zeroed struct.
    let page = unsafe {
        let mut si: SYSTEM_INFO = std::mem::zeroed();
        GetSystemInfo(&mut si);
        si.dwPageSize as usize
    };
    if page.is_power_of_two() {
        page
    } else {
        4096
    }
}

/// mem.pagefault: first-touch faults per second on freshly committed memory.
pub fn pagefault(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let mib = ctx.sizes.pagefault_mib;
    ctx.check_memory("mem.pagefault", mib)?;
    let page = page_size();
    let len = (mib as usize) << 20;
    let mut region = Some(Region::alloc(len, page)?);
    let mut touched = 0u64;
    let mut error = None;
    let faults_before = page_faults();
    let m = samples(&ctx.timing, |n| {
        let mut untimed = std::time::Duration::ZERO;
        if !matches!(region.as_ref(), Some(r) if r.pages_left() > 0) {
            let t = Instant::now();
            region = None; // release before allocating anew, so memory stays bounded
            match Region::alloc(len, page) {
                Ok(r) => region = Some(r),
                Err(e) => error = Some(e),
            }
            untimed = t.elapsed();
        }
        let Some(r) = region.as_mut() else {
            return Step {
                units: 0.0,
                untimed,
            };
        };
        let k = (n as usize).min(r.pages_left());
        r.touch(k);
        touched += k as u64;
        Step {
            units: k as f64,
            untimed,
        }
    });
    if let Some(e) = error {
        return Err(e);
    }
    // A counter that did not move at all is one the OS does not keep (Wine): unknown.
    let faults = page_faults().wrapping_sub(faults_before);
    let ratio =
        (faults > 0).then(|| (f64::from(faults) / touched.max(1) as f64 * 1000.0).round() / 1000.0);
    let params = obj(json!({
        "region_mib": mib,
        "page_b": page,
        "allocation": "VirtualAlloc(MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE), no large pages",
        "faults_per_touch": ratio,
    }));
    let s = m.iter().map(|m| m.per_second()).collect();
    Ok(vec![ctx.result("mem.pagefault", "rate", &params, s)])
}
