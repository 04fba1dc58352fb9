//! The agent binary the run deploys: read once, checked to be a static x86-64 ELF
//! (a dynamic one would not start in a busybox guest), and fingerprinted for
//! provenance and upload verification.

use anyhow::Context;
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

/// Read and check the agent at `path`.
pub fn load(path: &Path) -> anyhow::Result<AgentBinary> {
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "cannot read agent {}: build it with scripts/build-agent or pass --agent PATH",
            path.display()
        )
    })?;
    check_static_elf(&bytes).map_err(|why| {
        anyhow::anyhow!(
            "agent {} {why}: build the static agent with scripts/build-agent",
            path.display()
        )
    })?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Ok(AgentBinary {
        path: path.to_path_buf(),
        bytes,
        sha256,
    })
}

/// Ok when `b` is a 64-bit x86-64 ELF executable without a program interpreter.
pub fn check_static_elf(b: &[u8]) -> Result<(), String> {
    if b.len() < 64 || &b[..4] != b"\x7fELF" {
        return Err("is not an ELF executable".into());
    }
    if b[4] != 2 || b[5] != 1 || u16::from_le_bytes([b[18], b[19]]) != 62 {
        return Err("is not a 64-bit little-endian x86-64 binary".into());
    }
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes")) as usize;
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    for i in 0..phnum {
        let o = phoff + i * phentsize;
        if o + 4 > b.len() {
            return Err("has a truncated program header table".into());
        }
        const PT_INTERP: u32 = 3;
        if u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes")) == PT_INTERP {
            return Err("is dynamically linked".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_non_elf_and_dynamic_binaries() {
        assert!(check_static_elf(b"#!/bin/sh\n").is_err());
        // /bin/sh is dynamically linked on every Debian.
        let sh = std::fs::read("/bin/sh").unwrap();
        assert_eq!(check_static_elf(&sh).unwrap_err(), "is dynamically linked");
    }
}
