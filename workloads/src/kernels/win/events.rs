//! Two threads taking turns through two auto-reset events: the mechanism of the Windows
//! exit.ctxswitch (both threads on one CPU) and exit.ipi (on two).
//!
//! The caller sets `ping` and waits on `pong`; the partner waits on `ping` and sets
//! `pong`. `SetEvent` and `WaitForSingleObject` are system calls, and a wait on an
//! unsignalled event blocks in the kernel, so every turn is a wake-up by the NT
//! scheduler — on one CPU a switch from one thread to the other, on two a wake-up of
//! an idle processor, which under a hypervisor is an interprocessor interrupt and a
//! halted vCPU entered again. This is the Windows counterpart of the Linux kernels'
//! pipes (exit.ctxswitch) and futexes (exit.ipi).
//!
//! Affinity is per thread (`SetThreadAffinityMask`, within the process's processor
//! group); the caller's own is restored afterwards, so later workloads run where the
//! agent was allowed to.

use super::sys::last_error;
use crate::context::{Context, RunError};
use crate::timing::{samples, Measure, Step};
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use windows_sys::Win32::Foundation::WAIT_OBJECT_0;
use windows_sys::Win32::System::Threading::{
    CreateEventW, GetCurrentProcess, GetCurrentThread, GetProcessAffinityMask, SetEvent,
    SetThreadAffinityMask, WaitForSingleObject,
};

/// How long the partner sleeps in one wait before it looks at the stop flag again.
const POLL: Duration = Duration::from_millis(100);
/// How long the caller waits for an answer before the partner counts as gone.
const GIVE_UP: Duration = Duration::from_secs(10);

/// An auto-reset event, closed on drop.
struct Event(OwnedHandle);

impl Event {
    fn new() -> Result<Event, RunError> {
        // SAFETY: an unnamed auto-reset event, initially unsignalled, default security.
        let h = unsafe { CreateEventW(std::ptr::null(), 0, 0, std::ptr::null()) };
        if h.is_null() {
            return Err(last_error("CreateEventW"));
        }
        // SAFETY: a fresh handle that nothing else owns.
        Ok(Event(unsafe { OwnedHandle::from_raw_handle(h) }))
    }

    fn set(&self) {
        // SAFETY: a valid event handle.
        unsafe { SetEvent(self.0.as_raw_handle()) };
    }

    /// Waits at most `limit`; whether the event was signalled (and so reset).
    fn wait(&self, limit: Duration) -> bool {
        // SAFETY: a valid event handle.
        let r = unsafe { WaitForSingleObject(self.0.as_raw_handle(), limit.as_millis() as u32) };
        r == WAIT_OBJECT_0
    }
}

/// The two events and the flag that ends the partner.
struct Rally {
    ping: Event,
    pong: Event,
    stop: AtomicBool,
}

impl Rally {
    /// The partner's side: answer every ping until told to stop.
    fn serve(&self) {
        loop {
            let pinged = self.ping.wait(POLL);
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            if pinged {
                self.pong.set();
            }
        }
    }

    /// One round trip; false when the partner did not answer within [`GIVE_UP`].
    fn round_trip(&self) -> bool {
        self.ping.set();
        self.pong.wait(GIVE_UP)
    }

    fn hang_up(&self) {
        self.stop.store(true, Ordering::Release);
        self.ping.set();
    }
}

/// Pins the calling thread to `cpu` of its processor group; the affinity it had, or
/// `None` when Windows refused.
fn pin(cpu: usize) -> Option<usize> {
    if cpu >= usize::BITS as usize {
        return None;
    }
    // SAFETY: changes only the calling thread's affinity (GetCurrentThread is a pseudo-handle).
    let old = unsafe { SetThreadAffinityMask(GetCurrentThread(), 1 << cpu) };
    (old != 0).then_some(old)
}

/// Gives the calling thread the affinity `mask` back.
fn restore(mask: usize) {
    // SAFETY: as in pin.
    unsafe { SetThreadAffinityMask(GetCurrentThread(), mask) };
}

/// The CPUs of its processor group the process may run on, ascending.
pub(super) fn allowed_cpus() -> Vec<usize> {
    let (mut process, mut system) = (0usize, 0usize);
    // SAFETY: fills two masks for the current process's pseudo-handle.
    if unsafe { GetProcessAffinityMask(GetCurrentProcess(), &mut process, &mut system) } == 0 {
        return Vec::new();
    }
    (0..usize::BITS as usize)
        .filter(|c| process & (1 << c) != 0)
        .collect()
}

/// What a rally measured.
pub(super) struct Rallied {
    /// Round trips per sample.
    pub samples: Vec<Measure>,
    /// Whether both threads ran on the CPUs asked for.
    pub pinned: bool,
}

/// Times round trips between the calling thread, pinned to `here`, and a partner
/// thread pinned to `there`. Pinning is attempted, and [`Rallied::pinned`] says
/// whether it held; a partner that stops answering is an error.
pub(super) fn rally(ctx: &Context, here: usize, there: usize) -> Result<Rallied, RunError> {
    let r = Rally {
        ping: Event::new()?,
        pong: Event::new()?,
        stop: AtomicBool::new(false),
    };
    let partner_pinned = AtomicBool::new(false);
    std::thread::scope(|s| {
        let partner = std::thread::Builder::new()
            .name("nb-partner".into())
            .spawn_scoped(s, || {
                partner_pinned.store(pin(there).is_some(), Ordering::Release);
                r.serve();
            })
            .map_err(|e| RunError::io("spawn the partner thread", e))?;
        let saved = pin(here);
        // One round trip first: once it is answered the partner has pinned itself.
        let mut lost = !r.round_trip();
        let pinned = saved.is_some() && partner_pinned.load(Ordering::Acquire);
        let m = (!lost).then(|| {
            samples(&ctx.timing, |n| {
                let mut done = 0u64;
                while done < n && !lost {
                    lost = !r.round_trip();
                    done += u64::from(!lost);
                }
                Step::units(done as f64)
            })
        });
        r.hang_up();
        let _ = partner.join();
        if let Some(mask) = saved {
            restore(mask);
        }
        match m {
            Some(samples) if !lost => Ok(Rallied { samples, pinned }),
            _ => Err(RunError::Other(format!(
                "the partner thread on CPU {there} did not answer for {} s",
                GIVE_UP.as_secs()
            ))),
        }
    })
}
