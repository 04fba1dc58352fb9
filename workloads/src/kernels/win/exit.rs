//! exit.syscall and exit.timer on Windows (exit.cpuid is the shared one).
//!
//! **exit.syscall** times `NtQueryInformationProcess(ProcessBasicInformation)` on the
//! agent's own process: ntdll's export is a bare system-call stub (`mov r10, rcx;
//! mov eax, <number>; syscall`) and the kernel fills the answer in every time — it is
//! Windows' getppid, the answer carries the parent's id. Calls that look as cheap do
//! not enter the kernel at all: GetCurrentProcessId reads the TEB, and
//! GetCurrentProcessorNumber(Ex) is answered in user mode (RDPID/RDTSCP or a
//! segment limit), so neither would measure a system call.
//!
//! **exit.timer** times `QueryPerformanceCounter` (the `clock_gettime` metric: the
//! level's monotonic clock read). Where Windows trusts the TSC, QPC reads it in user
//! mode (Hyper-V adds its reference-TSC page); with the HPET or the ACPI PM timer it
//! reads a device, which under a hypervisor is an exit. `params.qpc_frequency_hz`
//! hints which: 10 MHz is the TSC as Windows 10 and later present it, 14.318 MHz the
//! HPET, 3.579545 MHz the ACPI PM timer. `sleep_overshoot` times `Sleep(1)`: by
//! default Windows' timer fires every 15.625 ms, so a 1 ms sleep would measure the
//! tick, not the level; the kernel asks for 1 ms with `timeBeginPeriod(1)` for the
//! sleeps (and gives it back), and records the resolution in effect while sleeping
//! (`NtQueryTimerResolution`, 100 ns units, here in µs).

use super::sys::last_error;
use crate::context::{obj, Context, RunError};
use crate::timing::{samples, samples_with, Step};
use model::WorkloadResult;
use serde_json::json;
use std::cell::Cell;
use std::time::{Duration, Instant};
use windows_sys::Wdk::System::SystemInformation::NtQueryTimerResolution;
use windows_sys::Wdk::System::Threading::{NtQueryInformationProcess, ProcessBasicInformation};
use windows_sys::Win32::Media::{timeBeginPeriod, timeEndPeriod, TIMERR_NOERROR};
use windows_sys::Win32::System::Performance::{QueryPerformanceCounter, QueryPerformanceFrequency};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, Sleep, PROCESS_BASIC_INFORMATION};

/// One NtQueryInformationProcess(ProcessBasicInformation) on this process; the NTSTATUS.
fn query_basic(pbi: &mut PROCESS_BASIC_INFORMATION) -> i32 {
    let mut len = 0u32;
    // SAFETY: the pseudo-handle of this process and a buffer of the class's size.
    unsafe {
        NtQueryInformationProcess(
            GetCurrentProcess(),
            ProcessBasicInformation,
            (pbi as *mut PROCESS_BASIC_INFORMATION).cast(),
            std::mem::size_of::<PROCESS_BASIC_INFORMATION>() as u32,
            &mut len,
        )
    }
}

/// exit.syscall: nanoseconds per NtQueryInformationProcess system call.
pub fn syscall(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    // SAFETY: a plain C struct, valid when zeroed.
    let mut pbi: PROCESS_BASIC_INFORMATION = unsafe { std::mem::zeroed() };
    let status = query_basic(&mut pbi);
    if status < 0 {
        return Err(RunError::Other(format!(
            "NtQueryInformationProcess(ProcessBasicInformation) failed: NTSTATUS {status:#010x}"
        )));
    }
    let m = samples(&ctx.timing, |n| {
        for _ in 0..n {
            std::hint::black_box(query_basic(&mut pbi));
        }
        Step::units(n as f64)
    });
    let params = obj(json!({
        "op": "NtQueryInformationProcess(ProcessBasicInformation) on the agent's own process",
    }));
    let s = m.iter().map(|m| m.ns_per_unit()).collect();
    Ok(vec![ctx.result("exit.syscall", "latency", &params, s)])
}

/// `timeBeginPeriod(1)` while alive; `timeEndPeriod(1)` on drop when it was granted.
struct Period {
    granted: bool,
}

impl Period {
    const MS: u32 = 1;

    fn raise() -> Period {
        // SAFETY: no preconditions; undone in drop.
        Period {
            granted: unsafe { timeBeginPeriod(Self::MS) } == TIMERR_NOERROR,
        }
    }
}

impl Drop for Period {
    fn drop(&mut self) {
        if self.granted {
            // SAFETY: pairs the timeBeginPeriod that was granted.
            unsafe { timeEndPeriod(Self::MS) };
        }
    }
}

/// (finest, coarsest, current) timer resolution in µs, when ntdll answers.
fn timer_resolution() -> Option<(f64, f64, f64)> {
    let (mut coarsest, mut finest, mut current) = (0u32, 0u32, 0u32);
    // SAFETY: three u32s to fill (100 ns units).
    let st = unsafe { NtQueryTimerResolution(&mut coarsest, &mut finest, &mut current) };
    let us = |t: u32| f64::from(t) / 10.0;
    (st >= 0).then(|| (us(finest), us(coarsest), us(current)))
}

/// exit.timer: nanoseconds per QueryPerformanceCounter, and microseconds a 1 ms
/// Sleep overshoots at 1 ms timer resolution.
pub fn timer(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let mut freq = 0i64;
    // SAFETY: fills one i64; cannot fail on Windows XP and later.
    if unsafe { QueryPerformanceFrequency(&mut freq) } == 0 {
        return Err(last_error("QueryPerformanceFrequency"));
    }
    let mut t = 0i64;
    let qpc = samples(&ctx.timing, |n| {
        for _ in 0..n {
            // SAFETY: fills one i64.
            unsafe { QueryPerformanceCounter(&mut t) };
            std::hint::black_box(&t);
        }
        Step::units(n as f64)
    });
    const SLEEP: Duration = Duration::from_millis(1);
    let period = Period::raise();
    let resolution = timer_resolution();
    let over = Cell::new(Duration::ZERO);
    let count = Cell::new(0u64);
    let mut overshoot = Vec::new();
    samples_with(
        &ctx.timing,
        |n| {
            for _ in 0..n {
                let t = Instant::now();
                // SAFETY: no preconditions.
                unsafe { Sleep(SLEEP.as_millis() as u32) };
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
    let granted = period.granted;
    drop(period);
    let ns: Vec<f64> = qpc.iter().map(|m| m.ns_per_unit()).collect();
    let mut params = obj(json!({
        "clock": "QueryPerformanceCounter",
        "qpc_frequency_hz": freq,
        "sleep": "Sleep(1)",
        "sleep_requested_us": SLEEP.as_micros() as u64,
        "timer_period_ms": granted.then_some(Period::MS),
    }));
    if let Some((finest, coarsest, current)) = resolution {
        params.insert("timer_resolution_us".into(), json!(current));
        params.insert(
            "timer_resolution_range_us".into(),
            json!([finest, coarsest]),
        );
    }
    Ok(vec![
        ctx.result("exit.timer", "clock_gettime", &params, ns),
        ctx.result("exit.timer", "sleep_overshoot", &params, overshoot),
    ])
}
