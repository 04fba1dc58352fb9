//! The static agent for integration tests: built with scripts/build-agent on first
//! use (cargo holds no lock while tests run), then shared by every test.

use std::path::PathBuf;
use std::sync::OnceLock;

/// Path of the static agent, building it if needed.
pub fn static_agent() -> PathBuf {
    static AGENT: OnceLock<PathBuf> = OnceLock::new();
    AGENT
        .get_or_init(|| {
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join("target"));
            let path = target.join("x86_64-unknown-linux-gnu/release/nestbench-agent");
            let status = std::process::Command::new(root.join("scripts/build-agent"))
                .arg("--quiet")
                .status()
                .expect("run scripts/build-agent");
            assert!(status.success(), "scripts/build-agent failed");
            assert!(path.is_file(), "{} missing after build", path.display());
            path
        })
        .clone()
}
