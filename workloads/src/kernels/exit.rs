//! Exit kernels: operations that leave the guest (or enter its kernel), whose cost is
//! what nesting multiplies.
//!
//! CPUID always traps to the hypervisor; at level n the exit is reflected through
//! every hypervisor below it, so exit.cpuid is the purest "cost of one VM exit". A
//! syscall stays inside the guest under hardware virtualization but is emulated under
//! TCG; context switches add scheduler work, timer reads may or may not trap depending
//! on the clocksource, and sleeps show how late a level's timer interrupts arrive.
//!
//! CPUID is the same everywhere; on Windows the system call and the timer are
//! `win/exit.rs`'s, under the same names.

use crate::context::{obj, Context, RunError};
#[cfg(unix)]
use crate::timing::samples_with;
use crate::timing::{samples, Step};
use model::WorkloadResult;
use serde_json::json;
#[cfg(unix)]
use std::cell::Cell;
#[cfg(unix)]
use std::time::{Duration, Instant};

#[cfg(windows)]
pub use super::win::exit::{syscall, timer};

/// exit.cpuid: nanoseconds per CPUID instruction (leaf 0).
#[cfg(target_arch = "x86_64")]
pub fn cpuid(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let m = samples(&ctx.timing, |n| {
        for _ in 0..n {
            // SAFETY: CPUID exists on every x86-64 CPU (the intrinsic is safe since
            // Rust 1.84, hence the allow for older toolchains).
            #[allow(unused_unsafe)]
            let r = unsafe { core::arch::x86_64::__cpuid(std::hint::black_box(0)) };
            std::hint::black_box(r);
        }
        Step::units(n as f64)
    });
    let params = obj(json!({ "op": "CPUID leaf 0" }));
    let s = m.iter().map(|m| m.ns_per_unit()).collect();
    Ok(vec![ctx.result("exit.cpuid", "latency", &params, s)])
}

/// exit.cpuid needs x86-64.
#[cfg(not(target_arch = "x86_64"))]
pub fn cpuid(_ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    Err(RunError::Other("exit.cpuid needs an x86-64 CPU".into()))
}

/// exit.syscall: nanoseconds per getppid(2), issued with syscall(2) so no libc cache
/// can answer it.
#[cfg(unix)]
pub fn syscall(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let m = samples(&ctx.timing, |n| {
        for _ in 0..n {
            // SAFETY: getppid has no arguments and cannot fail.
            std::hint::black_box(unsafe { libc::syscall(libc::SYS_getppid) });
        }
        Step::units(n as f64)
    });
    let params = obj(json!({ "op": "syscall(SYS_getppid)" }));
    let s = m.iter().map(|m| m.ns_per_unit()).collect();
    Ok(vec![ctx.result("exit.syscall", "latency", &params, s)])
}

/// exit.timer: nanoseconds per clock_gettime(CLOCK_MONOTONIC), and microseconds a
/// 1 ms sleep overshoots.
#[cfg(unix)]
pub fn timer(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let gettime = samples(&ctx.timing, |n| {
        for _ in 0..n {
            // SAFETY: ts is a valid timespec to fill.
            unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
            std::hint::black_box(&ts);
        }
        Step::units(n as f64)
    });
    const SLEEP: Duration = Duration::from_millis(1);
    let over = Cell::new(Duration::ZERO);
    let count = Cell::new(0u64);
    let mut overshoot = Vec::new();
    samples_with(
        &ctx.timing,
        |n| {
            let req = libc::timespec {
                tv_sec: 0,
                tv_nsec: SLEEP.as_nanos() as i64,
            };
            for _ in 0..n {
                let t = Instant::now();
                // SAFETY: a relative sleep on a valid timespec; an early return on a
                // signal only shortens the sleep, which is then measured as it was.
                unsafe {
                    libc::clock_nanosleep(libc::CLOCK_MONOTONIC, 0, &req, std::ptr::null_mut())
                };
                over.set(over.get() + t.elapsed().saturating_sub(SLEEP));
                count.set(count.get() + 1);
            }
            Step::units(n as f64)
        },
        |_| {
            overshoot.push(over.get().as_secs_f64() * 1e6 / count.get().max(1) as f64);
            over.set(Duration::ZERO);
            count.set(0);
        },
    );
    let ns: Vec<f64> = gettime.iter().map(|m| m.ns_per_unit()).collect();
    let params = obj(json!({
        "clock": "CLOCK_MONOTONIC",
        "sleep_requested_us": SLEEP.as_micros() as u64,
        "clocksource": clocksource(),
    }));
    Ok(vec![
        ctx.result("exit.timer", "clock_gettime", &params, ns),
        ctx.result("exit.timer", "sleep_overshoot", &params, overshoot),
    ])
}

/// The kernel's current clocksource (tsc, kvm-clock, hpet…): it decides whether
/// clock_gettime traps, so results are meaningless without it.
#[cfg(unix)]
fn clocksource() -> String {
    std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}
