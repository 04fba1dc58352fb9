//! The agent binary the run deploys: read once, checked to be a static x86-64 ELF
//! (a dynamic one would not start in a busybox guest) — or, for a Windows level, a
//! self-contained x86-64 .exe that imports only Windows' own DLLs ([`pe`]) — and
//! fingerprinted for provenance and upload verification.
//!
//! Which build a level gets follows from its OS ([`AgentPaths::for_os`]): `--agent`
//! for Linux levels, `--agent-windows` for Windows ones. A level's OS is found on first
//! contact over SSH ([`crate::remote::identify`]); QEMU guests and a local L0 are Linux.

pub mod pe;

use model::catalog::Os;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The agent, loaded.
pub struct AgentBinary {
    /// Where it came from.
    pub path: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Hex SHA-256.
    pub sha256: String,
}

/// Why the agent cannot be deployed.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The file cannot be read.
    #[error("cannot read agent {}: build it with scripts/build-agent or pass --agent PATH: {error}", path.display())]
    Unreadable {
        /// The agent's path.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// It is not a static x86-64 executable.
    #[error("agent {} {why}: build the static agent with scripts/build-agent", path.display())]
    NotStatic {
        /// The agent's path.
        path: PathBuf,
        /// What it is instead.
        why: NotStaticElf,
    },
    /// It is not a self-contained x86-64 Windows executable.
    #[error("Windows agent {} {why}", path.display())]
    NotWindowsExe {
        /// The agent's path.
        path: PathBuf,
        /// What it is instead.
        why: pe::NotWindowsExe,
    },
    /// A level runs Windows and no Windows agent was given or found.
    #[error("a level runs Windows but there is no Windows agent: build it with scripts/build-agent-windows or pass --agent-windows PATH")]
    NoWindowsAgent,
}

/// The run ends with the agent's one-line error (exit 1).
impl From<AgentError> for crate::exit::Failure {
    fn from(e: AgentError) -> Self {
        crate::exit::Failure::error(e.to_string())
    }
}

/// Why bytes are not a static x86-64 ELF executable (a dynamic one would not start
/// in a busybox guest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotStaticElf {
    /// No ELF header.
    #[error("is not an ELF executable")]
    NotElf,
    /// Another class, byte order or machine.
    #[error("is not a 64-bit little-endian x86-64 binary")]
    NotX86_64,
    /// A program header lies past the end of the file.
    #[error("has a truncated program header table")]
    Truncated,
    /// It has a program interpreter.
    #[error("is dynamically linked")]
    Dynamic,
}

/// The agent builds a run can deploy, one per OS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentPaths {
    /// The static Linux agent (`--agent`).
    pub linux: PathBuf,
    /// `nestbench-agent.exe` (`--agent-windows`), when one was given or found.
    pub windows: Option<PathBuf>,
}

impl AgentPaths {
    /// The agent for a level that runs `os`.
    pub fn for_os(&self, os: Os) -> Result<&Path, AgentError> {
        match os {
            Os::Linux => Ok(&self.linux),
            Os::Windows => self.windows.as_deref().ok_or(AgentError::NoWindowsAgent),
        }
    }

    /// Reads and checks the agent for a level that runs `os` ([`load_for`]).
    pub fn load(&self, os: Os) -> Result<AgentBinary, AgentError> {
        load_for(os, self.for_os(os)?)
    }
}

/// Reads the agent at `path` and checks that it is the build for `os`: a static ELF
/// for Linux ([`load`]), a self-contained .exe for Windows ([`pe::check_windows_exe`]).
pub fn load_for(os: Os, path: &Path) -> Result<AgentBinary, AgentError> {
    if os == Os::Linux {
        return load(path);
    }
    let bytes = read(path)?;
    pe::check_windows_exe(&bytes).map_err(|why| AgentError::NotWindowsExe {
        path: path.to_path_buf(),
        why,
    })?;
    Ok(fingerprint(path, bytes))
}

