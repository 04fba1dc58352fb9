//! Raw CLI values validated once into a [`RunConfig`]; nothing reads flags afterwards.

use crate::agentbin::AgentPaths;
use crate::cli::{BackendArg, RunArgs};
use crate::exit::Failure;
use model::rundoc::{BackendKind, HypervConfig, InventoryConfig, QemuConfig, RunConfigRecord};
use model::{catalog, Sizes, Suite};
use std::path::{Path, PathBuf};

mod hyperv;
mod qemu;
pub use hyperv::{HypervOptions, Switches};
use qemu::qemu_only_flag;
pub use qemu::{QemuOptions, DEFAULT_RELAUNCH};

/// Which backend, with its options.
#[derive(Debug, Clone)]
pub enum BackendConfig {
    /// No levels above L0 (`--levels 0`).
    HostOnly,
    /// QEMU guests.
    Qemu(QemuOptions),
    /// Existing machines from a TOML file.
    Inventory(PathBuf),
    /// Nested VMs on a Hyper-V host.
    Hyperv(HypervOptions),
}

/// A validated `nestbench run`.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Requested depth (the inventory file decides for `--backend inventory`).
    pub levels: u32,
    /// Backend and its options.
    pub backend: BackendConfig,
    /// Suite.
    pub suite: Suite,
    /// Workload filter.
    pub only: Option<Vec<String>>,
    /// Run directory (to be created).
    pub out: PathBuf,
    /// Run id (also the default directory name).
    pub run_id: String,
    /// Leave the stack up.
    pub keep: bool,
    /// Sizes given on the command line (others derived from the smallest level).
    pub sizes: Sizes,
    /// The static agent binary.
    pub agent: PathBuf,
    /// The Windows agent, when given or found (only levels that run Windows need it).
    pub agent_windows: Option<PathBuf>,
    /// `--tag KEY=VALUE` labels.
    pub tags: std::collections::BTreeMap<String, String>,
    /// Where the run is recorded.
    pub history: crate::histopt::HistoryArgs,
}

impl RunConfig {
    /// Validate `args`; every refusal is a usage error naming the flag.
    pub fn from_args(args: RunArgs, run_id: String) -> Result<RunConfig, Failure> {
        if args.backend != BackendArg::Qemu {
            if let Some(flag) = qemu_only_flag(&args) {
                return Err(Failure::usage(format!(
                    "{flag} only applies to the QEMU backend (--backend qemu): drop it for --backend {}",
                    if args.backend == BackendArg::Hyperv { "hyperv" } else { "inventory" }
                )));
            }
        }
        let suite: Suite = args
            .suite
            .parse()
            .map_err(|e| Failure::usage(format!("--suite: {e}")))?;
        let only = match args.only.clone() {
            Some(list) => Some(validate_only(list)?),
            None => None,
        };
        let sizes = match &args.sizes {
            Some(s) => s
                .parse()
                .map_err(|e| Failure::usage(format!("--sizes: {e}")))?,
            None => Sizes::default(),
        };
        let backend = match args.backend {
            BackendArg::Inventory => {
                let file = args.inventory.ok_or_else(|| {
                    Failure::usage(
                        "--backend inventory needs --inventory FILE (see README: inventory file)",
                    )
                })?;
                BackendConfig::Inventory(file)
            }
            BackendArg::Hyperv if args.inventory.is_some() => {
                return Err(Failure::usage(
                    "--inventory only applies with --backend inventory",
                ))
            }
            BackendArg::Hyperv if args.levels == 0 => BackendConfig::HostOnly,
            BackendArg::Hyperv => BackendConfig::Hyperv(HypervOptions::from_args(
                args.hyperv,
                args.levels,
                args.memory,
                args.cpus,
            )?),
            _ if args.hyperv.hyperv_host.is_some() || args.hyperv.base_vhdx.is_some() => {
                return Err(Failure::usage(
                    "--hyperv-host and --base-vhdx only apply with --backend hyperv",
                ))
            }
            BackendArg::Qemu if args.inventory.is_some() => {
                return Err(Failure::usage(
                    "--inventory only applies with --backend inventory",
                ))
            }
            BackendArg::Qemu if args.levels == 0 => BackendConfig::HostOnly,
            BackendArg::Qemu => BackendConfig::Qemu(QemuOptions::from_args(&args)?),
        };
        if let Some(m) = args.memory {
            if m < 128 {
                return Err(Failure::usage(format!(
                    "--memory {m}: a level needs at least 128 MiB"
                )));
            }
        }
        if args.cpus == Some(0) {
            return Err(Failure::usage("--cpus must be at least 1"));
        }
        let out = args
            .out
            .unwrap_or_else(|| Path::new("nestbench-results").join(&run_id));
        let agent = match args.agent {
            Some(a) => a,
            None => default_agent_path().ok_or_else(|| {
                Failure::error("cannot find the static nestbench-agent: build it with scripts/build-agent, or pass --agent PATH")
            })?,
        };
        let agent_windows = match args.agent_windows {
            Some(p) if !p.is_file() => {
                return Err(Failure::usage(format!(
                    "--agent-windows {}: no such file (build it with scripts/build-agent-windows)",
                    p.display()
                )))
            }
            Some(p) => Some(p),
            None => default_windows_agent_path(),
        };
        let mut backend = backend;
        let measures_net = match &only {
            None => true,
            Some(o) => o.iter().any(|w| w == "net.tcp"),
        };
        if let BackendConfig::Qemu(q) = &mut backend {
            q.net_peer = measures_net.then(|| agent.clone());
            q.agent_drive = Some(agent.clone());
        }
        Ok(RunConfig {
            levels: args.levels,
            backend,
            suite,
            only,
            out,
            run_id,
            keep: args.keep,
            sizes,
            agent,
            agent_windows,
            tags: parse_tags(&args.tags)?,
            history: args.history,
        })
    }

