//! What `hyperv prepare` checks and in which order it changes things, as pure
//! functions of an [`Inspect`]: every check is a doctor [`Check`] (✔/⚠/✘) whose fix is
//! the exact PowerShell, and a failing check that `--apply` can fix carries its
//! [`Step`]. [`plan`] orders the steps the only way Hyper-V accepts them: the VM off
//! first (a saved state discarded), then the configuration version, then what Hyper-V
//! refuses to change on a running VM.
//!
//! The requirements are Microsoft's (docs/hyperv.md): Intel VT-x with EPT on Windows
//! Server 2016 / Windows 10 1607 (build 14393) or later with VM configuration version
//! 8.0 or later; AMD on Windows Server 2022 / Windows 11 (build 20348 / 22000) or
//! later with configuration version 9.3 or later; no dynamic memory, no checkpoints;
//! the guest's packets leave through MAC address spoofing on every adapter (a NAT
//! switch inside the VM is the alternative; nestbench checks for spoofing only).

pub use super::step::{quote, Step};
use super::Inspect;
use crate::doctor::Check;

/// What the VM must have at least.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    /// Startup memory, GiB (`--memory-gb`, default 4).
    pub memory_gb: u64,
    /// Virtual processors (2: a nested hypervisor and its guest each need one).
    pub vcpus: u32,
}

impl Default for Wanted {
    fn default() -> Self {
        Wanted {
            memory_gb: 4,
            vcpus: 2,
        }
    }
}

/// One check and the change that fixes it, if `--apply` can make it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The doctor line.
    pub check: Check,
    /// The fix `--apply` makes.
    pub step: Option<Step>,
}

fn pass(name: &str, detail: String) -> Finding {
    Finding {
        check: Check::pass(name, detail),
        step: None,
    }
}

fn fail(name: &str, detail: String, vm: &str, step: Step) -> Finding {
    Finding {
        check: Check::fail(name, detail, step.powershell(vm)),
        step: Some(step),
    }
}

