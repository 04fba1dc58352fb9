//! One module per subcommand; each turns validated arguments into an [`crate::exit::CmdResult`].

pub mod calibrate;
pub mod compare;
pub mod completions;
pub mod doctor;
pub mod down;
pub mod dryrun;
pub mod history;
pub mod hyperv;
pub mod image;
pub mod man;
pub mod report;
pub mod run;
pub mod trend;

use crate::exit::Failure;
use std::io::Write;

/// Write a command's product to stdout. A closed pipe (`nestbench man | head`) is not
/// an error worth a message: the reader has what it wanted.
pub fn print_stdout(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::error(format!("cannot write to stdout: {e}"))),
    }
}