    /// The agent builds this run can deploy: which one a level gets follows from its OS.
    pub fn agents(&self) -> AgentPaths {
        AgentPaths {
            linux: self.agent.clone(),
            windows: self.agent_windows.clone(),
        }
    }

    /// The configuration as recorded in run.json `config`: `depth` levels below L0 (the
    /// inventory decides for an inventory run) and the `sizes` every level runs with.
    pub fn to_record(&self, depth: u32, sizes: Sizes) -> RunConfigRecord {
        let mut hyperv = None;
        let (backend, qemu, inventory) = match &self.backend {
            BackendConfig::HostOnly => (BackendKind::Host, None, None),
            BackendConfig::Hyperv(h) => {
                hyperv = Some(HypervConfig {
                    host: h.host.clone(),
                    base_vhdx: h.base_vhdx.clone(),
                    leaf_vhdx: h.leaf_vhdx.clone(),
                    switch: h.switch.all.clone(),
                    switch_levels: h.switch.levels.clone(),
                    memory_mib: h.memory_mib,
                    cpus: h.cpus,
                });
                (BackendKind::Hyperv, None, None)
            }
            BackendConfig::Qemu(q) => (
                BackendKind::Qemu,
                Some(QemuConfig {
                    accel: q.accel,
                    memory_mib: q.memory_mib,
                    cpus: q.cpus,
                    qemu_args: q
                        .extra_args
                        .iter()
                        .map(|(l, a)| format!("{l}:{a}"))
                        .collect(),
                    relaunch: Some(q.relaunch),
                }),
                None,
            ),
            BackendConfig::Inventory(p) => (
                BackendKind::Inventory,
                None,
                Some(InventoryConfig {
                    file: p.display().to_string(),
                }),
            ),
        };
        RunConfigRecord {
            backend,
            levels: depth,
            suite: self.suite,
            only: self.only.clone(),
            keep: self.keep,
            sizes,
            qemu,
            inventory,
            hyperv,
            tags: self.tags.clone(),
        }
    }
}

