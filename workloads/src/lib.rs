//! The benchmark kernels nestbench runs at every level, and the time-budgeted loop
//! they run in ([`timing`]). Each kernel ([`kernels`]) is bound to its workload id in
//! [`registry`]; what a workload and its metrics *are* (units, directions, categories,
//! descriptions) is declared once in the `model` crate's catalog, which the kernels
//! build their results from ([`context::Context::result`]). Their untimed setup is
//! budgeted in time as the samples are ([`setup`]).
//!
//! Only the agent links this crate: the controller and `reports` depend on `model`
//! alone, so reading a run.json never pulls in the kernels and libc. This crate does
//! no I/O beyond what a workload itself measures.

pub mod context;
pub mod hist;
pub mod kernels;
pub mod net;
pub mod registry;
pub mod setup;
pub mod timing;

pub use context::{Context, RunError};
