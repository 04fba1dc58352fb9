//! Facts about the machine (or guest) a level runs on, as `nestbench-agent info`
//! reports them. Gathering them is the agent's job; this is only the shape.
//!
//! Fields added after protocol version 2 are optional (`serde(default)`, omitted when
//! empty), so streams and run.json files written before them still parse, and the
//! Linux agent's output is unchanged by the Windows agent's extra facts.

use serde::{Deserialize, Serialize};

/// What a level looks like from inside: enough to say what was measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostInfo {
    /// CPU model string from /proc/cpuinfo (on Windows, CPUID's brand string).
    pub cpu_model: String,
    /// Online vCPUs.
    pub vcpus: u32,
    /// Total memory in MiB.
    pub memory_mib: u64,
    /// Kernel release (`uname -r`; on Windows `major.minor.build`).
    pub kernel: String,
    /// Host name.
    pub hostname: String,
    /// Hypervisor vendor signature from CPUID leaf 0x40000000 (e.g. `KVMKVMKVM`,
    /// `TCGTCGTCGTCG`, `Microsoft Hv`), or `None` when no hypervisor bit is set.
    pub hypervisor: Option<String>,
    /// `svm` or `vmx` when the CPU shows virtualization extensions, else `None`.
    pub virt_extensions: Option<String>,
    /// Whether /dev/kvm can be opened and answers KVM_GET_API_VERSION (always false
    /// on Windows).
    pub kvm_usable: bool,
    /// What only a Windows level has: its version, and whether it can host Hyper-V
    /// guests. `None` from the Linux agent and from agents older than the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows: Option<WindowsInfo>,
}

/// The Windows agent's facts about its level (docs/windows.md, `info`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WindowsInfo {
    /// `major.minor` from RtlGetVersion (which, unlike GetVersionEx, ignores the
    /// compatibility manifest), e.g. `10.0`.
    pub version: String,
    /// The build number, e.g. 20348 (Windows Server 2022) or 22631 (Windows 11 23H2).
    pub build: u32,
    /// `workstation`, `server` or `domain controller` (RtlGetVersion's product type).
    pub product_type: String,
    /// State of the Hyper-V role's management service `vmms`, from the service control
    /// manager: `running`, `stopped`, `start pending`, … , `not installed`, or
    /// `unknown: <why>` when the service manager would not say.
    pub hyperv_vmms: String,
    /// Whether this Windows is Hyper-V's root partition (the host of Hyper-V guests):
    /// CPUID leaf 0x40000003 EBX bit 0, the CreatePartitions privilege. `None` when the
    /// hypervisor is not Hyper-V.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_partition: Option<bool>,
    /// Whether the CPU has second-level address translation (EPT/NPT), as Windows
    /// reports it (`IsProcessorFeaturePresent(PF_SECOND_LEVEL_ADDRESS_TRANSLATION)`);
    /// `None` before Windows 8, which does not know the flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slat: Option<bool>,
    /// Whether firmware enabled virtualization and Windows makes it available
    /// (`PF_VIRT_FIRMWARE_ENABLED`); `None` before Windows 8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virt_firmware_enabled: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_without_the_windows_fields_still_parses_and_linux_output_is_unchanged() {
        let old = r#"{"cpu_model":"x","vcpus":2,"memory_mib":512,"kernel":"6.1","hostname":"h","hypervisor":null,"virt_extensions":"vmx","kvm_usable":true}"#;
        let info: HostInfo = serde_json::from_str(old).unwrap();
        assert_eq!(info.windows, None);
        assert_eq!(serde_json::to_string(&info).unwrap(), old);
    }

    #[test]
    fn windows_facts_round_trip_and_partial_ones_parse() {
        let info = HostInfo {
            windows: Some(WindowsInfo {
                version: "10.0".into(),
                build: 20348,
                product_type: "server".into(),
                hyperv_vmms: "running".into(),
                root_partition: Some(true),
                slat: Some(true),
                virt_firmware_enabled: None,
            }),
            ..HostInfo::default()
        };
        let text = serde_json::to_string(&info).unwrap();
        assert!(!text.contains("virt_firmware_enabled"), "{text}");
        assert_eq!(serde_json::from_str::<HostInfo>(&text).unwrap(), info);
        let partial: WindowsInfo = serde_json::from_str(r#"{"build":7601}"#).unwrap();
        assert_eq!(partial.build, 7601);
        assert_eq!(partial.slat, None);
    }
}
