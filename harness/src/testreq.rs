//! What a test needs of the machine (root, a tool), and the one rule for when it is
//! missing: under CI (`CI` set to anything but empty, `false` or `0`; `.ci/run` exports
//! `CI=true`) the test fails naming what is missing and how to get it, so a CI machine
//! that lacks it cannot pass silently; elsewhere the test skips its real parts, saying
//! why on stderr.
//!
//! Used by the unit tests here and, through `#[path]`, by the integration tests in
//! `harness/tests/common`, so both follow the same rule.

use std::path::Path;

/// Whether the tests run under CI: `CI` is set and is not empty, `false` or `0`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| means_ci(&v))
}

/// Whether `CI=value` means CI.
fn means_ci(value: &str) -> bool {
    !matches!(value.trim(), "" | "false" | "0")
}

/// Whether a test can run the part that needs `what`: `available` says whether the
/// machine has it, `fix` how to get it. Missing under CI: panics, naming both.
/// Missing elsewhere: prints `skipped: …` and returns false; the caller skips.
pub fn require(what: &str, available: bool, fix: &str) -> bool {
    if available {
        return true;
    }
    if in_ci() {
        panic!("CI=true but {what} is not available: {fix}");
    }
    eprintln!("skipped: {what} is not available ({fix}; under CI=true this fails)");
    false
}

/// As [`require`], for running as root.
pub fn require_root(why: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    require(
        &format!("root ({why})"),
        root,
        "run the tests as root, as .ci/run does",
    )
}

/// As [`require`], for the program `tool` from the Debian package `package`.
pub fn require_tool(tool: &str, package: &str) -> bool {
    require(
        tool,
        installed(tool),
        &format!("apt-get install --no-install-recommends {package}, or run scripts/setup"),
    )
}

/// Whether `tool` is there: an absolute path that is a file, or a name found on PATH
/// (where `Command::new(tool)` looks for it).
pub fn installed(tool: &str) -> bool {
    if tool.starts_with('/') {
        return Path::new(tool).is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(tool).is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_ci_value_but_empty_false_or_0_means_ci() {
        for v in ["true", "1", "yes", "github"] {
            assert!(means_ci(v), "{v}");
        }
        for v in ["", " ", "false", "0"] {
            assert!(!means_ci(v), "{v:?}");
        }
    }

    #[test]
    fn finds_tools_by_name_and_path() {
        assert!(installed("/bin/sh"));
        assert!(!installed("/nonexistent/sh"));
        assert!(!installed("nestbench-no-such-tool"));
        assert!(require("sh", true, "unused"));
    }
}
