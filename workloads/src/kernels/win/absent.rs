//! The two exit probes a Windows user-mode process cannot issue, so the Windows agent
//! reports them as not applicable, with the reason, rather than a figure of something
//! else.
//!
//! - exit.pio: `OUT` to a port needs IOPL 3 or the port's bit in the task's I/O
//!   permission bitmap. Linux grants either to root (`ioperm`, `iopl`) and offers
//!   /dev/port; Windows grants neither to any user-mode process and has no /dev/port:
//!   only a kernel-mode driver may touch ports, and the agent installs none.
//! - exit.hypercall: the Linux agent tries `VMCALL`/`VMMCALL` once in a forked child
//!   first, because on bare metal, under TCG and under some hypervisors it raises #UD.
//!   Windows has no fork to probe it safely in, and Hyper-V — the hypervisor Windows
//!   levels are nested under — is one that answers a hypercall from outside ring 0 by
//!   injecting #UD (Hyper-V TLFS, "Hypercall Interface"): the figure would be the
//!   fault and Windows' exception dispatch, not a hypercall. So it is not measured.

/// exit.pio on Windows: never applicable.
pub mod pio {
    use crate::context::{Context, RunError};
    use model::WorkloadResult;

    /// Why; also in docs/windows.md.
    pub const REASON: &str = "Windows gives user-mode processes no port I/O (no IOPL, no I/O permission bitmap, no /dev/port): OUT to port 0x80 needs a kernel driver";

    /// Not applicable, with [`REASON`].
    pub fn pio(_ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
        Err(RunError::NotApplicable(REASON.into()))
    }
}

/// exit.hypercall on Windows: never applicable.
pub mod hypercall {
    use crate::context::{Context, RunError};
    use model::WorkloadResult;

    /// Why; also in docs/windows.md.
    pub const REASON: &str = "the Windows agent issues no user-mode hypercall: Hyper-V answers VMCALL/VMMCALL outside ring 0 with #UD, and Windows has no fork to probe that safely in a child as the Linux agent does";

    /// Not applicable, with [`REASON`].
    pub fn hypercall(_ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
        Err(RunError::NotApplicable(REASON.into()))
    }
}
