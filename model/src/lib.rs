//! nestbench's data model: what every other crate agrees on, and nothing else.
//!
//! - [`catalog`]: the one table that declares every workload and metric (id, unit,
//!   direction, category, noise threshold, the layer of the stack it exercises, a
//!   description, the OS it exists on). Kernels, reports, compare, docs and tests read it.
//! - [`metric`]: the one identity type of a metric ([`MetricId`]).
//! - [`protocol`]: the agent's wire format and its incremental parser.
//! - [`rundoc`]: run.json (schema version 2, reads version 1).
//! - [`fingerprint`]: which runs are samples of the same configuration on the same host.
//! - [`level`], [`accel`], [`suite`], [`sizes`], [`info`], [`result`]: the small types
//!   those are made of; [`setup`]: the `params` keys that say how a working set was
//!   prepared and whether it got past the cache.
//! - [`testing`]: edits that break valid input, for the parsers' property tests.
//!
//! It exists as its own crate so that the dependency direction is honest: `reports`
//! reads run.json without pulling in the benchmark kernels and libc, and the controller
//! validates workload ids without linking them. This crate does no I/O.

pub mod accel;
pub mod catalog;
pub mod fingerprint;
pub mod info;
pub mod level;
pub mod metric;
pub mod protocol;
pub mod result;
pub mod rundoc;
pub mod setup;
pub mod sizes;
pub mod suite;
pub mod testing;

pub use accel::{Accel, AccelChoice};
pub use info::{HostInfo, WindowsInfo};
pub use level::Level;
pub use metric::MetricId;
pub use result::{NotApplicable, WorkloadError, WorkloadResult};
pub use sizes::Sizes;
pub use suite::Suite;
