//! mem.pagefault: the rate of first-touch page faults on fresh anonymous memory.
//!
//! A minor fault is an exit-like event: the guest kernel handles it, but with nested
//! paging every new guest page must also be backed by the parent (an EPT/NPT
//! violation at each level below), which is why page-fault rates fall off much faster
//! with depth than plain CPU work. Regions are mapped with huge pages disabled so one
//! touch is one 4 KiB fault; remapping (munmap + mmap) happens outside the timing.

use crate::context::{obj, Context, RunError};
use crate::timing::{samples, Step};
use model::WorkloadResult;
use serde_json::json;
use std::time::Instant;

/// A fresh anonymous mapping, unmapped on drop.
struct Region {
    ptr: *mut u8,
    len: usize,
    page: usize,
    next: usize,
}

impl Region {
    fn map(len: usize, page: usize) -> Result<Self, RunError> {
        // SAFETY: a new private anonymous mapping; no existing memory is affected.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(RunError::io(
                format!("mmap {len} bytes"),
                std::io::Error::last_os_error(),
            ));
        }
        // SAFETY: advising on the mapping just created; failure only means THP may apply.
        unsafe { libc::madvise(ptr, len, libc::MADV_NOHUGEPAGE) };
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
            // SAFETY: `next` < `len` (callers stay within pages_left) and the mapping is
            // readable and writable.
            unsafe { self.ptr.add(self.next).write_volatile(1) };
            self.next += self.page;
        }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the mapping this value owns.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

fn minor_faults() -> i64 {
    // SAFETY: getrusage fills the zeroed struct it is given.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u.ru_minflt
    }
}

/// mem.pagefault: first-touch faults per second on fresh anonymous memory.
pub fn pagefault(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let mib = ctx.sizes.pagefault_mib;
    ctx.check_memory("mem.pagefault", mib)?;
    // SAFETY: sysconf has no preconditions.
    let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        p if p > 0 => p as usize,
        _ => 4096,
    };
    let len = (mib as usize) << 20;
    let mut region = Some(Region::map(len, page)?);
    let mut touched = 0u64;
    let mut error = None;
    let faults_before = minor_faults();
    let m = samples(&ctx.timing, |n| {
        let mut untimed = std::time::Duration::ZERO;
        let exhausted = !matches!(region.as_ref(), Some(r) if r.pages_left() > 0);
        if exhausted {
            let t = Instant::now();
            region = None; // munmap before mapping anew, so memory stays bounded
            match Region::map(len, page) {
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
    let ratio = (minor_faults() - faults_before) as f64 / touched.max(1) as f64;
    let params = obj(json!({
        "region_mib": mib,
        "page_b": page,
        "thp": "disabled (MADV_NOHUGEPAGE)",
        "minflt_per_touch": (ratio * 1000.0).round() / 1000.0,
    }));
    let s = m.iter().map(|m| m.per_second()).collect();
    Ok(vec![ctx.result("mem.pagefault", "rate", &params, s)])
}
