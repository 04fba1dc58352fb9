//! `nestbench`: the controller. This file is the table of contents; the work lives in
//! the modules it names.

use clap::Parser;
use nestbench::{cli, commands, exit};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return exit::clap_error(e),
    };
    let outcome = match cli.command {
        cli::Command::Run(args) => commands::run::run(args),
        cli::Command::Report(args) => commands::report::report(args),
        cli::Command::Compare(args) => commands::compare::compare(args),
        cli::Command::Calibrate(args) => commands::calibrate::calibrate(args),
        cli::Command::Trend(args) => commands::trend::trend(args),
        cli::Command::History(args) => commands::history::history(args),
        cli::Command::Doctor(args) => commands::doctor::doctor(args),
        cli::Command::Hyperv(args) => commands::hyperv::hyperv(args),
        cli::Command::Image { action } => commands::image::image(action),
        cli::Command::Down { run_dir } => commands::down::down(&run_dir),
        cli::Command::Completions(args) => commands::completions::completions(args),
        cli::Command::Man => commands::man::man(),
    };
    exit::finish(outcome)
}
