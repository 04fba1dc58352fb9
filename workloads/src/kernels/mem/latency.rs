//! mem.latency: nanoseconds per dependent load, chasing one random cycle through one
//! pointer per cache line of a buffer far larger than the caches (see the parent
//! module for the cache and setup rules).
//!
//! The cycle is built as the buffer is first-touched: each new line is inserted after a
//! uniformly chosen line already in the cycle, which yields a uniformly random cyclic
//! order (the same distribution as Sattolo's shuffle) at every point — so the setup can
//! stop after any piece, within its budget, and still leave one random cycle over
//! everything touched so far. Huge pages are refused (MADV_NOHUGEPAGE), so each line
//! is on a 4 KiB page and nearly every load misses the TLB, at every level alike
//! whatever its kernel's THP default.

use super::{reserve, Rng, MIB};
use crate::context::{obj, Context, RunError};
use crate::setup::{cache_params, SetupClock};
use crate::timing::{samples, Step};
use model::WorkloadResult;
use serde_json::json;

/// Lines inserted between two looks at the setup clock (1 MiB of buffer).
const PIECE_LINES: usize = 16384;

/// One cache line of the pointer-chasing buffer.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line {
    next: u32,
    _pad: [u32; 15],
}

/// Asks the kernel to back the vector's reserved memory with 4 KiB pages only; where
/// it cannot (no THP), that is what it does anyway.
#[cfg(target_os = "linux")]
fn no_huge_pages<T>(v: &Vec<T>) {
    let page = 4096usize;
    let start = v.as_ptr() as usize;
    let end = start + v.capacity() * std::mem::size_of::<T>();
    let (lo, hi) = (start.div_ceil(page) * page, end / page * page);
    if hi > lo {
        // SAFETY: advice on whole pages inside an allocation this vector owns; it
        // changes how the memory is backed, never its contents or validity.
        unsafe { libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_NOHUGEPAGE) };
    }
}

/// Elsewhere (Windows) ordinary allocations use 4 KiB pages unless large pages are
/// asked for explicitly, which the agent never does.
#[cfg(not(target_os = "linux"))]
fn no_huge_pages<T>(_v: &Vec<T>) {}

/// Builds the cycle over up to `lines` lines within the clock's budget (at least one
/// piece); returns the buffer, whose every line is in the one cycle.
fn build(lines: usize, clock: &SetupClock) -> Result<Vec<Line>, RunError> {
    let mut buf: Vec<Line> = reserve(lines, "the latency buffer")?;
    no_huge_pages(&buf);
    let line = |next: u32| Line {
        next,
        _pad: [0; 15],
    };
    buf.push(line(0));
    let mut rng = Rng::new(0x5EED);
    while buf.len() < lines {
        let end = ((buf.len() / PIECE_LINES + 1) * PIECE_LINES).min(lines);
        for i in buf.len()..end {
            let after = rng.below(i as u64) as usize;
            buf.push(line(buf[after].next));
            buf[after].next = i as u32;
        }
        if clock.spent() {
            break;
        }
    }
    Ok(buf)
}

/// mem.latency: nanoseconds per dependent load over the prepared buffer.
pub fn latency(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let mib = ctx.sizes.latency_mib;
    ctx.check_memory("mem.latency", mib)?;
    let lines = ((mib * MIB / 64) as usize).clamp(2, u32::MAX as usize);
    let clock = SetupClock::start(ctx.timing.setup);
    let buf = build(lines, &clock)?;
    let line_mib = |n: usize| n as f64 * 64.0 / MIB as f64;
    let mut params = obj(json!({
        "buffer_mib": mib,
        "stride_b": 64,
        "thp": "disabled (MADV_NOHUGEPAGE)",
        "pattern": "random single cycle over cache lines (dependent loads)",
    }));
    params.extend(clock.params(line_mib(buf.len()), line_mib(lines)));
    params.extend(cache_params(line_mib(buf.len()), ctx.limits.llc_mib));
    let mut p = 0u32;
    let m = samples(&ctx.timing, |n| {
        let mut q = p;
        for _ in 0..n {
            q = buf[q as usize].next;
        }
        p = std::hint::black_box(q);
        Step::units(n as f64)
    });
    let s = m.iter().map(|m| m.ns_per_unit()).collect();
    Ok(vec![ctx.result("mem.latency", "latency", &params, s)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Lines reached from line 0 before the cycle closes.
    fn cycle_len(buf: &[Line]) -> usize {
        let (mut q, mut n) = (buf[0].next as usize, 1);
        while q != 0 {
            q = buf[q].next as usize;
            n += 1;
            assert!(n <= buf.len(), "not a cycle through line 0");
        }
        n
    }

    #[test]
    fn the_buffer_is_one_cycle_through_every_prepared_line() {
        let whole = build(
            3 * PIECE_LINES + 5,
            &SetupClock::start(Duration::from_secs(60)),
        )
        .unwrap();
        assert_eq!(whole.len(), 3 * PIECE_LINES + 5);
        assert_eq!(cycle_len(&whole), whole.len());
        // The budget spent at once: one piece, still one cycle over all of it.
        let cut = build(3 * PIECE_LINES, &SetupClock::start(Duration::ZERO)).unwrap();
        assert_eq!(cut.len(), PIECE_LINES);
        assert_eq!(cycle_len(&cut), cut.len());
        // Not the identity order: consecutive lines rarely follow each other.
        let sequential = whole
            .iter()
            .enumerate()
            .filter(|(i, l)| l.next as usize == i + 1)
            .count();
        assert!(
            sequential < whole.len() / 100,
            "{sequential} sequential links"
        );
    }
}
