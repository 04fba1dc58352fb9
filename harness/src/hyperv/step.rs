//! The changes `hyperv prepare --apply` can make: each is one case of
//! `ps/hyperv_apply.ps1` (its input there), one exact PowerShell line a person can run
//! by hand (what each ✘ prints as its fix), and a place in the order Hyper-V accepts
//! changes in ([`super::checks::plan`] sorts by it).

/// One change `--apply` can make; each is one case of `ps/hyperv_apply.ps1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `Stop-VM -TurnOff -Force`: off at once, never waiting on the guest.
    TurnOff,
    /// `Remove-VMSavedState`: a saved VM cannot change its processor.
    DiscardSavedState,
    /// `Update-VMVersion -Force` (irreversible: older hosts no longer run the VM).
    UpdateVersion,
    /// `Set-VMProcessor -ExposeVirtualizationExtensions $true`.
    ExposeVirtualizationExtensions,
    /// `Set-VMProcessor -Count N`.
    ProcessorCount(u32),
    /// `Set-VMMemory -DynamicMemoryEnabled $false`.
    DynamicMemoryOff,
    /// `Set-VMMemory -StartupBytes N`.
    StartupMemory(u64),
    /// `Set-VMNetworkAdapter -MacAddressSpoofing On` on every adapter without it.
    MacSpoofingOn,
    /// `Set-VM -CheckpointType Disabled`.
    CheckpointsOff,
    /// `Set-VM -AutomaticCheckpointsEnabled $false`.
    AutomaticCheckpointsOff,
}

/// `'it''s'`: a PowerShell single-quoted string (nothing in it is expanded).
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl Step {
    /// The operation's name in `hyperv_apply.ps1`.
    pub fn op(&self) -> &'static str {
        match self {
            Step::TurnOff => "turn_off",
            Step::DiscardSavedState => "discard_saved_state",
            Step::UpdateVersion => "update_version",
            Step::ExposeVirtualizationExtensions => "expose_virtualization_extensions",
            Step::ProcessorCount(_) => "processor_count",
            Step::DynamicMemoryOff => "dynamic_memory_off",
            Step::StartupMemory(_) => "startup_memory",
            Step::MacSpoofingOn => "mac_spoofing_on",
            Step::CheckpointsOff => "checkpoints_off",
            Step::AutomaticCheckpointsOff => "automatic_checkpoints_off",
        }
    }

    /// The step as `hyperv_apply` reads it.
    pub fn input(&self) -> serde_json::Value {
        match self {
            Step::ProcessorCount(n) => serde_json::json!({ "op": self.op(), "count": n }),
            Step::StartupMemory(b) => serde_json::json!({ "op": self.op(), "bytes": b }),
            _ => serde_json::json!({ "op": self.op() }),
        }
    }

    /// The exact PowerShell that makes this change by hand, for `vm`.
    pub fn powershell(&self, vm: &str) -> String {
        let v = quote(vm);
        match self {
            Step::TurnOff => format!("Stop-VM -Name {v} -TurnOff -Force"),
            Step::DiscardSavedState => format!("Remove-VMSavedState -VMName {v}"),
            Step::UpdateVersion => format!("Update-VMVersion -Name {v} -Force"),
            Step::ExposeVirtualizationExtensions => {
                format!("Set-VMProcessor -VMName {v} -ExposeVirtualizationExtensions $true")
            }
            Step::ProcessorCount(n) => format!("Set-VMProcessor -VMName {v} -Count {n}"),
            Step::DynamicMemoryOff => {
                format!("Set-VMMemory -VMName {v} -DynamicMemoryEnabled $false")
            }
            Step::StartupMemory(b) => {
                format!("Set-VMMemory -VMName {v} -StartupBytes {}GB", b >> 30)
            }
            Step::MacSpoofingOn => {
                format!("Get-VMNetworkAdapter -VMName {v} | Set-VMNetworkAdapter -MacAddressSpoofing On")
            }
            Step::CheckpointsOff => format!("Set-VM -Name {v} -CheckpointType Disabled"),
            Step::AutomaticCheckpointsOff => {
                format!("Set-VM -Name {v} -AutomaticCheckpointsEnabled $false")
            }
        }
    }

    /// Where the step goes in the order of changes (lower first).
    pub(super) fn rank(&self) -> u8 {
        match self {
            Step::DiscardSavedState | Step::TurnOff => 0,
            Step::UpdateVersion => 1,
            Step::ExposeVirtualizationExtensions => 2,
            Step::ProcessorCount(_) => 3,
            Step::DynamicMemoryOff => 4,
            Step::StartupMemory(_) => 5,
            Step::MacSpoofingOn => 6,
            Step::CheckpointsOff => 7,
            Step::AutomaticCheckpointsOff => 8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::powershell::scripts::HYPERV_APPLY;

    const ALL: [Step; 10] = [
        Step::TurnOff,
        Step::DiscardSavedState,
        Step::UpdateVersion,
        Step::ExposeVirtualizationExtensions,
        Step::ProcessorCount(2),
        Step::DynamicMemoryOff,
        Step::StartupMemory(4 << 30),
        Step::MacSpoofingOn,
        Step::CheckpointsOff,
        Step::AutomaticCheckpointsOff,
    ];

    #[test]
    fn every_step_is_a_case_of_the_apply_script_with_the_cmdlet_it_prints() {
        let body = HYPERV_APPLY.body;
        for step in ALL {
            let case = format!("'{}' {{", step.op());
            let at = body
                .find(&case)
                .unwrap_or_else(|| panic!("hyperv_apply.ps1 has no case {case}"));
            let shown = step.powershell("vm");
            let cmdlet = shown.split_whitespace().next().unwrap();
            // The printed fix starts with the cmdlet the script's case runs (a pipeline's
            // last cmdlet for MAC spoofing).
            let line = body[at..].lines().take(3).collect::<String>();
            let last = shown
                .rsplit("| ")
                .next()
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap();
            assert!(
                line.contains(cmdlet) && line.contains(last),
                "{case}: {shown} vs {line}"
            );
        }
        // Turning off never waits on the guest.
        assert!(body.contains("Stop-VM -VM $vm -TurnOff -Force"));
        assert!(body
            .lines()
            .filter(|l| l.contains("Stop-VM") && !l.trim_start().starts_with('#'))
            .all(|l| l.contains("-TurnOff -Force")));
    }
}
