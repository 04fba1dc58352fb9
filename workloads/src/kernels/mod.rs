//! The workload kernels, one file per category, or per kernel that needs room of its
//! own (its own threads, processes or privileges). Each public function is one workload:
//! it takes a [`crate::context::Context`] and returns all of its metrics, or an error
//! that the agent reports as an `error` record, or that the workload does not apply at
//! this level ([`crate::context::RunError::NotApplicable`]). The registry
//! ([`crate::registry`]) is the only place that lists them.
//!
//! The Windows agent (docs/windows.md) builds the same registry from the same names:
//! `cpu`, `mem` and CPUID are shared; every kernel that calls Linux is replaced there by
//! one of the same module and function name in `win/`, so the registry and the
//! agent stay one.

#[cfg(unix)]
mod affinity;
pub mod cpu;
#[cfg(unix)]
pub mod ctxswitch;
#[cfg(unix)]
pub mod disk;
pub mod exit;
#[cfg(unix)]
pub mod hypercall;
#[cfg(unix)]
pub mod ipi;
pub mod mem;
pub mod net;
#[cfg(unix)]
pub mod pagefault;
#[cfg(unix)]
pub mod pio;
#[cfg(unix)]
pub mod scratch;
#[cfg(windows)]
mod win;
#[cfg(windows)]
pub use win::{ctxswitch, disk, hypercall, ipi, pagefault, pio, scratch};
