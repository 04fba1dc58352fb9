//! One module per subcommand; each turns validated arguments into an [`crate::exit::CmdResult`].

pub mod calibrate;
pub mod compare;
pub mod doctor;
pub mod down;
pub mod history;
pub mod image;
pub mod report;
pub mod run;
pub mod trend;
