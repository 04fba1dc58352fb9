//! exit.hypercall: VMCALL (Intel) or VMMCALL (AMD) from user space, with a hypercall
//! number no hypervisor implements.
//!
//! In a guest, both instructions exit to the hypervisor below whatever the privilege
//! level. KVM checks the caller's privilege before it even looks at the number and
//! returns -KVM_EPERM in rax to any caller outside ring 0, so what is timed is the
//! bare exit and re-entry — no emulation, unlike CPUID's table lookup. Nested, the exit
//! goes to L0 and is reflected to the KVM of the level below, like every exit.
//!
//! Elsewhere the instruction faults: on bare metal and under TCG it raises #UD
//! (SIGILL); on a host whose CPU is in VMX root operation (KVM loaded) VMCALL at ring 3
//! raises #GP (SIGSEGV); some hypervisors refuse user-space hypercalls with #UD. So the
//! instruction is first tried once in a forked child — a fault kills only the child,
//! and Rust has no safe way to resume after a SIGILL in this process — and the workload
//! is not applicable when the child dies of it. The child's handlers turn the fault
//! into an exit status, so no core file is written and the kernel logs no trap.

use crate::context::{Context, RunError};
use model::WorkloadResult;

/// exit.hypercall: nanoseconds per refused hypercall.
pub fn hypercall(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    #[cfg(target_arch = "x86_64")]
    return x86::hypercall(ctx);
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = ctx;
        Err(RunError::NotApplicable(
            "needs an x86-64 CPU (VMCALL/VMMCALL)".into(),
        ))
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use crate::context::{obj, Context, RunError};
    use crate::timing::{samples, Step};
    use model::WorkloadResult;
    use serde_json::json;
    use std::time::{Duration, Instant};

    /// The hypercall number passed in rax: none of KVM's (1–12), Xen's or Hyper-V's
    /// (which reads rcx).
    const NR: u64 = 0xffff_ffff;

    /// How long the probe child may take before it counts as hung.
    const PROBE_LIMIT: Duration = Duration::from_secs(5);

    /// Exit status of a probe child killed by a fault: this plus the signal number.
    const FAULTED: i32 = 100;

    /// The hypercall instruction of this CPU's vendor.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Insn {
        /// Intel VT-x (and every vendor that is not AMD or Hygon).
        Vmcall,
        /// AMD-V.
        Vmmcall,
    }

    impl Insn {
        /// By the CPUID vendor string.
        fn of_this_cpu() -> Insn {
            // SAFETY: CPUID leaf 0 exists on every x86-64 CPU (the intrinsic is safe
            // since Rust 1.84, hence the allow for older toolchains).
            #[allow(unused_unsafe)]
            let r = unsafe { core::arch::x86_64::__cpuid(0) };
            let vendor: Vec<u8> = [r.ebx, r.edx, r.ecx]
                .iter()
                .flat_map(|w| w.to_le_bytes())
                .collect();
            match &vendor[..] {
                b"AuthenticAMD" | b"HygonGenuine" => Insn::Vmmcall,
                _ => Insn::Vmcall,
            }
        }

        fn name(self) -> &'static str {
            match self {
                Insn::Vmcall => "vmcall",
                Insn::Vmmcall => "vmmcall",
            }
        }

        /// One hypercall [`NR`]; returns what the hypervisor left in rax.
        ///
        /// # Safety
        /// Only where [`probe`] found that the instruction returns; elsewhere it faults.
        #[inline(always)]
        unsafe fn call(self) -> u64 {
            let mut rax = NR;
            // A hypervisor may write the argument registers; KVM writes only rax.
            match self {
                Insn::Vmcall => core::arch::asm!(
                    "vmcall",
                    inout("rax") rax,
                    out("rcx") _, out("rdx") _, out("rsi") _, out("rdi") _,
                    options(nostack)
                ),
                Insn::Vmmcall => core::arch::asm!(
                    "vmmcall",
                    inout("rax") rax,
                    out("rcx") _, out("rdx") _, out("rsi") _, out("rdi") _,
                    options(nostack)
                ),
            }
            rax
        }
    }

    /// The probe child's handler: a fault becomes an exit status. `_exit` is
    /// async-signal-safe.
    extern "C" fn faulted(sig: libc::c_int) {
        // SAFETY: ends the child at once, running nothing of the parent's state.
        unsafe { libc::_exit(FAULTED + sig) }
    }

    /// Runs the instruction once in a child process; `Ok(None)` when it returned,
    /// `Ok(Some(reason))` when it faulted (the workload does not apply).
    fn probe(insn: Insn) -> Result<Option<String>, RunError> {
        // SAFETY: the child runs only async-signal-safe code (signal, the instruction,
        // _exit) and never returns into the parent's Rust state.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(RunError::io(
                "fork the hypercall probe",
                std::io::Error::last_os_error(),
            ));
        }
        if pid == 0 {
            // SAFETY: see above; the handler only calls _exit.
            unsafe {
                for sig in [libc::SIGILL, libc::SIGSEGV, libc::SIGBUS] {
                    libc::signal(
                        sig,
                        faulted as extern "C" fn(libc::c_int) as libc::sighandler_t,
                    );
                }
                insn.call();
                libc::_exit(0);
            }
        }
        let status = wait(pid)?;
        let name = insn.name();
        let reason = match status {
            None => format!("{name} did not return within {} s in a probe process", PROBE_LIMIT.as_secs()),
            Some(0) => return Ok(None),
            Some(s) if s == FAULTED + libc::SIGILL => format!(
                "{name} raises #UD from user space here: no hypervisor below answers it (bare metal, TCG, or one that refuses user-space hypercalls)"
            ),
            Some(s) if s == FAULTED + libc::SIGSEGV => format!(
                "{name} raises #GP from user space here: this CPU is in VMX root operation (a hypervisor runs on this level) or refuses it outside ring 0"
            ),
            Some(s) if s == FAULTED + libc::SIGBUS => format!("{name} raises SIGBUS from user space here"),
            Some(s) => {
                return Err(RunError::Other(format!(
                    "the {name} probe process ended with status {s:#x}"
                )))
            }
        };
        Ok(Some(reason))
    }

    /// The child's exit status (a signal that killed it as 0x100 + signal), or `None`
    /// when it was still running after [`PROBE_LIMIT`] and was killed.
    fn wait(pid: libc::pid_t) -> Result<Option<i32>, RunError> {
        let started = Instant::now();
        let mut status = 0;
        loop {
            // SAFETY: waits for our own child, filling status.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if r < 0 {
                return Err(RunError::io(
                    "wait for the hypercall probe",
                    std::io::Error::last_os_error(),
                ));
            }
            if r == pid {
                return Ok(Some(if libc::WIFEXITED(status) {
                    libc::WEXITSTATUS(status)
                } else {
                    0x100 + libc::WTERMSIG(status)
                }));
            }
            if started.elapsed() > PROBE_LIMIT {
                // SAFETY: kills and reaps our own child.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, &mut status, 0);
                }
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    pub(super) fn hypercall(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
        let insn = Insn::of_this_cpu();
        if let Some(reason) = probe(insn)? {
            return Err(RunError::NotApplicable(reason));
        }
        // SAFETY: the probe showed that the instruction returns here.
        let returned = unsafe { insn.call() } as i64;
        let m = samples(&ctx.timing, |n| {
            for _ in 0..n {
                // SAFETY: as above.
                std::hint::black_box(unsafe { insn.call() });
            }
            Step::units(n as f64)
        });
        let params = obj(json!({
            "instruction": insn.name(),
            "rax": NR,
            // -1 is KVM's -KVM_EPERM: refused for coming from outside ring 0.
            "returned": returned,
        }));
        let s = m.iter().map(|m| m.ns_per_unit()).collect();
        Ok(vec![ctx.result("exit.hypercall", "latency", &params, s)])
    }
}
