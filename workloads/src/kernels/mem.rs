//! Memory kernels: STREAM bandwidth on every vCPU ([`stream`]) and dependent-load
//! latency ([`latency`]).
//!
//! Nested paging makes a TLB miss walk two (or, emulated, more) sets of page tables, so
//! bandwidth and especially random-access latency over buffers far larger than the
//! caches are where memory virtualization shows. Two rules keep the figures what they
//! claim to be:
//!
//! - **Past the cache.** Each STREAM array and the latency buffer should be at least 4×
//!   the last-level cache (STREAM's rule; L0's cache, which the controller passes to
//!   every level because TCG guests report made-up ones). A 21 MiB array under a
//!   32 MiB L3 measured cache bandwidth, about twice a valid C triad. Sizes are the
//!   controller's; where they are smaller than the rule asks, `params` says
//!   `cache_resident: true` with the `llc_mib` judged against, and the report marks
//!   the figure as cache bandwidth.
//! - **Setup bounded in time.** Buffers are first-touched before timing in pieces, and
//!   the setup stops at the first piece past the setup budget ([`crate::setup`]). The
//!   kernel then measures over what it touched — never over untouched memory, whose
//!   reads would all hit the kernel's one shared zero page (cache-resident by
//!   construction) and whose writes would time page faults. A level too slow to touch
//!   everything records `prepared_mib` and `setup_truncated`, and its residency is
//!   judged on what it prepared.

mod latency;
mod stream;

pub use latency::latency;
pub use stream::stream;

use crate::context::RunError;

const MIB: u64 = 1 << 20;

/// An empty vector with room for `len` elements, none of them touched yet (so the
/// pages are not faulted in until a kernel's setup writes them).
pub(crate) fn reserve<T>(len: usize, what: &str) -> Result<Vec<T>, RunError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| RunError::Other(format!("cannot allocate {what}: pass smaller --sizes")))?;
    Ok(v)
}

/// A small, seedable PRNG (xorshift64*), so the workloads need no dependency.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator from a non-zero seed.
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    /// Next value.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish value below `n` (n > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }
}
