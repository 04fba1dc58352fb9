//! Nested Hyper-V (docs/hyperv.md): `nestbench hyperv prepare` checks over SSH that a
//! Hyper-V host can run a VM with nesting and that the VM is set up for it, and with
//! `--apply` makes the changes. It is the unattended, idempotent successor of
//! Microsoft's Enable-NestedVm.ps1, without that script's faults: no prompts (its
//! `if($input -eq 'y' -or 'Y')` was always true), nothing dropped on a relaunch,
//! no `Stop-VM` that can wait forever on a guest (only `-TurnOff -Force`, and only
//! when asked), and the host's build, CPU vendor and the VM's configuration version
//! are checked before anything else.
//!
//! Two PowerShell operations do the talking, one round trip each
//! ([`crate::powershell::scripts`]): `hyperv_inspect` reads everything ([`Inspect`]),
//! `hyperv_apply` makes a list of [`checks::Step`]s in the order given. What to check
//! and in which order to change things are pure functions here ([`checks`]), tested
//! on inspected states; the whole command is tested against a Hyper-V simulator that
//! speaks the same JSON contract behind a real sshd (harness/tests/hyperv_prepare.rs).

pub mod checks;
pub mod step;

use crate::powershell::{self, scripts};
use crate::remote::{Remote, RemoteError};
use serde::Deserialize;
use std::time::Duration;

/// What `hyperv_inspect` reports about the host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct HostFacts {
    /// `COMPUTERNAME`.
    #[serde(default)]
    pub computer: String,
    /// `Microsoft Windows Server 2022 Datacenter`.
    #[serde(default)]
    pub caption: String,
    /// The OS build (20348).
    #[serde(default)]
    pub build: u32,
    /// `GenuineIntel` or `AuthenticAMD` (Win32_Processor.Manufacturer).
    #[serde(default)]
    pub cpu_vendor: String,
    /// The CPU's name.
    #[serde(default)]
    pub cpu_name: String,
    /// The newest VM configuration version the host supports (`10.0`), when it says.
    #[serde(default)]
    pub max_config_version: Option<String>,
}

/// One network adapter of the VM.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Adapter {
    /// Its name (`Network Adapter`).
    #[serde(default)]
    pub name: String,
    /// `On` or `Off`.
    #[serde(default)]
    pub mac_spoofing: String,
    /// The virtual switch it is connected to.
    #[serde(default)]
    pub switch: String,
}

/// What `hyperv_inspect` reports about the VM.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct VmFacts {
    /// Its name.
    pub name: String,
    /// `Off`, `Running`, `Saved`, `Paused`, …
    pub state: String,
    /// Configuration version (`9.0`).
    pub version: String,
    /// Whether the processor exposes VT-x/AMD-V to the guest.
    pub expose_virtualization_extensions: bool,
    /// Virtual processors.
    pub processor_count: u32,
    /// Whether dynamic memory is on.
    pub dynamic_memory: bool,
    /// Startup memory, bytes.
    pub startup_bytes: u64,
    /// `Disabled`, `Production`, `ProductionOnly` or `Standard`.
    pub checkpoint_type: String,
    /// Automatic checkpoints (absent on hosts older than Windows 10 1709 / Server 2019).
    #[serde(default)]
    pub automatic_checkpoints: Option<bool>,
    /// Its network adapters.
    #[serde(default)]
    pub adapters: Vec<Adapter>,
    /// The guest's OS name from the integration services, while it runs.
    #[serde(default)]
    pub guest_os: Option<String>,
}

/// Everything `hyperv_inspect` read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Inspect {
    /// The host.
    pub host: HostFacts,
    /// The VM.
    pub vm: VmFacts,
}

