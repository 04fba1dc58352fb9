//! The benchmark kernels nestbench runs at every level, and the types every other
//! crate agrees on: the agent's wire protocol ([`protocol`]), a workload's result
//! ([`result`]), the run's working-set sizes ([`sizes`]), suites ([`suite`]) and the
//! run.json document ([`rundoc`]). The kernels ([`kernels`]) are listed by id in
//! [`registry`] and measured with the time-budgeted loop of [`timing`].
//!
//! This crate does no I/O beyond what a workload itself measures, so the controller
//! (`harness`), the agent and `reports` can all depend on it.

pub mod context;
pub mod hist;
pub mod info;
pub mod kernels;
pub mod protocol;
pub mod registry;
pub mod result;
pub mod rundoc;
pub mod sizes;
pub mod suite;
pub mod timing;

pub use context::{Context, RunError};
pub use info::HostInfo;
pub use result::{WorkloadError, WorkloadResult};
pub use sizes::Sizes;
pub use suite::Suite;
