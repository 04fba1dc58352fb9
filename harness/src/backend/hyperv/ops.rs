//! The backend's Hyper-V operations, typed: each is one script of
//! [`crate::powershell::scripts`] (JSON in, JSON out) run on the machine that hosts a
//! level — the Hyper-V host for L1, L(n-1) for Ln. The answers are parsed here into
//! small structs, so the JSON contract is tested without a host; the order the
//! operations are called in is the backend's ([`super`]), and is what the simulator's
//! tests check.

use crate::hyperv::{self, checks::Step, HypervError};
use crate::powershell::scripts;
use crate::remote::Remote;
use serde::Deserialize;
use serde_json::{json, Value};

/// What `hyperv_host` reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct HostFacts {
    /// `COMPUTERNAME`.
    #[serde(default)]
    pub computer: String,
    /// vmms.exe's product version (`10.0.20348.1`).
    #[serde(default)]
    pub hyperv_version: String,
    /// Logical processors.
    #[serde(default)]
    pub logical_processors: u32,
    /// Free physical memory, bytes.
    #[serde(default)]
    pub memory_free_bytes: u64,
    /// The newest VM configuration version it supports.
    #[serde(default)]
    pub max_config_version: String,
}

/// What `hyperv_create_vm` made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Created {
    /// The VM's name.
    pub vm: String,
    /// Its configuration version.
    #[serde(default)]
    pub version: String,
}

/// What `hyperv_vm_address` saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Addresses {
    /// `Running`, `Off`, …
    #[serde(default)]
    pub state: String,
    /// IPv4 first; empty until the integration services report one.
    #[serde(default)]
    pub addresses: Vec<String>,
}

impl Addresses {
    /// The address to connect to: the first IPv4 one.
    pub fn ipv4(&self) -> Option<&str> {
        self.addresses
            .iter()
            .map(String::as_str)
            .find(|a| a.parse::<std::net::Ipv4Addr>().is_ok())
    }
}

/// What `hyperv_remove_vm` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Removed {
    /// Whether there was a VM to remove.
    #[serde(default)]
    pub removed: bool,
    /// The disks that were attached to it (Remove-VM leaves them).
    #[serde(default)]
    pub disks: Vec<String>,
}

/// Everything `hyperv_create_vm` needs for one level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVm {
    /// The VM's name.
    pub vm: String,
    /// The VHDX its differencing disk is made on (never written).
    pub parent: String,
    /// The differencing disk.
    pub disk: String,
    /// The config disk (keys for the first-boot task / cloud-init).
    pub config_disk: String,
    /// The virtual switch.
    pub switch: String,
    /// Static memory, bytes.
    pub memory_bytes: u64,
    /// A Linux leaf (the UEFI CA secure-boot template).
    pub linux: bool,
    /// The config disk's files, name → text.
    pub files: Vec<(String, String)>,
}

impl NewVm {
    /// The script's input.
    pub fn input(&self) -> Value {
        let files: serde_json::Map<String, Value> = self
            .files
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        json!({
            "vm": self.vm, "parent": self.parent, "disk": self.disk,
            "config_disk": self.config_disk, "switch": self.switch,
            "memory_bytes": self.memory_bytes, "linux": self.linux, "files": files,
        })
    }
}

/// The settings a level gets before it starts, in the order `hyperv prepare --apply`
/// makes them (all refused by Hyper-V while the VM runs, save the last three).
pub fn nesting_steps(cpus: u32, memory_mib: u64) -> Vec<Step> {
    vec![
        Step::ExposeVirtualizationExtensions,
        Step::ProcessorCount(cpus),
        Step::DynamicMemoryOff,
        Step::StartupMemory(memory_mib << 20),
        Step::MacSpoofingOn,
        Step::CheckpointsOff,
        Step::AutomaticCheckpointsOff,
    ]
}

fn parse<T: for<'de> Deserialize<'de>>(
    remote: &dyn Remote,
    what: &'static str,
    v: Value,
) -> Result<T, HypervError> {
    serde_json::from_value(v.clone()).map_err(|e| HypervError::Garbled {
        endpoint: remote.endpoint(),
        what,
        code: Some(0),
        detail: format!(
            "{e}: {}",
            v.to_string().chars().take(200).collect::<String>()
        ),
    })
}

fn run<T: for<'de> Deserialize<'de>>(
    remote: &mut dyn Remote,
    op: &scripts::Op,
    input: Value,
    scratch: &str,
) -> Result<T, HypervError> {
    let v = hyperv::call(remote, op, input, scratch)?;
    parse(remote, op.name, v)
}

/// `hyperv_host`.
pub fn host_facts(remote: &mut dyn Remote, scratch: &str) -> Result<HostFacts, HypervError> {
    run(remote, &scripts::HYPERV_HOST, json!({}), scratch)
}

/// `hyperv_create_vm`.
pub fn create(remote: &mut dyn Remote, vm: &NewVm, scratch: &str) -> Result<Created, HypervError> {
    run(remote, &scripts::HYPERV_CREATE_VM, vm.input(), scratch)
}

