//! The options of `run --backend hyperv`, validated once (docs/hyperv.md): the host as
//! USER@HOST, a `.vhdx` base (a differencing disk needs one), the switches; every
//! refusal is a usage error naming the flag.

use crate::exit::Failure;
use std::path::PathBuf;

mod switches;
pub use switches::Switches;

/// Options of the Hyper-V backend.
#[derive(Debug, Clone)]
pub struct HypervOptions {
    /// `--hyperv-host` as given (USER@HOST).
    pub host: String,
    /// Its user.
    pub user: String,
    /// Its address.
    pub address: String,
    /// Its SSH port.
    pub port: u16,
    /// Key for the host.
    pub key: PathBuf,
    /// known_hosts with the host's key.
    pub known_hosts: PathBuf,
    /// Record the host's key on first contact.
    pub accept_new: bool,
    /// The Windows VHDX, a path on the host.
    pub base_vhdx: String,
    /// The Linux leaf VHDX, a path on the host.
    pub leaf_vhdx: Option<String>,
    /// The virtual switch of each level.
    pub switch: Switches,
    /// The Windows guests' account.
    pub guest_user: String,
    /// The Linux leaf's account.
    pub leaf_user: String,
    /// L1 memory, MiB.
    pub memory_mib: Option<u64>,
    /// Processors per level.
    pub cpus: Option<u32>,
    /// From Start-VM until SSH answers.
    pub boot_timeout: std::time::Duration,
    /// Each SSH connection.
    pub connect_timeout: std::time::Duration,
}

impl HypervOptions {
    /// How the host is reached.
    pub fn host_endpoint(&self) -> crate::backend::hyperv::stack::Endpoint {
        crate::backend::hyperv::stack::Endpoint {
            name: "Hyper-V host".into(),
            host: self.address.clone(),
            port: self.port,
            user: self.user.clone(),
            key: self.key.clone(),
            pinned: None,
            known_hosts: Some(self.known_hosts.clone()),
            accept_new: self.accept_new,
        }
    }

    /// Validate the `--backend hyperv` flags for a stack of `depth` levels.
    pub(super) fn from_args(
        a: crate::cli::HypervRunArgs,
        depth: u32,
        memory: Option<u64>,
        cpus: Option<u32>,
    ) -> Result<Self, Failure> {
        use crate::backend::inventory::file::{expand, home};
        let host = a.hyperv_host.ok_or_else(|| {
            Failure::usage("--backend hyperv needs --hyperv-host USER@HOST (docs/hyperv.md)")
        })?;
        let (user, address) = host
            .split_once('@')
            .filter(|(u, h)| !u.is_empty() && !h.is_empty())
            .map(|(u, h)| (u.to_string(), h.to_string()))
            .ok_or_else(|| Failure::usage(format!("--hyperv-host {host}: give it as USER@HOST")))?;
        let base_vhdx = a
            .base_vhdx
            .filter(|b| !b.trim().is_empty())
            .ok_or_else(|| {
                Failure::usage(
                    "--backend hyperv needs --base-vhdx PATH, a Windows VHDX on the Hyper-V host",
                )
            })?;
        for (flag, p) in [
            ("--base-vhdx", Some(&base_vhdx)),
            ("--leaf-vhdx", a.leaf_vhdx.as_ref()),
        ] {
            if let Some(p) = p.filter(|p| !p.to_ascii_lowercase().ends_with(".vhdx")) {
                return Err(Failure::usage(format!(
                    "{flag} {p}: a differencing disk needs a .vhdx parent"
                )));
            }
        }
        let switch = Switches::parse(&a.switch, depth)?;
        Ok(HypervOptions {
            host,
            user,
            address,
            port: a.hyperv_port,
            key: expand(&a.hyperv_key, &home()),
            known_hosts: expand(&a.hyperv_known_hosts, &home()),
            accept_new: a.hyperv_accept_new,
            base_vhdx,
            leaf_vhdx: a.leaf_vhdx,
            switch,
            guest_user: a.guest_user,
            leaf_user: a.leaf_user,
            memory_mib: memory,
            cpus,
            boot_timeout: std::time::Duration::from_secs(a.boot_timeout),
            connect_timeout: std::time::Duration::from_secs(a.connect_timeout),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{BackendConfig, RunConfig};
    use crate::exit::Failure;
    use model::rundoc::BackendKind;
    use model::Sizes;

    fn parse(argv: &[&str]) -> Result<RunConfig, Failure> {
        use clap::Parser;
        let mut all = vec!["nestbench", "run", "--agent", "/bin/sh"];
        all.extend(argv);
        match crate::cli::Cli::try_parse_from(all).unwrap().command {
            crate::cli::Command::Run(r) => RunConfig::from_args(r.run, "id".into()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_hyperv_backend_needs_its_host_and_a_vhdx_base_and_is_recorded() {
        let ok = parse(&[
            "--backend",
            "hyperv",
            "--levels",
            "2",
            "--hyperv-host",
            "Administrator@hv1",
            "--base-vhdx",
            "D:\\ws.vhdx",
            "--switch",
            "External",
            "--memory",
            "8192",
        ])
        .unwrap();
        let BackendConfig::Hyperv(h) = &ok.backend else {
            panic!("{:?}", ok.backend)
        };
        assert_eq!(
            (h.user.as_str(), h.address.as_str(), h.port),
            ("Administrator", "hv1", 22)
        );
        assert_eq!(h.memory_mib, Some(8192));
        let rec = ok.to_record(2, Sizes::default());
        assert_eq!(rec.backend, BackendKind::Hyperv);
        assert_eq!(rec.hyperv.unwrap().base_vhdx, "D:\\ws.vhdx");
        for (argv, says) in [
            (
                &["--backend", "hyperv", "--levels", "1"][..],
                "--hyperv-host",
            ),
            (
                &[
                    "--backend",
                    "hyperv",
                    "--levels",
                    "1",
                    "--hyperv-host",
                    "hv1",
                    "--base-vhdx",
                    "a.vhdx",
                ][..],
                "USER@HOST",
            ),
            (
                &[
                    "--backend",
                    "hyperv",
                    "--levels",
                    "1",
                    "--hyperv-host",
                    "a@hv1",
                ][..],
                "--base-vhdx",
            ),
            (
                &[
                    "--backend",
                    "hyperv",
                    "--levels",
                    "1",
                    "--hyperv-host",
                    "a@hv1",
                    "--base-vhdx",
                    "a.vhd",
                ][..],
                ".vhdx parent",
            ),
            (
                &["--levels", "1", "--hyperv-host", "a@hv1"][..],
                "only apply with --backend hyperv",
            ),
        ] {
            let e = parse(argv)
                .err()
                .unwrap_or_else(|| panic!("{argv:?} accepted"));
            assert!(e.message.contains(says), "{argv:?}: {}", e.message);
        }
        // --levels 0 is the host alone, whatever the backend.
        let host = parse(&["--backend", "hyperv", "--levels", "0"]).unwrap();
        assert!(matches!(host.backend, BackendConfig::HostOnly));
    }
}
