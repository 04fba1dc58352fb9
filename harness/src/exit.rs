//! Exit codes (the table in README.md, "Exit codes") and the one-line error every
//! failure ends with.

use std::process::ExitCode;

/// How a command ended.
#[derive(Debug)]
pub enum Outcome {
    /// Exit 0.
    Ok,
    /// Exit 3: compare found a regression.
    Regression,
    /// Exit 4: some levels failed or were skipped; the others' results are written.
    Partial,
    /// Exit 5: compare found no regression, but some metric is inconclusive and
    /// `--fail-on-inconclusive` was given.
    Inconclusive,
}

/// Exit code of a check that ran and found the machine not ready (`doctor`,
/// `hyperv prepare`), apart from 1, which says it could not check at all.
pub const NOT_READY: u8 = 6;

/// A failure with its exit code: 1 error, 2 usage, 6 not ready.
#[derive(Debug)]
pub struct Failure {
    /// 1, 2 or [`NOT_READY`].
    pub code: u8,
    /// One line that says what to do.
    pub message: String,
}

impl Failure {
    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
    /// Checks ran and failed (exit 6): the machine is not ready, and the message
    /// says the first reason and its fix.
    pub fn not_ready(message: impl Into<String>) -> Self {
        Failure {
            code: NOT_READY,
            message: message.into(),
        }
    }
    /// An error (exit 1).
    pub fn error(message: impl Into<String>) -> Self {
        Failure {
            code: 1,
            message: message.into(),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        // `{:#}` joins the context chain on one line.
        Failure::error(format!("{e:#}"))
    }
}

/// The result every command returns.
pub type CmdResult = Result<Outcome, Failure>;

/// Print the error line (if any) and turn the outcome into the process exit code.
pub fn finish(outcome: CmdResult) -> ExitCode {
    // A signal arrived: the signal thread is tearing down and will exit 128+signal;
    // whatever the interrupted work returned must not race it with another code.
    crate::cleanup::await_signal_exit();
    match outcome {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Regression) => ExitCode::from(3),
        Ok(Outcome::Partial) => ExitCode::from(4),
        Ok(Outcome::Inconclusive) => ExitCode::from(5),
        Err(f) => {
            let line = f.message.replace('\n', " ");
            let what = if f.code == NOT_READY {
                "not ready"
            } else {
                "error"
            };
            eprintln!("nestbench: {what}: {line}");
            ExitCode::from(f.code)
        }
    }
}

/// Usage errors as one line (clap's own text minus its multi-line usage block);
/// `--help` and `--version` print as usual.
pub fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return if e.use_stderr() {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    let text = e.to_string();
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ");
    eprintln!("nestbench: usage: {first} (see nestbench --help)");
    ExitCode::from(2)
}
