//! The workload kernels, one file per category, or per kernel that needs room of its
//! own (its own threads, processes or privileges). Each public function is one workload:
//! it takes a [`crate::context::Context`] and returns all of its metrics, or an error
//! that the agent reports as an `error` record, or that the workload does not apply at
//! this level ([`crate::context::RunError::NotApplicable`]). The registry
//! ([`crate::registry`]) is the only place that lists them.

mod affinity;
pub mod cpu;
pub mod ctxswitch;
pub mod disk;
pub mod exit;
pub mod hypercall;
pub mod ipi;
pub mod mem;
pub mod pagefault;
pub mod pio;
pub mod scratch;
