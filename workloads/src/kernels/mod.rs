//! The workload kernels, one file per category. Each public function is one workload:
//! it takes a [`crate::context::Context`] and returns all of its metrics, or an error
//! that the agent reports as an `error` record. The registry
//! ([`crate::registry`]) is the only place that lists them.

pub mod cpu;
pub mod ctxswitch;
pub mod disk;
pub mod exit;
pub mod mem;
pub mod pagefault;
pub mod scratch;