/// Why the host could not be checked or changed (exit 1, "could not check").
#[derive(Debug, thiserror::Error)]
pub enum HypervError {
    /// SSH.
    #[error(transparent)]
    Remote(#[from] RemoteError),
    /// The script said why (no Hyper-V, no rights, no such VM, …).
    #[error("{0}")]
    Refused(String),
    /// The script's answer made no sense.
    #[error(
        "{endpoint}: {what} gave no answer that nestbench understands (exit {code:?}): {detail}"
    )]
    Garbled {
        /// The host.
        endpoint: String,
        /// Which operation.
        what: &'static str,
        /// PowerShell's exit code.
        code: Option<i32>,
        /// What came instead.
        detail: String,
    },
}

/// How long a PowerShell operation on the host may take (`-TurnOff` is immediate;
/// configuration changes take seconds).
const OP_TIMEOUT: Duration = Duration::from_secs(300);

/// Run `op` with `input` on the host and return its JSON answer; an `{"error"}`
/// answer is a [`HypervError::Refused`].
pub(crate) fn call(
    remote: &mut dyn Remote,
    op: &scripts::Op,
    input: serde_json::Value,
    scratch: &str,
) -> Result<serde_json::Value, HypervError> {
    call_within(remote, op, input, scratch, OP_TIMEOUT)
}

/// As [`call`], allowed `timeout` (copying a VHDX into a guest takes longer).
pub(crate) fn call_within(
    remote: &mut dyn Remote,
    op: &scripts::Op,
    input: serde_json::Value,
    scratch: &str,
    timeout: Duration,
) -> Result<serde_json::Value, HypervError> {
    let mut stdout = String::new();
    let st = powershell::run(remote, op, &input, scratch, timeout, &mut |l| {
        stdout.push_str(l);
        stdout.push('\n');
    })?;
    let garbled = |detail: String| HypervError::Garbled {
        endpoint: remote.endpoint(),
        what: op.name,
        code: st.code,
        detail,
    };
    let Some(v) = powershell::reply(&stdout) else {
        let why = st
            .stderr
            .trim()
            .lines()
            .last()
            .unwrap_or("no output")
            .to_string();
        return Err(garbled(why));
    };
    if v.get("done").is_none() {
        if let Some(e) = v.get("error").and_then(|e| e.as_str()) {
            return Err(HypervError::Refused(e.to_string()));
        }
    }
    Ok(v)
}

/// Read the host and `vm` (`hyperv_inspect`).
pub fn inspect(remote: &mut dyn Remote, vm: &str, scratch: &str) -> Result<Inspect, HypervError> {
    let v = call(
        remote,
        &scripts::HYPERV_INSPECT,
        serde_json::json!({ "vm": vm }),
        scratch,
    )?;
    serde_json::from_value(v.clone()).map_err(|e| HypervError::Garbled {
        endpoint: remote.endpoint(),
        what: scripts::HYPERV_INSPECT.name,
        code: Some(0),
        detail: format!(
            "{e}: {}",
            v.to_string().chars().take(200).collect::<String>()
        ),
    })
}

/// What `hyperv_apply` did: the steps done, in order, and the one that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Operation names of the steps done.
    pub done: Vec<String>,
    /// The step that failed and Hyper-V's words.
    pub failed: Option<(String, String)>,
}

/// Make `steps` on `vm`, in order (`hyperv_apply`).
pub fn apply(
    remote: &mut dyn Remote,
    vm: &str,
    steps: &[checks::Step],
    scratch: &str,
) -> Result<Applied, HypervError> {
    let input = serde_json::json!({
        "vm": vm,
        "steps": steps.iter().map(checks::Step::input).collect::<Vec<_>>(),
    });
    let v = call(remote, &scripts::HYPERV_APPLY, input, scratch)?;
    let words = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    Ok(Applied {
        done: v["done"]
            .as_array()
            .map(|a| a.iter().map(words).collect())
            .unwrap_or_default(),
        failed: v
            .get("failed")
            .filter(|f| f.is_object())
            .map(|f| (words(&f["step"]), words(&f["error"]))),
    })
}
