//! `nestbench doctor`: what nesting needs, checked, each failure with its exact fix.
//!
//! The KVM counterpart of Microsoft's Enable-NestedVm.ps1, but non-interactive: it
//! changes nothing and asks nothing, it prints ✔/⚠/✘ per check with the command that
//! fixes each ✘, and exits non-zero only when a run would fail. Host checks are pure
//! functions of a [`host::HostProbe`] (so every branch is testable with a simulated
//! host); the probe itself reads the real machine. `nestbench run` runs the same host
//! checks before provisioning and refuses early with the doctor's words.

pub mod guest;
pub mod host;

use std::fmt;

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Fine.
    Pass,
    /// A run works, but not the way one might expect (e.g. TCG instead of KVM).
    Warn,
    /// A run would fail.
    Fail,
}

/// One line of the doctor's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked, e.g. `qemu-system-x86_64`.
    pub name: String,
    /// Outcome.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// The exact fix (package, parameter, flag), for Warn/Fail.
    pub fix: Option<String>,
}

impl Check {
    /// A passing check.
    pub fn pass(name: &str, detail: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            status: Status::Pass,
            detail: detail.into(),
            fix: None,
        }
    }
    /// A warning with advice.
    pub fn warn(name: &str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            status: Status::Warn,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
    /// A failure with its fix.
    pub fn fail(name: &str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            status: Status::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = match self.status {
            Status::Pass => "✔",
            Status::Warn => "⚠",
            Status::Fail => "✘",
        };
        write!(f, "{mark} {}: {}", self.name, self.detail)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n    fix: {fix}")?;
        }
        Ok(())
    }
}

/// True when any check failed.
pub fn any_failed(checks: &[Check]) -> bool {
    checks.iter().any(|c| c.status == Status::Fail)
}

/// The first failure as one line for an error message: "what; fix: how".
pub fn first_failure_line(checks: &[Check]) -> Option<String> {
    checks
        .iter()
        .find(|c| c.status == Status::Fail)
        .map(|c| match &c.fix {
            Some(fix) => format!("{}: {}; fix: {fix}", c.name, c.detail),
            None => format!("{}: {}", c.name, c.detail),
        })
}
