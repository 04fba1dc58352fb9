//! Helpers of the agent's integration tests: the project's one rule for missing
//! requirements ([`testreq`]) and CPU/I-O throttling with cgroups ([`cgroup`]).

#![allow(dead_code)] // each test binary uses its own subset

pub mod cgroup;
/// The harness's rule for missing requirements (harness/src/testreq.rs), shared.
#[path = "../../../harness/src/testreq.rs"]
pub mod testreq;
