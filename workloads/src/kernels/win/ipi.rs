//! exit.ipi on Windows: two threads pinned to two different CPUs take turns through two
//! auto-reset events (`win/events.rs`) and the caller times the round trip.
//!
//! Between its turns each thread blocks in `WaitForSingleObject`, so its CPU has
//! nothing to run and goes idle (under a hypervisor: HLT, or Hyper-V's idle
//! enlightenment, an exit either way). `SetEvent` for a thread waiting on another CPU
//! makes NT send that CPU an interprocessor interrupt, which the hypervisor below
//! delivers and then enters the halted vCPU again — two of those per round trip, as in
//! the Linux kernel's futex version (`kernels/ipi.rs`), which this mirrors.
//!
//! Not applicable with fewer than two online CPUs, or a process affinity that allows
//! only one.

use super::events::{allowed_cpus, rally};
use crate::context::{obj, Context, RunError};
use model::WorkloadResult;
use serde_json::json;
use windows_sys::Win32::System::Threading::{GetActiveProcessorCount, ALL_PROCESSOR_GROUPS};

/// exit.ipi: nanoseconds per round trip of two cross-CPU wake-ups.
pub fn ipi(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    // SAFETY: no preconditions.
    let online = unsafe { GetActiveProcessorCount(ALL_PROCESSOR_GROUPS) };
    if online < 2 {
        return Err(RunError::NotApplicable(format!(
            "needs two online vCPUs; this level has {online}"
        )));
    }
    let (waker, target) = match allowed_cpus()[..] {
        [a, b, ..] => (a, b),
        _ => {
            return Err(RunError::NotApplicable(format!(
                "needs two vCPUs the agent may run on; its CPU affinity allows 1 of the {online} online"
            )))
        }
    };
    let r = rally(ctx, waker, target)?;
    if !r.pinned {
        return Err(RunError::Other(format!(
            "could not pin the two threads to CPUs {waker} and {target}"
        )));
    }
    let params = obj(json!({
        "per": "round trip: two cross-vCPU wake-ups",
        "mechanism": "two threads on two vCPUs, SetEvent + WaitForSingleObject on two auto-reset events",
    }));
    let s = r.samples.iter().map(|m| m.ns_per_unit()).collect();
    Ok(vec![ctx.result("exit.ipi", "latency", &params, s)])
}