/// `hyperv_apply` with `steps`: Err names the step Hyper-V refused and its words.
pub fn apply(
    remote: &mut dyn Remote,
    vm: &str,
    steps: &[Step],
    scratch: &str,
) -> Result<Vec<String>, HypervError> {
    let done = hyperv::apply(remote, vm, steps, scratch)?;
    match done.failed {
        Some((step, why)) => Err(HypervError::Refused(format!(
            "Hyper-V refused {step} on VM {vm}: {why}"
        ))),
        None => Ok(done.done),
    }
}

/// `hyperv_start_vm`.
pub fn start(remote: &mut dyn Remote, vm: &str, scratch: &str) -> Result<(), HypervError> {
    hyperv::call(
        remote,
        &scripts::HYPERV_START_VM,
        json!({ "vm": vm }),
        scratch,
    )
    .map(|_| ())
}

/// `hyperv_vm_address`.
pub fn addresses(
    remote: &mut dyn Remote,
    vm: &str,
    scratch: &str,
) -> Result<Addresses, HypervError> {
    run(
        remote,
        &scripts::HYPERV_VM_ADDRESS,
        json!({ "vm": vm }),
        scratch,
    )
}

/// How long copying a VHDX into a guest may take: tens of GB over the VMBus.
pub const COPY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);

/// `hyperv_copy_file`: `source` on this machine to `destination` inside `vm`.
pub fn copy_into(
    remote: &mut dyn Remote,
    vm: &str,
    source: &str,
    destination: &str,
    scratch: &str,
) -> Result<(), HypervError> {
    let input = json!({ "vm": vm, "source": source, "destination": destination });
    hyperv::call_within(
        remote,
        &scripts::HYPERV_COPY_FILE,
        input,
        scratch,
        COPY_TIMEOUT,
    )
    .map(|_| ())
}

/// `hyperv_remove_vm` (a VM already gone is not an error).
pub fn remove(remote: &mut dyn Remote, vm: &str, scratch: &str) -> Result<Removed, HypervError> {
    run(
        remote,
        &scripts::HYPERV_REMOVE_VM,
        json!({ "vm": vm }),
        scratch,
    )
}

/// `remove_files`: the disks this run made (never anything else).
pub fn remove_files(
    remote: &mut dyn Remote,
    paths: &[String],
    scratch: &str,
) -> Result<Vec<String>, HypervError> {
    let v = hyperv::call(
        remote,
        &scripts::REMOVE_FILES,
        json!({ "paths": paths }),
        scratch,
    )?;
    Ok(v["removed"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_and_unknown_fields_are_ignored() {
        let f: HostFacts = serde_json::from_value(json!({
            "computer": "HV1", "hyperv_version": "10.0.20348.1", "logical_processors": 16,
            "memory_free_bytes": 68719476736u64, "max_config_version": "10.0", "extra": 1
        }))
        .unwrap();
        assert_eq!(
            (f.logical_processors, f.memory_free_bytes >> 20),
            (16, 65536)
        );
        let a: Addresses = serde_json::from_value(json!({
            "vm": "x", "state": "Running", "addresses": ["fe80::1", "10.0.0.5"]
        }))
        .unwrap();
        assert_eq!(a.ipv4(), Some("10.0.0.5"));
        let none: Addresses = serde_json::from_value(json!({"state": "Running"})).unwrap();
        assert_eq!(none.ipv4(), None);
        let r: Removed =
            serde_json::from_value(json!({"vm": "x", "removed": true, "disks": ["a.vhdx"]}))
                .unwrap();
        assert_eq!(r.disks, ["a.vhdx"]);
        // PowerShell 5.1's ConvertTo-Json writes a one-element array as a bare string:
        // the scripts wrap every list in @(), and a bare string is refused, not misread.
        assert!(serde_json::from_value::<Removed>(json!({"disks": "a.vhdx"})).is_err());
    }

    #[test]
    fn the_create_input_carries_every_file_and_the_steps_follow_prepare_s_order() {
        let vm = NewVm {
            vm: "nb-L1".into(),
            parent: "D:\\base.vhdx".into(),
            disk: "C:\\T\\nb-L1.vhdx".into(),
            config_disk: "C:\\T\\nb-L1-config.vhdx".into(),
            switch: "External".into(),
            memory_bytes: 8 << 30,
            linux: false,
            files: vec![("meta-data".into(), "instance-id: nb-L1\n".into())],
        };
        let i = vm.input();
        assert_eq!(i["files"]["meta-data"], "instance-id: nb-L1\n");
        assert_eq!(i["memory_bytes"], 8u64 << 30);
        let ops: Vec<&str> = nesting_steps(2, 4096).iter().map(Step::op).collect();
        assert_eq!(
            ops,
            [
                "expose_virtualization_extensions",
                "processor_count",
                "dynamic_memory_off",
                "startup_memory",
                "mac_spoofing_on",
                "checkpoints_off",
                "automatic_checkpoints_off"
            ]
        );
        assert_eq!(nesting_steps(2, 4096)[3].input()["bytes"], 4096u64 << 20);
    }
}
