//! Per-stack secrets of a Hyper-V stack and how they reach a guest. The controller
//! makes a fresh ed25519 client key and one ed25519 host key per level (ssh-keygen,
//! OpenSSH format: what Windows OpenSSH and Linux sshd both read) in the stack's 0700
//! directory, and pins each level's host key when connecting, so nothing is trusted
//! on first use and no two stacks share a key.
//!
//! A guest gets its keys on a small config disk (`hyperv_create_vm` writes it: a FAT32
//! volume labelled `cidata`) holding [`config_files`]: `meta-data` and `user-data` in
//! cloud-init's NoCloud format (a Linux leaf's cloud-init installs the host key and the
//! authorized key from them), and `nestbench/…` for a Windows guest, whose first-boot
//! task (docs/hyperv.md, "What the base VHDX must contain") installs them into
//! `C:\ProgramData\ssh` and restarts sshd. Nothing is copied by hand.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One level's host key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKey {
    /// The OpenSSH private key (goes onto the config disk).
    pub private: String,
    /// `ssh-ed25519 AAAA…` (pinned by the controller).
    pub public_line: String,
}

impl HostKey {
    /// Base64 blob of the public key, as [`crate::remote::ssh::HostKeyCheck::Pinned`] takes it.
    pub fn public_b64(&self) -> String {
        crate::backend::qemu::keys::key_blob(&self.public_line)
    }
}

/// The stack's keys.
#[derive(Debug, Clone)]
pub struct StackKeys {
    /// The controller's private key.
    pub client_key: PathBuf,
    /// Its public line, the guests' authorized key.
    pub client_public: String,
    /// Host keys, index 0 = L1.
    pub host_keys: Vec<HostKey>,
}

fn keygen(path: &Path) -> anyhow::Result<(String, String)> {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "nestbench-stack", "-f"])
        .arg(path)
        .output()
        .context("cannot run ssh-keygen: install it with `apt-get install --no-install-recommends openssh-client`")?;
    if !out.status.success() {
        bail!(
            "ssh-keygen failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let private = std::fs::read_to_string(path)?;
    let public = std::fs::read_to_string(path.with_extension("pub"))?;
    let public = public
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    Ok((private, public))
}

/// Make the client key and `levels` host keys in `dir` (which must be private).
pub fn generate(dir: &Path, levels: u32) -> anyhow::Result<StackKeys> {
    let client_key = dir.join("client");
    let (_, client_public) = keygen(&client_key)?;
    let mut host_keys = vec![];
    for n in 1..=levels {
        let (private, public_line) = keygen(&dir.join(format!("host{n}")))?;
        host_keys.push(HostKey {
            private,
            public_line,
        });
    }
    Ok(StackKeys {
        client_key,
        client_public,
        host_keys,
    })
}

/// The config disk's files for VM `vm` with host key `host` and authorized key
/// `client_public`, name → text.
pub fn config_files(vm: &str, host: &HostKey, client_public: &str) -> Vec<(String, String)> {
    let indented: String = host.private.lines().map(|l| format!("    {l}\n")).collect();
    let user_data = format!(
        "#cloud-config\nssh_pwauth: false\ndisable_root: false\nssh_deletekeys: true\n\
         ssh_authorized_keys:\n  - {client_public}\nssh_keys:\n  ed25519_private: |\n{indented}  ed25519_public: {}\n",
        host.public_line
    );
    vec![
        (
            "meta-data".into(),
            format!("instance-id: {vm}\nlocal-hostname: {vm}\n"),
        ),
        ("user-data".into(), user_data),
        (
            "nestbench/authorized_keys".into(),
            format!("{client_public}\n"),
        ),
        (
            "nestbench/ssh_host_ed25519_key".into(),
            host.private.clone(),
        ),
        (
            "nestbench/ssh_host_ed25519_key.pub".into(),
            format!("{}\n", host.public_line),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_disk_holds_the_keys_in_both_formats() {
        let host = HostKey {
            private:
                "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n"
                    .into(),
            public_line: "ssh-ed25519 AAAAhost".into(),
        };
        let files = config_files("nb-L1", &host, "ssh-ed25519 AAAAclient");
        let get = |n: &str| files.iter().find(|(k, _)| k == n).unwrap().1.clone();
        assert_eq!(
            get("meta-data"),
            "instance-id: nb-L1\nlocal-hostname: nb-L1\n"
        );
        let ud = get("user-data");
        assert!(ud.starts_with("#cloud-config\n"), "{ud}");
        assert!(ud.contains("  - ssh-ed25519 AAAAclient\n"), "{ud}");
        assert!(ud.contains("    abc\n") && ud.contains("  ed25519_public: ssh-ed25519 AAAAhost"));
        assert_eq!(get("nestbench/authorized_keys"), "ssh-ed25519 AAAAclient\n");
        assert_eq!(host.public_b64(), "AAAAhost");
    }

    #[test]
    fn keys_are_fresh_per_stack() {
        if !crate::testreq::installed("ssh-keygen") {
            eprintln!("skipped: no ssh-keygen");
            return;
        }
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (ka, kb) = (
            generate(a.path(), 2).unwrap(),
            generate(b.path(), 2).unwrap(),
        );
        assert_eq!(ka.host_keys.len(), 2);
        assert_ne!(ka.client_public, kb.client_public);
        assert_ne!(ka.host_keys[0].public_line, ka.host_keys[1].public_line);
        assert!(ka.host_keys[0].private.contains("OPENSSH PRIVATE KEY"));
    }
}
