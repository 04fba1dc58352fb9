//! The Windows kernels: what `nestbench-agent.exe` runs where the Linux agent calls
//! Linux. Each module here has the name and the functions of the Linux module it
//! stands for (`kernels/mod.rs` re-exports them under those names), so the registry,
//! the catalog and the protocol are the same for both agents; only how a figure is
//! obtained differs, and every result's `params` says how.
//!
//! | workload | Windows mechanism |
//! |---|---|
//! | disk.* | `FILE_FLAG_NO_BUFFERING` on page-aligned (hence sector-aligned) buffers, `FlushFileBuffers` ([`disk`], [`scratch`]) |
//! | mem.pagefault | first touch of `VirtualAlloc`ed memory ([`pagefault`]) |
//! | exit.syscall | `NtQueryInformationProcess` ([`exit`]) |
//! | exit.timer | `QueryPerformanceCounter`, `Sleep(1)` under `timeBeginPeriod(1)` ([`exit`]) |
//! | exit.ctxswitch, exit.ipi | two threads, two auto-reset events ([`ctxswitch`], [`ipi`], [`events`]) |
//! | exit.pio, exit.hypercall | not applicable: ring 0 only ([`pio`], [`hypercall`]) |
//!
//! The pure computation (`cpu`, `mem.stream`, `mem.latency`) and CPUID are shared
//! with Linux as they are.

mod absent;
pub mod ctxswitch;
pub mod disk;
mod events;
pub mod exit;
pub mod ipi;
pub mod pagefault;
pub mod scratch;
mod sys;

pub use absent::{hypercall, pio};