fn read(path: &Path) -> Result<Vec<u8>, AgentError> {
    std::fs::read(path).map_err(|error| AgentError::Unreadable {
        path: path.to_path_buf(),
        error,
    })
}

fn fingerprint(path: &Path, bytes: Vec<u8>) -> AgentBinary {
    let sha256 = hex::encode(Sha256::digest(&bytes));
    AgentBinary {
        path: path.to_path_buf(),
        bytes,
        sha256,
    }
}

/// Read and check the static Linux agent at `path`.
pub fn load(path: &Path) -> Result<AgentBinary, AgentError> {
    let bytes = read(path)?;
    check_static_elf(&bytes).map_err(|why| AgentError::NotStatic {
        path: path.to_path_buf(),
        why,
    })?;
    Ok(fingerprint(path, bytes))
}

/// Ok when `b` is a 64-bit x86-64 ELF executable without a program interpreter.
pub fn check_static_elf(b: &[u8]) -> Result<(), NotStaticElf> {
    if b.len() < 64 || &b[..4] != b"\x7fELF" {
        return Err(NotStaticElf::NotElf);
    }
    if b[4] != 2 || b[5] != 1 || u16::from_le_bytes([b[18], b[19]]) != 62 {
        return Err(NotStaticElf::NotX86_64);
    }
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes")) as usize;
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    for i in 0..phnum {
        let o = phoff + i * phentsize;
        if o + 4 > b.len() {
            return Err(NotStaticElf::Truncated);
        }
        const PT_INTERP: u32 = 3;
        if u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes")) == PT_INTERP {
            return Err(NotStaticElf::Dynamic);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_non_elf_and_dynamic_binaries() {
        assert_eq!(check_static_elf(b"#!/bin/sh\n"), Err(NotStaticElf::NotElf));
        // /bin/sh is dynamically linked on every Debian.
        let sh = std::fs::read("/bin/sh").unwrap();
        assert_eq!(check_static_elf(&sh), Err(NotStaticElf::Dynamic));
        let e = load(Path::new("/bin/sh")).err().unwrap().to_string();
        assert_eq!(
            e,
            "agent /bin/sh is dynamically linked: build the static agent with scripts/build-agent"
        );
        let e = load(Path::new("/nonexistent/agent"))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.starts_with("cannot read agent /nonexistent/agent: build it"),
            "{e}"
        );
    }

    #[test]
    fn each_os_gets_its_own_build_and_windows_needs_one_given() {
        let both = AgentPaths {
            linux: "/a/nestbench-agent".into(),
            windows: Some("/a/nestbench-agent.exe".into()),
        };
        assert_eq!(
            both.for_os(Os::Linux).unwrap(),
            Path::new("/a/nestbench-agent")
        );
        assert_eq!(
            both.for_os(Os::Windows).unwrap(),
            Path::new("/a/nestbench-agent.exe")
        );
        let linux_only = AgentPaths {
            windows: None,
            ..both
        };
        assert_eq!(
            linux_only.for_os(Os::Linux).unwrap(),
            Path::new("/a/nestbench-agent")
        );
        let e = linux_only.for_os(Os::Windows).unwrap_err().to_string();
        assert!(
            e.contains("--agent-windows") && e.contains("build-agent-windows"),
            "{e}"
        );
    }

    #[test]
    fn a_linux_binary_is_refused_as_the_windows_agent_and_the_other_way_round() {
        let e = load_for(Os::Windows, Path::new("/bin/sh")).err().unwrap();
        assert!(
            matches!(
                e,
                AgentError::NotWindowsExe {
                    why: pe::NotWindowsExe::NotPe,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            "Windows agent /bin/sh is not a Windows (PE) executable"
        );
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("a.exe");
        std::fs::write(&exe, b"MZ not really").unwrap();
        assert!(matches!(
            load_for(Os::Linux, &exe),
            Err(AgentError::NotStatic {
                why: NotStaticElf::NotElf,
                ..
            })
        ));
    }
}
