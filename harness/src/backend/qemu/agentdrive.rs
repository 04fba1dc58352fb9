//! The agent drive: the static agent, written once per stack into a small raw file on
//! the host and attached read-only to every level as its third virtio disk, each level
//! passing its own device on to its child as the chain disk is passed on. A level's
//! deploy then copies the agent off that disk instead of receiving it through the SSH
//! chain, where an upload into L4 took 4 s of the 5 s that sshd-to-first-sample may take
//! (docs/qemu.md, "The agent drive"). What is read is verified against the controller's
//! copy (size and SHA-256) like an upload, so a level that lacks the drive or reads
//! something else from it falls back to the upload (`deploy::measure`).

use std::io::Write;
use std::path::Path;

/// The agent drive inside every guest: after the chain disk (/dev/vda) and the scratch
/// disk (/dev/vdb), in the order the launch attaches them.
pub const AGENT_DEVICE: &str = "/dev/vdc";

/// The agent drive's serial, which names it in the guest (`/sys/block/vdc/serial`).
pub const SERIAL: &str = "nbagent";

/// What the agent drive holds, as a parent checks it before running a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnDrive {
    /// The agent's size: the bytes of the drive that are the agent.
    pub len: usize,
    /// Its SHA-256, hex.
    pub sha256: String,
}

impl OnDrive {
    /// For the agent `bytes`.
    pub fn of(bytes: &[u8]) -> OnDrive {
        use sha2::{Digest, Sha256};
        OnDrive {
            len: bytes.len(),
            sha256: hex::encode(Sha256::digest(bytes)),
        }
    }
}

/// Write `agent` to `path` as a raw disk image: the bytes, then zeros to a whole
/// number of 512-byte sectors (a raw image is read in sectors).
pub fn write(path: &Path, agent: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .open(path)?;
    f.write_all(agent)?;
    let pad = (512 - agent.len() % 512) % 512;
    f.write_all(&vec![0; pad])?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_image_is_the_agent_padded_to_whole_sectors() {
        let dir = tempfile::tempdir().unwrap();
        for len in [0usize, 1, 511, 512, 513, 70_000] {
            let p = dir.path().join(format!("a{len}"));
            let agent: Vec<u8> = (0..len).map(|i| (i % 251) as u8 + 1).collect();
            super::write(&p, &agent).unwrap();
            let img = std::fs::read(&p).unwrap();
            assert_eq!(img.len() % 512, 0, "{len}");
            assert!(img.len() >= len && img.len() < len + 512, "{len}");
            assert_eq!(&img[..len], &agent[..]);
            assert!(img[len..].iter().all(|&b| b == 0));
        }
    }
}
