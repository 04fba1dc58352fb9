//! exit.ipi: two threads pinned to two different vCPUs wake each other through futexes,
//! and the waker times the round trip.
//!
//! Each thread waits in FUTEX_WAIT between its turns, so its vCPU has nothing to run
//! and goes idle — under a hypervisor that is HLT, an exit that parks the vCPU in the
//! hypervisor below. A FUTEX_WAKE for a thread on another CPU makes the waker's kernel
//! send that CPU a reschedule interprocessor interrupt: a write to the virtual APIC
//! (an exit, or a posted interrupt where the hardware and the hypervisor have them),
//! after which the hypervisor below must wake the halted vCPU and enter it again. One
//! round trip is two of those, one each way. Nested, both the IPI and the halt are
//! handled by the KVM of the level below, reflected through every level under it.
//!
//! This is what exit.ctxswitch deliberately avoids: it pins both of its threads to one
//! CPU, so each hop is a switch by one scheduler with no interrupt and no idle vCPU,
//! and it stays inside the guest kernel. Here the two threads never share a CPU.
//!
//! With fewer than two online vCPUs (or an affinity that allows only one), the workload
//! is not applicable. `params.cpuidle` records the guest's idle driver, which decides
//! whether an idle vCPU halts at once or polls first (haltpoll), and so what is timed.

use super::affinity::{affinity, cpus_in, online_cpus, pin, set_affinity};
use crate::context::{obj, Context, RunError};
use crate::timing::{samples, Step};
use model::WorkloadResult;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

/// How long one FUTEX_WAIT sleeps before the thread looks again (a wake-up is never
/// lost — the value is checked first — this only bounds how long a dead partner is
/// waited for).
const POLL: Duration = Duration::from_millis(100);
/// Waits of [`POLL`] after which the partner counts as gone (10 s).
const GIVE_UP: u32 = 100;

/// Sleeps while `word` holds `expected`, at most [`POLL`]; returns whether it timed out.
fn futex_wait(word: &AtomicU32, expected: u32) -> bool {
    let ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: POLL.as_nanos() as libc::c_long,
    };
    // SAFETY: the futex word is a live, aligned u32 for the whole call; the kernel only
    // reads it and the timeout.
    let r = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            &ts as *const libc::timespec,
        )
    };
    r != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ETIMEDOUT)
}

/// Wakes the one thread waiting on `word`, if any.
fn futex_wake(word: &AtomicU32) {
    // SAFETY: as in futex_wait; FUTEX_WAKE does not even read the word.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            1,
        )
    };
}

/// The two futex words and the stop flag the threads share.
#[derive(Default)]
struct Line {
    /// The round trip the waker asks for (its sequence number).
    ping: AtomicU32,
    /// The last round trip the target answered.
    pong: AtomicU32,
    stop: AtomicBool,
}

impl Line {
    /// The target's side: answer every new `ping` on `pong` until told to stop.
    fn serve(&self) {
        let mut seen = 0;
        loop {
            let now = self.ping.load(Ordering::Acquire);
            if now == seen {
                futex_wait(&self.ping, seen);
                continue;
            }
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            seen = now;
            self.pong.store(seen, Ordering::Release);
            futex_wake(&self.pong);
        }
    }

    /// The waker's side: round trip `seq` (one more than the last); false when the
    /// target did not answer within the give-up time.
    fn round_trip(&self, seq: u32) -> bool {
        self.ping.store(seq, Ordering::Release);
        futex_wake(&self.ping);
        let mut timeouts = 0;
        while self.pong.load(Ordering::Acquire) != seq {
            if futex_wait(&self.pong, seq.wrapping_sub(1)) {
                timeouts += 1;
                if timeouts >= GIVE_UP {
                    return false;
                }
            }
        }
        true
    }

    /// Ends the target's loop.
    fn hang_up(&self, seq: u32) {
        self.stop.store(true, Ordering::Release);
        self.ping.store(seq.wrapping_add(1), Ordering::Release);
        futex_wake(&self.ping);
    }
}

/// The two CPUs to use (waker, target), or why there are not two.
fn two_cpus() -> Result<(usize, usize, libc::cpu_set_t), RunError> {
    let online = online_cpus();
    if online < 2 {
        return Err(RunError::NotApplicable(format!(
            "needs two online vCPUs; this level has {online}"
        )));
    }
    let saved = affinity()
        .ok_or_else(|| RunError::io("sched_getaffinity", std::io::Error::last_os_error()))?;
    match cpus_in(&saved)[..] {
        [a, b, ..] => Ok((a, b, saved)),
        _ => Err(RunError::NotApplicable(format!(
            "needs two vCPUs the agent may run on; its CPU affinity allows 1 of the {online} online"
        ))),
    }
}

/// exit.ipi: nanoseconds per round trip of two cross-vCPU futex wake-ups.
pub fn ipi(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let (waker_cpu, target_cpu, saved) = two_cpus()?;
    let line = Line::default();
    let target_pinned = AtomicBool::new(false);
    let outcome = std::thread::scope(|s| {
        let target = std::thread::Builder::new()
            .name("nb-ipi-target".into())
            .spawn_scoped(s, || {
                target_pinned.store(pin(target_cpu), Ordering::Release);
                line.serve();
            })
            .map_err(|e| RunError::io("spawn the IPI target thread", e))?;
        let mut seq = 0u32;
        let mut next = || {
            seq = seq.wrapping_add(1);
            line.round_trip(seq)
        };
        // One round trip first: the target has pinned itself once it answers.
        let waker_pinned = pin(waker_cpu);
        let mut lost = waker_pinned && !next();
        let pinned = waker_pinned && !lost && target_pinned.load(Ordering::Acquire);
        let m = pinned.then(|| {
            samples(&ctx.timing, |n| {
                let mut done = 0u64;
                while done < n && !lost {
                    lost = !next();
                    done += u64::from(!lost);
                }
                Step::units(done as f64)
            })
        });
        line.hang_up(seq);
        let _ = target.join();
        match m {
            _ if lost => Err(RunError::Other(format!(
                "the thread on CPU {target_cpu} did not answer for 10 s"
            ))),
            None => Err(RunError::Other(format!(
                "could not pin the two threads to CPUs {waker_cpu} and {target_cpu}"
            ))),
            Some(m) => Ok(m),
        }
    });
    set_affinity(&saved);
    let m = outcome?;
    let params = obj(json!({
        "per": "round trip: two cross-vCPU wake-ups",
        "mechanism": "two threads on two vCPUs, FUTEX_WAIT/FUTEX_WAKE on two words",
        "cpuidle": cpuidle_driver(),
    }));
    let s = m.iter().map(|m| m.ns_per_unit()).collect();
    Ok(vec![ctx.result("exit.ipi", "latency", &params, s)])
}

/// The guest's cpuidle driver (`acpi_idle`, `haltpoll`, `none`…), `unknown` when the
/// kernel does not say.
fn cpuidle_driver() -> String {
    std::fs::read_to_string("/sys/devices/system/cpu/cpuidle/current_driver")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}
