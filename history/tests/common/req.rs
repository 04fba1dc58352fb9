//! What a test needs of the machine, and the project's one rule for when it is missing
//! (the same as harness/src/testreq.rs): under CI (`CI` set to anything but empty,
//! `false` or `0`; `.ci/run` exports `CI=true`) the test fails naming what is missing
//! and how to get it, so a CI machine without PostgreSQL cannot pass silently;
//! elsewhere the test skips, saying why on stderr.

/// Whether the tests run under CI.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "false" | "0"))
}

/// Whether the test can use `what`; missing under CI panics naming it and `fix`.
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
