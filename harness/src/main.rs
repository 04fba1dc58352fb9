//! `nestbench`: the controller. This file is the table of contents; the work lives in
//! the modules it names.

mod agentbin;
mod backend;
mod cleanup;
mod cli;
mod commands;
mod config;
mod deploy;
mod doctor;
mod exit;
mod image;
mod orchestrate;
mod plan;
mod progress;
mod provenance;
mod remote;
mod rundir;
mod sizing;
#[cfg(test)]
mod testreq;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return exit::clap_error(e),
    };
    let outcome = match cli.command {
        cli::Command::Run(args) => commands::run::run(args),
        cli::Command::Report { run_dir } => commands::report::report(&run_dir),
        cli::Command::Compare(args) => commands::compare::compare(args),
        cli::Command::Doctor(args) => commands::doctor::doctor(args),
        cli::Command::Image { action } => commands::image::image(action),
        cli::Command::Down { run_dir } => commands::down::down(&run_dir),
    };
    exit::finish(outcome)
}
