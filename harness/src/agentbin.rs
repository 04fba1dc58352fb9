//! The agent binary the run deploys: read once, checked to be a static x86-64 ELF
//! (a dynamic one would not start in a busybox guest), and fingerprinted for
//! provenance and upload verification.

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

/// Read and check the agent at `path`.
pub fn load(path: &Path) -> Result<AgentBinary, AgentError> {
    let bytes = std::fs::read(path).map_err(|error| AgentError::Unreadable {
        path: path.to_path_buf(),
        error,
    })?;
    check_static_elf(&bytes).map_err(|why| AgentError::NotStatic {
        path: path.to_path_buf(),
        why,
    })?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Ok(AgentBinary {
        path: path.to_path_buf(),
        bytes,
        sha256,
    })
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
}