/// `9.0` → (9, 0); `None` when it is no version.
fn version(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.trim().split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// What nesting needs of a host with this CPU vendor: the oldest build (and its
/// name) and the oldest VM configuration version.
fn needs(vendor: &str) -> Option<(&'static str, u32, &'static str, (u32, u32))> {
    match vendor {
        "GenuineIntel" => Some((
            "Intel VT-x with EPT",
            14393,
            "Windows Server 2016 / Windows 10 1607 (build 14393)",
            (8, 0),
        )),
        "AuthenticAMD" => Some((
            "AMD-V",
            20348,
            "Windows Server 2022 / Windows 11 (build 20348 / 22000)",
            (9, 3),
        )),
        _ => None,
    }
}

/// Every check, host first, in the order they are printed.
pub fn judge(i: &Inspect, want: Wanted) -> Vec<Finding> {
    let (h, vm) = (&i.host, &i.vm);
    let name = vm.name.as_str();
    let mut out = vec![];
    let Some((cpu, min_build, min_name, min_version)) = needs(&h.cpu_vendor) else {
        out.push(Finding {
            check: Check::fail(
                "host CPU",
                format!(
                    "{} ({}): Hyper-V nests only on Intel VT-x with EPT and on AMD-V",
                    h.cpu_vendor, h.cpu_name
                ),
                "run the VM on a host with an Intel or AMD CPU",
            ),
            step: None,
        });
        return out;
    };
    out.push(if h.build >= min_build {
        pass(
            "host",
            format!(
                "{}, build {} on {cpu}: nests (needs {min_name} or later)",
                h.caption, h.build
            ),
        )
    } else {
        Finding {
            check: Check::fail(
                "host",
                format!(
                    "{}, build {} on {cpu}: nesting needs {min_name} or later",
                    h.caption, h.build
                ),
                format!("upgrade the host to {min_name} or later"),
            ),
            step: None,
        }
    });
    let want_v = format!("{}.{}", min_version.0, min_version.1);
    out.push(match version(&vm.version) {
        Some(v) if v >= min_version => pass(
            "configuration version",
            format!("{} (needs {want_v} or later on {cpu})", vm.version),
        ),
        _ => {
            let host_can = h
                .max_config_version
                .as_deref()
                .and_then(version)
                .is_some_and(|m| m >= min_version);
            let detail = format!("{}: nesting on {cpu} needs {want_v} or later", vm.version);
            if host_can {
                let mut f = fail("configuration version", detail, name, Step::UpdateVersion);
                if let Some(fix) = &mut f.check.fix {
                    fix.push_str(" (irreversible: older hosts no longer run the VM)");
                }
                f
            } else {
                Finding {
                    check: Check::fail(
                        "configuration version",
                        format!(
                            "{detail}, and this host supports at most {}",
                            h.max_config_version.as_deref().unwrap_or("an older one")
                        ),
                        format!("upgrade the host to {min_name} or later, then Update-VMVersion"),
                    ),
                    step: None,
                }
            }
        }
    });
    let state_at = out.len();
    out.push(if vm.expose_virtualization_extensions {
        pass("virtualization extensions", "exposed to the guest".into())
    } else {
        fail(
            "virtualization extensions",
            "not exposed to the guest".into(),
            name,
            Step::ExposeVirtualizationExtensions,
        )
    });
    out.push(if vm.processor_count >= want.vcpus {
        pass(
            "virtual processors",
            format!("{} (needs {})", vm.processor_count, want.vcpus),
        )
    } else {
        fail(
            "virtual processors",
            format!(
                "{}: a nested hypervisor and its guest need {}",
                vm.processor_count, want.vcpus
            ),
            name,
            Step::ProcessorCount(want.vcpus),
        )
    });
    out.push(if vm.dynamic_memory {
        fail(
            "dynamic memory",
            "on: nesting does not work with dynamic memory".into(),
            name,
            Step::DynamicMemoryOff,
        )
    } else {
        pass("dynamic memory", "off".into())
    });
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    let want_bytes = want.memory_gb << 30;
    out.push(if vm.startup_bytes >= want_bytes {
        pass(
            "startup memory",
            format!(
                "{:.1} GiB (needs {} GiB)",
                gib(vm.startup_bytes),
                want.memory_gb
            ),
        )
    } else {
        fail(
            "startup memory",
            format!(
                "{:.1} GiB: needs {} GiB (--memory-gb)",
                gib(vm.startup_bytes),
                want.memory_gb
            ),
            name,
            Step::StartupMemory(want_bytes),
        )
    });
    if vm.adapters.is_empty() {
        out.push(Finding {
            check: Check::warn(
                "network",
                "the VM has no network adapter: nested guests will have no network",
                format!(
                    "Add-VMNetworkAdapter -VMName {} -SwitchName SWITCH",
                    quote(name)
                ),
            ),
            step: None,
        });
    }
    for a in &vm.adapters {
        let what = format!("MAC address spoofing on '{}'", a.name);
        out.push(if a.mac_spoofing == "On" {
            pass(&what, format!("on (switch {})", a.switch))
        } else {
            fail(
                &what,
                format!(
                    "{}: nested guests' packets would be dropped",
                    a.mac_spoofing
                ),
                name,
                Step::MacSpoofingOn,
            )
        });
    }
    out.push(if vm.checkpoint_type == "Disabled" {
        pass("checkpoints", "disabled".into())
    } else {
        fail(
            "checkpoints",
            format!("{}: not supported with nesting", vm.checkpoint_type),
            name,
            Step::CheckpointsOff,
        )
    });
    match vm.automatic_checkpoints {
        Some(true) => out.push(fail(
            "automatic checkpoints",
            "on: a checkpoint at every start".into(),
            name,
            Step::AutomaticCheckpointsOff,
        )),
        Some(false) => out.push(pass("automatic checkpoints", "off".into())),
        None => {}
    }
    out.push(guest(vm.guest_os.as_deref()));
    // prepare changes a VM only while it is off; a VM that needs no change may run.
    let changes = out
        .iter()
        .any(|f| f.check.status == crate::doctor::Status::Fail);
    out.insert(state_at, state(&vm.state, name, changes));
    out
}

/// The VM's state: off, or anything when nothing needs changing; otherwise what
/// gets it off.
fn state(state: &str, name: &str, changes: bool) -> Finding {
    match state {
        "Off" => pass("VM state", "Off".into()),
        other if !changes => pass(
            "VM state",
            format!("{other}: its settings already allow nesting"),
        ),
        "Saved" => fail(
            "VM state",
            "Saved: a saved state must be discarded before nesting settings change (the guest's memory is lost, as with a turn-off)".into(),
            name,
            Step::DiscardSavedState,
        ),
        "Running" | "Paused" => fail(
            "VM state",
            format!("{state}: nesting settings change only while the VM is off"),
            name,
            Step::TurnOff,
        ),
        other => Finding {
            check: Check::fail(
                "VM state",
                format!("{other}: neither off nor running"),
                "wait until the VM is Off or Running, then run prepare again",
            ),
            step: None,
        },
    }
}

/// The Hyper-V role inside the guest: it can be asked only with the guest's own
/// credentials, so this is a warning with the command to run inside.
fn guest(os: Option<&str>) -> Finding {
    let inside = "inside the guest: Enable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V -All";
    let check = match os {
        Some(os) if !os.to_ascii_lowercase().contains("windows") => Check::pass(
            "hypervisor inside the guest",
            format!("{os}: a Linux guest nests with KVM, no Hyper-V role involved"),
        ),
        Some(os) => Check::warn(
            "hypervisor inside the guest",
            format!("{os}: whether its Hyper-V role is enabled cannot be asked without the guest's credentials"),
            inside,
        ),
        None => Check::warn(
            "hypervisor inside the guest",
            "not asked: the guest is not running (or does not report its OS)",
            inside,
        ),
    };
    Finding { check, step: None }
}

/// Why `--apply` changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocked {
    /// A ✘ that no step fixes (host too old, wrong CPU, an odd VM state).
    Unfixable(String),
    /// The VM must go off first, and `--turn-off` was not given.
    NeedsTurnOff(String),
}

/// The steps that fix every failing check, in the order Hyper-V accepts them, or why
/// none may be made. Nothing is planned when nothing fails.
pub fn plan(findings: &[Finding], turn_off: bool) -> Result<Vec<Step>, Blocked> {
    let failed = findings
        .iter()
        .filter(|f| f.check.status == crate::doctor::Status::Fail);
    let mut steps: Vec<Step> = vec![];
    for f in failed {
        match f.step {
            None => {
                return Err(Blocked::Unfixable(format!(
                    "{}: {}",
                    f.check.name, f.check.detail
                )))
            }
            Some(s) if !steps.contains(&s) => steps.push(s),
            Some(_) => {}
        }
    }
    let stop = steps
        .iter()
        .find(|s| matches!(s, Step::TurnOff | Step::DiscardSavedState));
    if let Some(stop) = stop {
        if !turn_off {
            let what = if *stop == Step::TurnOff {
                "turns it off"
            } else {
                "discards its saved state"
            };
            return Err(Blocked::NeedsTurnOff(format!(
                "the VM is not off: --turn-off {what} first (or shut the guest down and run prepare again)"
            )));
        }
    }
    steps.sort_by_key(Step::rank);
    Ok(steps)
}

#[cfg(test)]
mod tests;
