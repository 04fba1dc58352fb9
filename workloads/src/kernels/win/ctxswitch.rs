//! exit.ctxswitch on Windows: two threads on one CPU take turns through two
//! auto-reset events (`win/events.rs`), so each hop is one switch by the NT
//! scheduler — the Windows counterpart of the Linux kernel's pipe ping-pong. The
//! latency reported is one one-way switch, half a round trip.

use super::events::rally;
use crate::context::{obj, Context, RunError};
use model::WorkloadResult;
use serde_json::json;
use windows_sys::Win32::System::Threading::GetCurrentProcessorNumber;

/// exit.ctxswitch: nanoseconds per one-way switch between two threads on one CPU.
pub fn ctxswitch(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    // SAFETY: no preconditions; the number is within the thread's processor group.
    let cpu = unsafe { GetCurrentProcessorNumber() } as usize;
    let r = rally(ctx, cpu, cpu)?;
    let params = obj(json!({
        "per": "one-way switch (round trip / 2)",
        "mechanism": "two threads, SetEvent + WaitForSingleObject on two auto-reset events",
        "pinned_one_cpu": r.pinned,
    }));
    let s = r.samples.iter().map(|m| m.ns_per_unit() / 2.0).collect();
    Ok(vec![ctx.result("exit.ctxswitch", "latency", &params, s)])
}
