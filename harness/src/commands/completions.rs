//! `nestbench completions SHELL`: a completion script for bash, zsh or fish on stdout,
//! generated from the clap definitions ([`crate::cli`]) by clap_complete, so it offers
//! exactly the subcommands, flags and values the parser accepts.

use crate::cli::{CompletionsArgs, ShellArg};
use crate::exit::{CmdResult, Outcome};
use clap_complete::Shell;

/// The script for `shell`, as text.
pub fn script(shell: ShellArg) -> String {
    let shell = match shell {
        ShellArg::Bash => Shell::Bash,
        ShellArg::Zsh => Shell::Zsh,
        ShellArg::Fish => Shell::Fish,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut crate::cli::command(), "nestbench", &mut out);
    String::from_utf8(out).expect("clap_complete writes UTF-8")
}

/// Entry point of `nestbench completions`.
pub fn completions(args: CompletionsArgs) -> CmdResult {
    super::print_stdout(&script(args.shell))?;
    Ok(Outcome::Ok)
}