fn validate_only(list: Vec<String>) -> Result<Vec<String>, Failure> {
    let list: Vec<String> = list
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if list.is_empty() {
        return Err(Failure::usage("--only needs at least one workload id"));
    }
    catalog::select(Some(&list)).map_err(|e| Failure::usage(format!("--only: {e}")))?;
    Ok(list)
}

/// `--tag KEY=VALUE` values: keys of letters, digits, `_`, `-` and `.`; one value per
/// key; no `,` in either (selections separate their keys with commas).
fn parse_tags(raw: &[String]) -> Result<std::collections::BTreeMap<String, String>, Failure> {
    let mut out = std::collections::BTreeMap::new();
    for r in raw {
        let (k, v) = r.split_once('=').ok_or_else(|| {
            Failure::usage(format!("--tag {r:?}: expected KEY=VALUE, e.g. qemu=v8.2.0"))
        })?;
        let key_ok = !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !key_ok || v.contains(',') {
            return Err(Failure::usage(format!(
                "--tag {r:?}: the key takes letters, digits, '_', '-' and '.', and neither may contain ','"
            )));
        }
        if out.insert(k.to_string(), v.to_string()).is_some() {
            return Err(Failure::usage(format!("--tag {k}: given twice")));
        }
    }
    Ok(out)
}

/// Where the static agent is when nobody says: next to `nestbench` as
/// `nestbench-agent-static`, or the output of scripts/build-agent in the target dir
/// this `nestbench` was built in.
pub fn default_agent_path() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    let mut candidates = vec![dir.join("nestbench-agent-static")];
    for up in dir.ancestors().take(3) {
        candidates.push(up.join("x86_64-unknown-linux-gnu/release/nestbench-agent"));
    }
    candidates.into_iter().find(|p| p.is_file())
}

/// Where the Windows agent is when nobody says: next to `nestbench` as
/// `nestbench-agent.exe`, or the output of scripts/build-agent-windows in the target
/// dir this `nestbench` was built in; `None` when neither exists.
pub fn default_windows_agent_path() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    let mut candidates = vec![dir.join("nestbench-agent.exe")];
    for up in dir.ancestors().take(3) {
        candidates.push(up.join("x86_64-pc-windows-gnu/release/nestbench-agent.exe"));
    }
    candidates.into_iter().find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_args(extra: &[&str]) -> RunArgs {
        use clap::Parser;
        let mut argv = vec!["nestbench", "run", "--levels", "0", "--agent", "/bin/sh"];
        argv.extend(extra);
        match crate::cli::Cli::try_parse_from(argv).unwrap().command {
            crate::cli::Command::Run(r) => r.run,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn agent_windows_is_the_windows_levels_agent_and_must_exist_when_given() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("nestbench-agent.exe");
        std::fs::write(&exe, b"MZ").unwrap();
        let cfg = RunConfig::from_args(
            run_args(&["--agent-windows", exe.to_str().unwrap()]),
            "id".into(),
        )
        .unwrap();
        let agents = cfg.agents();
        assert_eq!(agents.for_os(catalog::Os::Windows).unwrap(), exe);
        assert_eq!(
            agents.for_os(catalog::Os::Linux).unwrap(),
            Path::new("/bin/sh")
        );
        let e = RunConfig::from_args(
            run_args(&["--agent-windows", "/nonexistent/nestbench-agent.exe"]),
            "id".into(),
        )
        .unwrap_err();
        assert!(e.message.contains("--agent-windows"), "{}", e.message);
    }

    #[test]
    fn tags_are_key_value_pairs_without_commas() {
        let t = parse_tags(&["qemu=v8.2.0".into(), "side=A".into()]).unwrap();
        assert_eq!(t["qemu"], "v8.2.0");
        assert_eq!(t["side"], "A");
        for bad in ["novalue", "=x", "a b=c", "k=a,b"] {
            assert!(parse_tags(&[bad.into()]).is_err(), "{bad}");
        }
        let e = parse_tags(&["k=1".into(), "k=2".into()]).unwrap_err();
        assert!(e.message.contains("twice"));
    }
}
