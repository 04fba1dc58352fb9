//! mem.stream: STREAM copy, scale, add and triad on every vCPU, over arrays each thread
//! first-touches itself (as STREAM's OpenMP initialisation does), in pieces within the
//! setup budget; see the parent module for the cache and setup rules.

use super::{reserve, MIB};
use crate::context::{obj, Context, RunError};
use crate::setup::{cache_params, SetupClock};
use crate::timing::{parallel_samples, Step};
use model::WorkloadResult;
use serde_json::json;

/// Elements of each array one STREAM batch step touches per thread (64 KiB per array),
/// so a batch stays short even where memory is 1000× slower. Also the piece a thread
/// first-touches between two looks at the setup clock.
const STREAM_BLOCK: usize = 8192;
const SCALAR: f64 = 0.5;

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

    /// The kernel over one block, in the widest vector stores the CPU has: a
    /// full-cache-line store (AVX-512) lets recent Intel cores skip reading the line
    /// first, as the reference C triad built with `-march=native` does; the agent is
    /// one static binary for every x86-64, so it asks at run time.
    fn run(self, a: &mut [f64], b: &mut [f64], c: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F, checked just above.
            return unsafe { self.run_avx512(a, b, c) };
        }
        self.run_plain(a, b, c)
    }

    /// [`StreamOp::run`] compiled for AVX-512F.
    ///
    /// # Safety
    /// Only on a CPU with AVX-512F.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn run_avx512(self, a: &mut [f64], b: &mut [f64], c: &mut [f64]) {
        self.run_plain(a, b, c)
    }

    #[inline(always)]
    fn run_plain(self, a: &mut [f64], b: &mut [f64], c: &mut [f64]) {
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

/// One thread's own three arrays, as far as its setup got.
struct Share {
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
}

impl Share {
    /// Reserves `len` elements per array and first-touches them piece by piece (a = 1,
    /// b = 2, c = 0, as STREAM), stopping after the piece that ends past the budget.
    fn prepare(len: usize, clock: &SetupClock) -> Result<Share, RunError> {
        let what = "the STREAM arrays";
        let (mut a, mut b, mut c) = (
            reserve(len, what)?,
            reserve(len, what)?,
            reserve(len, what)?,
        );
        while a.len() < len {
            let end = (a.len() + STREAM_BLOCK).min(len);
            a.resize(end, 1.0);
            b.resize(end, 2.0);
            c.resize(end, 0.0);
            if clock.spent() {
                break;
            }
        }
        Ok(Share { a, b, c })
    }

    fn truncate(&mut self, len: usize) {
        self.a.truncate(len);
        self.b.truncate(len);
        self.c.truncate(len);
    }
}

/// Every thread's share, prepared in parallel. When the budget cut any of them short,
/// all are cut to the shortest, so every thread streams over as much as the others.
fn prepare_shares(
    elems: usize,
    threads: usize,
    clock: &SetupClock,
) -> Result<Vec<Share>, RunError> {
    let per = elems.div_ceil(threads);
    let lens: Vec<usize> = (0..threads)
        .map(|t| per.min(elems.saturating_sub(t * per)))
        .filter(|l| *l > 0)
        .collect();
    let mut shares = std::thread::scope(|s| {
        let handles: Vec<_> = lens
            .iter()
            .enumerate()
            .map(|(i, &len)| {
                std::thread::Builder::new()
                    .name(format!("nb-stream-init-{i}"))
                    .spawn_scoped(s, move || Share::prepare(len, clock))
                    .map_err(|e| RunError::io("spawn STREAM threads", e))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h?.join().unwrap_or_else(|_| {
                    Err(RunError::Other("a STREAM setup thread crashed".into()))
                })
            })
            .collect::<Result<Vec<Share>, RunError>>()
    })?;
    if shares.iter().zip(&lens).any(|(s, l)| s.a.len() < *l) {
        let shortest = shares.iter().map(|s| s.a.len()).min().unwrap_or(0);
        shares.iter_mut().for_each(|s| s.truncate(shortest));
    }
    Ok(shares)
}

/// One thread's arrays and where it is in them.
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
    let clock = SetupClock::start(ctx.timing.setup);
    let mut shares = prepare_shares(elems, threads, &clock)?;
    let prepared: usize = shares.iter().map(|s| s.a.len()).sum();
    let array_mib = |n: usize| n as f64 * 8.0 / MIB as f64;
    let mut params = obj(json!({
        "threads": shares.len(),
        "array_mib": (array_mib(prepared) * 100.0).round() / 100.0,
        "total_mib": total,
        "bytes_counted": "STREAM convention: copy/scale 16 B, add/triad 24 B per element",
    }));
    params.extend(clock.params(3.0 * array_mib(prepared), 3.0 * array_mib(elems)));
    params.extend(cache_params(array_mib(prepared), ctx.limits.llc_mib));
    let mut out = Vec::new();
    for op in StreamOp::ALL {
        let kernels: Vec<_> = shares
            .iter_mut()
            .map(|s| {
                let mut ch = Chunk {
                    a: &mut s.a,
                    b: &mut s.b,
                    c: &mut s.c,
                    pos: 0,
                };
                move |n| Step::units(ch.step(op, n))
            })
            .collect();
        let m = parallel_samples(&ctx.timing, kernels)
            .map_err(|e| RunError::io("spawn STREAM threads", e))?;
        let s = m.iter().map(|m| m.per_second() / 1e9).collect();
        out.push(ctx.result("mem.stream", op.name(), &params, s));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::StreamOp;

    /// The kernel gives the same arrays on every path it may take, odd lengths
    /// included (the vector loop's tail).
    #[test]
    fn every_op_computes_what_stream_defines() {
        let n = 1037;
        let start = |k: f64| (0..n).map(|i| i as f64 * k + 1.0).collect::<Vec<_>>();
        for op in StreamOp::ALL {
            let (mut a, mut b, mut c) = (start(1.0), start(2.0), start(3.0));
            op.run(&mut a, &mut b, &mut c);
            let (a0, b0, c0) = (start(1.0), start(2.0), start(3.0));
            for i in 0..n {
                let (want_a, want_b, want_c) = match op {
                    StreamOp::Copy => (a0[i], b0[i], a0[i]),
                    StreamOp::Scale => (a0[i], super::SCALAR * c0[i], c0[i]),
                    StreamOp::Add => (a0[i], b0[i], a0[i] + b0[i]),
                    StreamOp::Triad => (b0[i] + super::SCALAR * c0[i], b0[i], c0[i]),
                };
                assert_eq!(
                    (a[i], b[i], c[i]),
                    (want_a, want_b, want_c),
                    "{op:?} at {i}"
                );
            }
            let (mut a2, mut b2, mut c2) = (start(1.0), start(2.0), start(3.0));
            op.run_plain(&mut a2, &mut b2, &mut c2);
            assert_eq!((a2, b2, c2), (a, b, c), "{op:?}: the plain path differs");
        }
    }
}
