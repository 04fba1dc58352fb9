//! The nestbench controller as a library: everything `nestbench` does, so that the
//! binary (`main.rs`) stays the table of contents, and fuzz targets and integration
//! tests can reach the parsers (inventory files, known_hosts) and the run loop.

pub mod agentbin;
pub mod backend;
pub mod cleanup;
pub mod cli;
pub mod commands;
pub mod config;
pub mod deploy;
pub mod doctor;
pub mod exit;
pub mod histopt;
pub mod hyperv;
pub mod image;
pub mod orchestrate;
pub mod plan;
pub mod powershell;
pub mod progress;
pub mod provenance;
pub mod remote;
pub mod rundir;
pub mod runsel;
pub mod sizing;
#[cfg(test)]
pub mod testreq;
pub mod virt;
