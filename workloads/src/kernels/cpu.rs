//! CPU-bound kernels: integer and floating-point work that stays in registers.
//!
//! Under hardware virtualization these run at native speed at every level (no exits),
//! so any cost they show is the hypervisor stealing time; under TCG every instruction
//! is translated, which is where the 1000–4000× of deep levels comes from. `cpu.mt`
//! runs the integer kernel on every vCPU to show whether the vCPUs of a level really
//! run in parallel.

use crate::context::{obj, Context, RunError};
use crate::timing::{parallel_samples, samples, Step};
use model::WorkloadResult;
use serde_json::json;
use std::hint::black_box;

/// Independent integer chains per loop iteration (instruction-level parallelism as in
/// ordinary code, rather than one latency-bound chain).
const INT_CHAINS: usize = 4;
/// Independent floating-point accumulators per loop iteration.
const FP_ACCS: usize = 16;
const INT_OP: &str = "one xorshift64 step + multiply-add + data-dependent branch on a 64-bit chain";

/// Runs `n` iterations of the integer kernel; returns the operations done.
fn int_kernel(state: &mut [u64; INT_CHAINS], n: u64) -> f64 {
    let mut s = *state;
    let mut acc = 0u64;
    for _ in 0..n {
        for x in s.iter_mut() {
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            acc = acc.wrapping_add(x.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            if *x & 0x10 != 0 {
                acc ^= *x >> 3;
            }
        }
    }
    s[0] ^= black_box(acc) & 1;
    *state = black_box(s);
    (n * INT_CHAINS as u64) as f64
}

fn int_state(seed: u64) -> [u64; INT_CHAINS] {
    std::array::from_fn(|i| {
        seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ ((i as u64 + 1) * 0x9E37_79B9)
    })
}

/// cpu.int: integer operations per second on one thread, in Mops/s.
pub fn cpu_int(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let mut st = int_state(1);
    let m = samples(&ctx.timing, |n| Step::units(int_kernel(&mut st, n)));
    let params = obj(json!({ "threads": 1, "op": INT_OP }));
    let s = m.iter().map(|m| m.per_second() / 1e6).collect();
    Ok(vec![ctx.result("cpu.int", "ops", &params, s)])
}

/// Runs `n` iterations of the FP kernel (`a = a*m + c` on each accumulator, which
/// converges to 1 so values never become denormal); returns the flops done.
fn fp_kernel(acc: &mut [f64; FP_ACCS], n: u64) -> f64 {
    let m = black_box(0.999_999_9_f64);
    let c = black_box(1e-7_f64);
    let mut a = *acc;
    for _ in 0..n {
        for x in a.iter_mut() {
            *x = *x * m + c;
        }
    }
    *acc = black_box(a);
    (n * FP_ACCS as u64 * 2) as f64
}

/// cpu.fp: double-precision multiply and add per second on one thread, in GFLOP/s.
pub fn cpu_fp(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let mut acc: [f64; FP_ACCS] = std::array::from_fn(|i| 0.5 + i as f64 / 64.0);
    let m = samples(&ctx.timing, |n| Step::units(fp_kernel(&mut acc, n)));
    let params = obj(json!({
        "threads": 1,
        "op": "f64 multiply and add, counted as 2 flops, no FMA",
        "accumulators": FP_ACCS,
    }));
    let s = m.iter().map(|m| m.per_second() / 1e9).collect();
    Ok(vec![ctx.result("cpu.fp", "flops", &params, s)])
}

/// cpu.mt: the cpu.int kernel on every vCPU at once (Mops/s), and how many times one
/// thread's rate that is (`scaling`). Each sample pair is one single-thread run
/// followed by one all-thread run, so both see the same conditions.
pub fn cpu_mt(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let threads = ctx.threads.max(1);
    let one = crate::timing::Timing {
        samples: 1,
        ..ctx.timing
    };
    let all_warm = crate::timing::Timing {
        samples: 0,
        ..ctx.timing
    };
    let mut states: Vec<[u64; INT_CHAINS]> =
        (0..threads as u64).map(|i| int_state(i + 7)).collect();
    // One untimed all-thread warm-up; then every sample measures both.
    parallel_samples(&all_warm, kernels(&mut states))
        .map_err(|e| RunError::io("spawn worker threads", e))?;
    let no_warm = crate::timing::Timing {
        warmup: one.warmup / 10,
        ..one
    };
    let (mut ops, mut scaling) = (Vec::new(), Vec::new());
    for _ in 0..ctx.timing.samples {
        let single = parallel_samples(&no_warm, kernels(&mut states[..1]))
            .map_err(|e| RunError::io("spawn worker thread", e))?[0]
            .per_second();
        let multi = parallel_samples(&no_warm, kernels(&mut states))
            .map_err(|e| RunError::io("spawn worker threads", e))?[0]
            .per_second();
        ops.push(multi / 1e6);
        scaling.push(multi / single.max(1e-9));
    }
    let params = obj(json!({
        "threads": threads,
        "op": INT_OP,
        "scaling": "all-thread rate / single-thread rate, measured back to back per sample",
    }));
    Ok(vec![
        ctx.result("cpu.mt", "ops", &params, ops),
        ctx.result("cpu.mt", "scaling", &params, scaling),
    ])
}

fn kernels(states: &mut [[u64; INT_CHAINS]]) -> Vec<impl FnMut(u64) -> Step + Send + '_> {
    states
        .iter_mut()
        .map(|st| move |n| Step::units(int_kernel(st, n)))
        .collect()
}
