//! What can go wrong in the QEMU backend, as types: before anything starts
//! ([`SetupError`]: QEMU, the plan, the image), while a level starts ([`LaunchError`])
//! and while it comes up ([`QemuError`], which becomes a
//! [`crate::backend::BackendError`] with the level and its console). Each message is
//! one line that names the file, binary or level it is about and says what to do;
//! output captured from QEMU or a guest follows it where there is some.

use super::argv::Accel;
use crate::plan::{Machine, PlanError};
use crate::virt::HostVirtError;
use std::path::PathBuf;

/// What installing QEMU takes, for messages.
pub const QEMU_HINT: &str =
    "install it with `apt-get install --no-install-recommends qemu-system-x86`, or pass --qemu PATH";

/// Why the backend could not be set up (nothing has started yet).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The QEMU that would run L1 does not answer `--version`.
    #[error(transparent)]
    Qemu(#[from] LaunchError),
    /// The stack does not fit on this host.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The host's CPU flags cannot be read, so L1's acceleration is unknown.
    #[error(transparent)]
    HostVirt(#[from] HostVirtError),
    /// No free loopback ports for the levels' sshd forwards.
    #[error("cannot pick free ports on 127.0.0.1: {0}")]
    Ports(std::io::Error),
    /// The guest image is missing and cannot be built.
    #[error("cannot build the guest image: {0:#}; see `nestbench image build`")]
    Image(anyhow::Error),
}

/// Why a level's QEMU did not start.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The QEMU binary cannot be run at all.
    #[error("cannot run {qemu} ({error}): {QEMU_HINT}")]
    QemuMissing {
        /// The binary.
        qemu: String,
        /// Why it did not run.
        error: std::io::Error,
    },
    /// `qemu --version` ran and failed.
    #[error("{qemu} --version failed: {stderr}")]
    VersionFailed {
        /// The binary.
        qemu: String,
        /// What it said.
        stderr: String,
    },
    /// L1's QEMU log cannot be written.
    #[error("cannot create {} ({error}): check that the run directory is writable", path.display())]
    Log {
        /// The log file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// L1's QEMU could not be started.
    #[error("cannot start {qemu} ({error}): {QEMU_HINT}")]
    Spawn {
        /// The binary.
        qemu: String,
        /// Why.
        error: std::io::Error,
    },
    /// The launch command could not run in the parent (SSH, timeout).
    #[error(transparent)]
    Remote(#[from] crate::remote::RemoteError),
    /// The launch command ran in the parent and QEMU did not start; `output` is what
    /// QEMU (or the command) said.
    #[error("QEMU did not start in {parent} (exit {code:?}): {output}")]
    NotStarted {
        /// The parent's endpoint.
        parent: String,
        /// The command's exit status.
        code: Option<i32>,
        /// QEMU's log there, or the command's output.
        output: String,
    },
}

/// Why a QEMU level did not come up.
#[derive(Debug, thiserror::Error)]
pub enum QemuError {
    /// The stack (directory, keys, scratch disk, chain disk) could not be made.
    #[error("{0:#}")]
    Stack(anyhow::Error),
    /// A level is provisioned before the one it runs in.
    #[error("L{parent} is not up; levels are brought up in order from L1")]
    ParentNotUp {
        /// The parent that is not up.
        parent: u32,
    },
    /// A file that goes to the level (its host key, authorized_keys) cannot be read.
    #[error("cannot read {} ({error}), which L{level} needs: the stack directory changed under the run; start it again", path.display())]
    Unreadable {
        /// The level it was for.
        level: u32,
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// Its QEMU did not start.
    #[error(transparent)]
    Launch(#[from] LaunchError),
    /// Its QEMU went away while it booted (the words say which level was lost).
    #[error("{0}")]
    Died(String),
    /// A lost level's QEMU could not be removed from its parent before a relaunch.
    #[error("L{level}'s QEMU could not be removed from L{}: {output}", level - 1)]
    NotRemoved {
        /// The lost level.
        level: u32,
        /// What the parent said.
        output: String,
    },
    /// L1's net.tcp peer could not be started on the host.
    #[error("cannot start L1's net.tcp peer ({0}); rebuild the agent with scripts/build-agent, or leave net.tcp out with --only")]
    NetPeer(String),
    /// Its sshd did not answer in time.
    #[error("sshd did not answer within {secs:.0} s ({}, {machine:?}); raise NESTBENCH_BOOT_TIMEOUT_S if the host is busy", .accel.as_str())]
    Timeout {
        /// The limit, seconds.
        secs: f64,
        /// How the level was accelerated.
        accel: Accel,
        /// Its machine type.
        machine: Machine,
    },
}

impl From<LaunchError> for crate::backend::BackendErrorKind {
    fn from(e: LaunchError) -> Self {
        QemuError::Launch(e).into()
    }
}

/// Read `path`, a file level `level` needs; an unreadable one is an error naming it
/// (never an empty upload).
pub fn read_for(level: u32, path: &std::path::Path) -> Result<Vec<u8>, QemuError> {
    std::fs::read(path).map_err(|error| QemuError::Unreadable {
        level,
        path: path.to_path_buf(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendError;

    #[test]
    fn an_unreadable_key_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("L2.host_key");
        let e = read_for(2, &key).unwrap_err();
        let line = BackendError::new(2, e).to_string();
        assert!(line.starts_with("L2: cannot read "), "{line}");
        assert!(line.contains(&key.display().to_string()), "{line}");
        assert!(line.contains("which L2 needs"), "{line}");
        assert!(!line.contains('\n'), "{line}");
        std::fs::write(&key, b"k").unwrap();
        assert_eq!(read_for(2, &key).unwrap(), b"k");
    }

    #[test]
    fn messages_keep_their_wording() {
        let e = QemuError::Timeout {
            secs: 180.0,
            accel: Accel::Tcg,
            machine: Machine::Pc,
        };
        assert_eq!(
            e.to_string(),
            "sshd did not answer within 180 s (tcg, Pc); raise NESTBENCH_BOOT_TIMEOUT_S if the host is busy"
        );
        assert_eq!(
            QemuError::ParentNotUp { parent: 1 }.to_string(),
            "L1 is not up; levels are brought up in order from L1"
        );
    }
}
