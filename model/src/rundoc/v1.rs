//! Reading schema version 1: the same document with `config` and `provenance` as
//! untyped maps (and the host load as the text of /proc/loadavg or a number). Upgraded
//! to version 2 on reading; nothing is written in version 1 any more. Level records
//! did not change shape between the versions (version 2 only adds optional fields), so
//! they are read as they are.

use super::{
    BackendKind, HostFacts, HostLoad, ImageRecord, InventoryConfig, InventoryLevelRecord,
    InventoryRecord, LevelRecord, LoadAvg, Provenance, QemuConfig, QemuRecord, RunConfigRecord,
    RunDoc, RunStatus, SCHEMA_VERSION,
};
use crate::{AccelChoice, Sizes, Suite};
use serde::Deserialize;
use serde_json::{Map, Value};

/// A version 1 run.json as written.
#[derive(Debug, Clone, Deserialize)]
pub struct RunDocV1 {
    /// Always 1.
    pub schema_version: u32,
    /// Run id.
    pub run_id: String,
    /// nestbench version.
    pub tool_version: String,
    /// RFC 3339 start.
    pub started_at: String,
    /// RFC 3339 finish.
    pub finished_at: Option<String>,
    /// Overall status.
    pub status: RunStatus,
    /// The configuration as a map.
    pub config: Map<String, Value>,
    /// Level records (same shape as version 2's).
    pub levels: Vec<LevelRecord>,
    /// Provenance as a map.
    #[serde(default)]
    pub provenance: Map<String, Value>,
}

/// What a version 1 document lacks to become a version 2 one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpgradeError {
    /// `config.suite` is missing.
    #[error("config has no suite")]
    NoSuite,
    /// `config.suite` is not a suite name.
    #[error("config.suite: {0}")]
    BadSuite(#[from] crate::suite::UnknownSuite),
}

/// The version 2 document of a version 1 one.
pub fn upgrade(old: RunDocV1) -> Result<RunDoc, UpgradeError> {
    let c = &old.config;
    let suite: Suite = str_of(c, "suite").ok_or(UpgradeError::NoSuite)?.parse()?;
    let backend = match str_of(c, "backend").as_deref() {
        Some("host") => BackendKind::Host,
        Some("qemu") | None => BackendKind::Qemu,
        Some("inventory") => BackendKind::Inventory,
        Some("hyperv") => BackendKind::Hyperv,
        Some(other) => BackendKind::Other(other.to_string()),
    };
    let levels = c
        .get("levels")
        .and_then(Value::as_u64)
        .map(|n| n as u32)
        .unwrap_or_else(|| old.levels.iter().map(|l| l.level.0).max().unwrap_or(0));
    let sizes: Sizes = c
        .get("sizes")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let qemu = (backend == BackendKind::Qemu).then(|| QemuConfig {
        accel: match str_of(c, "accel").as_deref() {
            Some("kvm") => AccelChoice::Kvm,
            Some("tcg") => AccelChoice::Tcg,
            _ => AccelChoice::Auto,
        },
        memory_mib: c.get("memory_mib").and_then(Value::as_u64),
        cpus: c.get("cpus").and_then(Value::as_u64).map(|n| n as u32),
        qemu_args: c
            .get("qemu_args")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default(),
        relaunch: None,
    });
    let inventory = str_of(c, "inventory").map(|file| InventoryConfig { file });
    let config = RunConfigRecord {
        backend,
        levels,
        suite,
        only: c
            .get("only")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .flatten(),
        keep: c.get("keep").and_then(Value::as_bool).unwrap_or(false),
        sizes,
        qemu,
        inventory,
        hyperv: None,
        tags: Default::default(),
    };
    Ok(RunDoc {
        schema_version: SCHEMA_VERSION,
        run_id: old.run_id,
        tool_version: old.tool_version,
        started_at: old.started_at,
        finished_at: old.finished_at,
        status: old.status,
        config,
        levels: old.levels,
        provenance: provenance(&old.provenance),
    })
}

fn str_of(m: &Map<String, Value>, k: &str) -> Option<String> {
    m.get(k).and_then(Value::as_str).map(str::to_string)
}

/// A load average of version 1: the text of /proc/loadavg, or only the 1-minute number.
fn load_of(v: Option<&Value>) -> Option<LoadAvg> {
    match v? {
        Value::Number(n) => n.as_f64().map(|one| LoadAvg {
            one,
            five: None,
            fifteen: None,
        }),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn provenance(p: &Map<String, Value>) -> Provenance {
    let image = str_of(p, "image_digest").map(|digest| ImageRecord {
        digest,
        kernel_package: str_of(p, "image_kernel"),
    });
    let qemu = str_of(p, "qemu_l1").map(|l1_binary| QemuRecord {
        l1_binary,
        l1_version: str_of(p, "qemu_l1_version"),
        kernel_override: str_of(p, "kernel_override"),
        initrd_override: str_of(p, "initrd_override"),
    });
    let inventory = str_of(p, "inventory").map(|file| InventoryRecord {
        file,
        levels: p
            .get("inventory_levels")
            .and_then(Value::as_array)
            .map(|ls| {
                ls.iter()
                    .map(|l| InventoryLevelRecord {
                        name: l["name"].as_str().unwrap_or_default().to_string(),
                        endpoint: l["endpoint"].as_str().unwrap_or_default().to_string(),
                        via: l["via"].as_str().map(str::to_string),
                        workdir: l["workdir"].as_str().unwrap_or_default().to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        l0: None,
    });
    Provenance {
        tool_commit: str_of(p, "tool_commit"),
        agent_sha256: str_of(p, "agent_sha256"),
        agent_path: str_of(p, "agent_path"),
        host: HostFacts {
            cpu: str_of(p, "host_cpu"),
            vcpus: p
                .get("host_vcpus")
                .and_then(Value::as_u64)
                .map(|n| n as u32),
            memory_mib: p.get("host_memory_mib").and_then(Value::as_u64),
            kernel: str_of(p, "host_kernel"),
            llc_mib: None,
        },
        host_load: HostLoad {
            at_start: load_of(p.get("host_load_at_start")),
            at_end: load_of(p.get("host_load_at_end")),
        },
        image,
        qemu,
        inventory,
    }
}
