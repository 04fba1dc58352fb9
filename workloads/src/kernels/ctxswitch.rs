//! exit.ctxswitch: two threads ping-pong one byte over a pair of pipes.
//!
//! Both threads are pinned to the CPU the agent runs on, so each hop is a real
//! context switch (block in read, wake the other thread) rather than a cross-CPU
//! wake-up; the latency reported is one one-way switch, i.e. half a round trip.
//! The agent's own CPU affinity is restored afterwards.

use super::affinity::{affinity, pin, set_affinity};
use crate::context::{obj, Context, RunError};
use crate::timing::{samples, Step};
use model::WorkloadResult;
use serde_json::json;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::FromRawFd;

fn pipe() -> Result<(File, File), RunError> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors, which the Files then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(RunError::io("pipe2", std::io::Error::last_os_error()));
    }
    // SAFETY: both descriptors are fresh and owned by nobody else.
    Ok(unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) })
}

/// exit.ctxswitch: nanoseconds per one-way switch between two threads on one CPU.
pub fn ctxswitch(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let (mut ping_r, mut ping_w) = pipe()?;
    let (mut pong_r, mut pong_w) = pipe()?;
    let saved = affinity();
    // SAFETY: sched_getcpu has no preconditions.
    let cpu = unsafe { libc::sched_getcpu() };
    let pinned = cpu >= 0 && saved.is_some() && pin(cpu as usize);
    let outcome = std::thread::scope(|s| {
        let echo = std::thread::Builder::new()
            .name("nb-pong".into())
            .spawn_scoped(s, move || {
                if pinned {
                    pin(cpu as usize);
                }
                let mut b = [0u8; 1];
                // Echo until the other side closes its end (read returns 0) or fails.
                while matches!(ping_r.read(&mut b), Ok(1)) {
                    if pong_w.write_all(&b).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| RunError::io("spawn the ping-pong thread", e))?;
        let mut failed = None;
        let m = samples(&ctx.timing, |n| {
            let mut b = [1u8; 1];
            let mut done = 0u64;
            for _ in 0..n {
                if failed.is_some() {
                    break;
                }
                if let Err(e) = ping_w.write_all(&b).and_then(|_| pong_r.read_exact(&mut b)) {
                    failed = Some(RunError::io("ping-pong over pipes", e));
                    break;
                }
                done += 1;
            }
            Step::units(2.0 * done as f64)
        });
        drop(ping_w); // ends the echo thread
        let _ = echo.join();
        failed.map_or(Ok(m), Err)
    });
    if let Some(set) = saved {
        set_affinity(&set);
    }
    let m = outcome?;
    let params = obj(json!({
        "per": "one-way switch (round trip / 2)",
        "mechanism": "two threads, 1-byte writes over two pipes",
        // Whether both threads shared one CPU; which CPU is chance, so it is not a
        // parameter (compare would call every pair of runs incomparable).
        "pinned_one_cpu": pinned,
    }));
    let s = m.iter().map(|m| m.ns_per_unit()).collect();
    Ok(vec![ctx.result("exit.ctxswitch", "latency", &params, s)])
}
