//! exit.pio: one-byte writes to I/O port 0x80, each an I/O exit that the kernel part of
//! the hypervisor below cannot complete and passes on to its user-space VMM.
//!
//! Port 0x80 is the one port that is safe to write wherever the agent runs:
//! - *Bare metal*: it is the POST diagnostic port. Firmware writes boot-progress codes
//!   there and Linux itself writes it as an I/O delay (`native_io_delay` is an
//!   `outb %al, $0x80`); no device acts on the byte and nothing reads it back, so the
//!   only effect is a number on a POST card, if one is plugged in.
//! - *In a VM under KVM*: no in-kernel device claims 0x80, so every OUT is an I/O exit
//!   that KVM hands to the VMM in user space (QEMU's `ioport80` dummy device, or
//!   Firecracker's port bus, which drops it): an exit, a return from `KVM_RUN` into the
//!   VMM process, and a re-entry. Nested, an L2's OUT exits to L0, is reflected to L1's
//!   KVM and from there to L1's QEMU — each level below adds its own user-space trip.
//! - *Under TCG*: the translated OUT calls the same dummy device inside QEMU: no exit at
//!   all, a function call.
//!
//! Access: `ioperm(0x80, 1, 1)` lets this thread execute OUT on that one port; it needs
//! CAP_SYS_RAWIO, which the agent has as root in guests but may lack at L0. Without it
//! /dev/port performs the same OUT in the kernel for a one-byte `pwrite` at offset 0x80,
//! which adds a system call to every access: `params.method` says which was used, and
//! the two are not comparable. With neither, the workload is not applicable here.

use crate::context::{Context, RunError};
use model::WorkloadResult;

/// exit.pio: nanoseconds per one-byte OUT to port 0x80.
pub fn pio(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    #[cfg(target_arch = "x86_64")]
    return x86::pio(ctx);
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = ctx;
        Err(RunError::NotApplicable(
            "needs an x86-64 CPU (port I/O)".into(),
        ))
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use crate::context::{obj, Context, RunError};
    use crate::timing::{samples, Step};
    use model::WorkloadResult;
    use serde_json::json;
    use std::os::unix::fs::FileExt;

    /// The POST diagnostic port.
    const PORT: u16 = 0x80;

    /// How this process may write the port.
    enum Access {
        /// `out dx, al` from user space, allowed by ioperm.
        Ioperm,
        /// A `pwrite` on /dev/port, which performs the OUT in the kernel.
        DevPort(std::fs::File),
    }

    impl Access {
        /// ioperm when it is allowed, else /dev/port when it opens and takes a write;
        /// the reason the workload is not applicable otherwise.
        fn get() -> Result<Access, String> {
            if ioperm(true) {
                return Ok(Access::Ioperm);
            }
            let ioperm_error = std::io::Error::last_os_error();
            let dev = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/port")
                .and_then(|f| f.write_at(&[0], PORT.into()).map(|_| f));
            match dev {
                Ok(f) => Ok(Access::DevPort(f)),
                Err(e) => Err(format!(
                    "cannot write port 0x80 from user space: {}; {}",
                    explain("ioperm(0x80)", &ioperm_error),
                    explain("/dev/port", &e)
                )),
            }
        }

        fn method(&self) -> &'static str {
            match self {
                Access::Ioperm => "ioperm",
                Access::DevPort(_) => "/dev/port",
            }
        }

        /// `n` one-byte writes to the port.
        fn write(&self, n: u64) -> std::io::Result<()> {
            match self {
                Access::Ioperm => {
                    for _ in 0..n {
                        // SAFETY: ioperm granted this thread port 0x80, which no device
                        // acts on (module header); the instruction touches no memory.
                        unsafe {
                            core::arch::asm!(
                                "out dx, al",
                                in("dx") PORT,
                                in("al") 0u8,
                                options(nomem, nostack, preserves_flags)
                            )
                        };
                    }
                    Ok(())
                }
                Access::DevPort(f) => {
                    (0..n).try_for_each(|_| f.write_at(&[0], PORT.into()).map(|_| ()))
                }
            }
        }
    }

    /// What an error of `what` means for this workload, in words a user can act on.
    fn explain(what: &str, e: &std::io::Error) -> String {
        let why = match e.raw_os_error() {
            Some(libc::EPERM | libc::EACCES) => "needs CAP_SYS_RAWIO (root)".to_string(),
            Some(libc::ENOSYS) => "not in this kernel (CONFIG_X86_IOPL_IOPERM off)".to_string(),
            Some(libc::ENOENT) => "absent (CONFIG_DEVPORT off)".to_string(),
            _ => e.to_string(),
        };
        format!("{what}: {why}")
    }

    /// Grants (or drops) this thread's permission to use port 0x80; returns whether the
    /// call succeeded.
    fn ioperm(on: bool) -> bool {
        // SAFETY: ioperm only changes the calling thread's I/O permission bitmap.
        unsafe {
            libc::syscall(
                libc::SYS_ioperm,
                libc::c_ulong::from(PORT),
                1 as libc::c_ulong,
                libc::c_int::from(on),
            ) == 0
        }
    }

    pub(super) fn pio(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
        let access = Access::get().map_err(RunError::NotApplicable)?;
        let mut failed = None;
        let m = samples(&ctx.timing, |n| {
            if failed.is_some() {
                return Step::units(0.0);
            }
            match access.write(n) {
                Ok(()) => Step::units(n as f64),
                Err(e) => {
                    failed = Some(RunError::io("pwrite /dev/port at 0x80", e));
                    Step::units(0.0)
                }
            }
        });
        if matches!(access, Access::Ioperm) {
            ioperm(false);
        }
        if let Some(e) = failed {
            return Err(e);
        }
        let params = obj(json!({
            "op": "OUT of one byte to port 0x80",
            "method": access.method(),
        }));
        let s = m.iter().map(|m| m.ns_per_unit()).collect();
        Ok(vec![ctx.result("exit.pio", "latency", &params, s)])
    }
}
