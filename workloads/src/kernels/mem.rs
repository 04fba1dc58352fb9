//! Memory kernels: STREAM bandwidth on every vCPU and dependent-load latency.
//!
//! Nested paging makes a TLB miss walk two (or, emulated, more) sets of page tables, so
//! bandwidth and especially random-access latency over buffers far larger than the
//! caches are where memory virtualization shows. Buffers are allocated and first
//! touched before timing; their size comes from the run's `--sizes` and is recorded.

use crate::context::{obj, Context, RunError};
use crate::timing::{parallel_samples, samples, Step};
use model::WorkloadResult;
use serde_json::json;

const MIB: u64 = 1 << 20;
/// Elements of each array one STREAM batch step touches per thread (64 KiB per array),
/// so a batch stays short even where memory is 1000× slower.
const STREAM_BLOCK: usize = 8192;
const SCALAR: f64 = 0.5;

/// Allocates `len` elements, returning an error instead of aborting when it cannot.
pub(crate) fn try_vec<T: Clone>(len: usize, fill: T, what: &str) -> Result<Vec<T>, RunError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| RunError::Other(format!("cannot allocate {what}: pass smaller --sizes")))?;
    v.resize(len, fill);
    Ok(v)
}

#[derive(Clone, Copy, Debug)]
enum StreamOp {
    Copy,
    Scale,
    Add,
    Triad,
}

impl StreamOp {
    const ALL: [StreamOp; 4] = [
        StreamOp::Copy,
        StreamOp::Scale,
        StreamOp::Add,
        StreamOp::Triad,
    ];

    fn name(self) -> &'static str {
        match self {
            StreamOp::Copy => "copy",
            StreamOp::Scale => "scale",
            StreamOp::Add => "add",
            StreamOp::Triad => "triad",
        }
    }

    /// Bytes moved per element, counted as STREAM does (reads + writes).
    fn bytes_per_elem(self) -> f64 {
        match self {
            StreamOp::Copy | StreamOp::Scale => 16.0,
            StreamOp::Add | StreamOp::Triad => 24.0,
        }
    }

    fn run(self, a: &mut [f64], b: &mut [f64], c: &mut [f64]) {
        match self {
            StreamOp::Copy => c.iter_mut().zip(a.iter()).for_each(|(c, a)| *c = *a),
            StreamOp::Scale => b
                .iter_mut()
                .zip(c.iter())
                .for_each(|(b, c)| *b = SCALAR * *c),
            StreamOp::Add => c
                .iter_mut()
                .zip(a.iter().zip(b.iter()))
                .for_each(|(c, (a, b))| *c = *a + *b),
            StreamOp::Triad => a
                .iter_mut()
                .zip(b.iter().zip(c.iter()))
                .for_each(|(a, (b, c))| *a = *b + SCALAR * *c),
        }
    }
}

/// One thread's share of the three arrays and where it is in them.
struct Chunk<'a> {
    a: &'a mut [f64],
    b: &'a mut [f64],
    c: &'a mut [f64],
    pos: usize,
}

impl Chunk<'_> {
    /// Runs `op` over the next `blocks` blocks (wrapping); returns bytes moved.
    fn step(&mut self, op: StreamOp, blocks: u64) -> f64 {
        let len = self.a.len();
        let mut elems = 0usize;
        for _ in 0..blocks {
            let end = (self.pos + STREAM_BLOCK).min(len);
            let r = self.pos..end;
            op.run(
                &mut self.a[r.clone()],
                &mut self.b[r.clone()],
                &mut self.c[r],
            );
            elems += end - self.pos;
            self.pos = if end == len { 0 } else { end };
        }
        elems as f64 * op.bytes_per_elem()
    }
}

/// mem.stream: STREAM copy, scale, add and triad on every vCPU, in GB/s (10^9 B/s).
pub fn stream(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let total = ctx.sizes.stream_mib;
    ctx.check_memory("mem.stream", total)?;
    let elems = ((total * MIB / 3 / 8) as usize).max(STREAM_BLOCK);
    let threads = ctx.threads.clamp(1, elems / STREAM_BLOCK);
    let mut a = try_vec(elems, 1.0f64, "the STREAM arrays")?;
    let mut b = try_vec(elems, 2.0f64, "the STREAM arrays")?;
    let mut c = try_vec(elems, 0.0f64, "the STREAM arrays")?;
    let per = elems.div_ceil(threads);
    let mut out = Vec::new();
    let params = obj(json!({
        "threads": threads,
        "array_mib": (elems as f64 * 8.0 / MIB as f64 * 100.0).round() / 100.0,
        "total_mib": total,
        "bytes_counted": "STREAM convention: copy/scale 16 B, add/triad 24 B per element",
    }));
    for op in StreamOp::ALL {
        let chunks: Vec<Chunk> = a
            .chunks_mut(per)
            .zip(b.chunks_mut(per))
            .zip(c.chunks_mut(per))
            .map(|((a, b), c)| Chunk { a, b, c, pos: 0 })
            .collect();
        let kernels: Vec<_> = chunks
            .into_iter()
            .map(|mut ch| move |n| Step::units(ch.step(op, n)))
            .collect();
        let m = parallel_samples(&ctx.timing, kernels)
            .map_err(|e| RunError::io("spawn STREAM threads", e))?;
        let s = m.iter().map(|m| m.per_second() / 1e9).collect();
        out.push(ctx.result("mem.stream", op.name(), &params, s));
    }
    Ok(out)
}

/// One cache line of the pointer-chasing buffer.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line {
    next: u32,
    _pad: [u32; 15],
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

/// mem.latency: nanoseconds per dependent load, chasing a random single cycle through
/// one pointer per cache line of a buffer far larger than the caches.
pub fn latency(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let mib = ctx.sizes.latency_mib;
    ctx.check_memory("mem.latency", mib + mib / 16)?;
    let lines = ((mib * MIB / 64) as usize).clamp(2, u32::MAX as usize);
    let mut order = try_vec(lines, 0u32, "the latency buffer")?;
    order
        .iter_mut()
        .enumerate()
        .for_each(|(i, o)| *o = i as u32);
    let mut rng = Rng::new(0x5EED);
    for i in (1..lines).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let mut buf = try_vec(
        lines,
        Line {
            next: 0,
            _pad: [0; 15],
        },
        "the latency buffer",
    )?;
    for w in 0..lines {
        buf[order[w] as usize].next = order[(w + 1) % lines];
    }
    drop(order);
    let mut p = 0u32;
    let m = samples(&ctx.timing, |n| {
        let mut q = p;
        for _ in 0..n {
            q = buf[q as usize].next;
        }
        p = std::hint::black_box(q);
        Step::units(n as f64)
    });
    let params = obj(json!({
        "buffer_mib": mib,
        "stride_b": 64,
        "pattern": "random single cycle over cache lines (dependent loads)",
    }));
    let s = m.iter().map(|m| m.ns_per_unit()).collect();
    Ok(vec![ctx.result("mem.latency", "latency", &params, s)])
}
