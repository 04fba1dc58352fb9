//! Facts about the machine (or guest) a level runs on, as `nestbench-agent info`
//! reports them. Gathering them is the agent's job; this is only the shape, plus the
//! one reading of the last-level cache from sysfs text that the agent and the
//! controller share (the caller does the reading, so this crate stays free of I/O).
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
    /// The last-level cache this level's sysfs shows (on Windows, what
    /// GetLogicalProcessorInformationEx describes), MiB (rounded up), when it shows
    /// one. Under TCG it is whatever QEMU makes up, which is why the controller passes
    /// L0's to every level (`--llc-mib`) instead of trusting this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llc_mib: Option<u64>,
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

/// Where sysfs describes CPU 0's caches, one `index<N>` directory per cache.
pub const SYSFS_CACHE_DIR: &str = "/sys/devices/system/cpu/cpu0/cache";

/// The last-level cache in MiB (rounded up) from sysfs: of the data and unified caches
/// under [`SYSFS_CACHE_DIR`], the one of the highest `level` (level 3 where there is
/// one), the largest when several share that level. `read(path)` returns a file's
/// text, or `None` when it cannot be read; `None` overall when no cache is described.
pub fn llc_mib_from(read: impl Fn(&str) -> Option<String>) -> Option<u64> {
    let mut caches = Vec::new();
    for idx in 0..16 {
        let base = format!("{SYSFS_CACHE_DIR}/index{idx}");
        let Some(size) = read(&format!("{base}/size")) else {
            continue;
        };
        let Some(kib) = cache_size_kib(&size) else {
            continue;
        };
        let level = read(&format!("{base}/level"))
            .and_then(|l| l.trim().parse::<u32>().ok())
            .unwrap_or(0);
        let kind = read(&format!("{base}/type")).unwrap_or_default();
        if kind.trim() == "Instruction" {
            continue;
        }
        caches.push((level, kib));
    }
    llc_mib_of(caches)
}

/// The last-level cache in MiB (rounded up) of `caches`, each a data or unified cache
/// (never an instruction cache) as its level and size in KiB: the one of the highest
/// level, the largest when several share it; `None` when there are none. The one rule
/// for both agents: sysfs on Linux ([`llc_mib_from`]), GetLogicalProcessorInformationEx
/// on Windows.
pub fn llc_mib_of(caches: impl IntoIterator<Item = (u32, u64)>) -> Option<u64> {
    caches.into_iter().max().map(|(_, kib)| kib.div_ceil(1024))
}

/// A sysfs cache size such as `32768K`, `48K` or `2M`, in KiB.
pub fn cache_size_kib(text: &str) -> Option<u64> {
    let t = text.trim();
    let (num, scale) = match t.as_bytes().last()? {
        b'K' => (&t[..t.len() - 1], 1),
        b'M' => (&t[..t.len() - 1], 1024),
        b'G' => (&t[..t.len() - 1], 1024 * 1024),
        b'0'..=b'9' => (t, 0),
        _ => return None,
    };
    let n: u64 = num.parse().ok()?;
    Some(if scale == 0 {
        n.div_ceil(1024)
    } else {
        n * scale
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn sysfs(entries: &[(u32, &str, &str)]) -> HashMap<String, String> {
        let mut m = HashMap::new();
        for (i, (level, kind, size)) in entries.iter().enumerate() {
            let base = format!("{SYSFS_CACHE_DIR}/index{i}");
            m.insert(format!("{base}/level"), format!("{level}\n"));
            m.insert(format!("{base}/type"), format!("{kind}\n"));
            m.insert(format!("{base}/size"), format!("{size}\n"));
        }
        m
    }

    #[test]
    fn the_highest_data_or_unified_level_is_the_llc() {
        let m = sysfs(&[
            (1, "Data", "48K"),
            (1, "Instruction", "64K"),
            (2, "Unified", "2048K"),
            (3, "Unified", "32768K"),
        ]);
        assert_eq!(llc_mib_from(|p| m.get(p).cloned()), Some(32));
        // No L3: the L2 is the last level; an instruction cache never is.
        let m = sysfs(&[(1, "Instruction", "8192K"), (2, "Unified", "1536K")]);
        assert_eq!(llc_mib_from(|p| m.get(p).cloned()), Some(2));
        assert_eq!(llc_mib_from(|_| None), None);
    }

    #[test]
    fn the_llc_is_the_highest_level_then_the_largest_rounded_up() {
        // Two L3 slices of different sizes (a hybrid CPU): the larger one.
        assert_eq!(
            llc_mib_of([(2, 2048), (3, 12 * 1024), (3, 30 * 1024)]),
            Some(30)
        );
        // A 1.5 MiB L2 as the last level is 2 MiB, as sysfs's reading says.
        assert_eq!(llc_mib_of([(1, 48), (2, 1536)]), Some(2));
        assert_eq!(llc_mib_of([]), None);
    }

    #[test]
    fn sizes_read_in_their_units() {
        assert_eq!(cache_size_kib("491520K\n"), Some(491_520));
        assert_eq!(cache_size_kib("2M"), Some(2048));
        assert_eq!(cache_size_kib("1G"), Some(1 << 20));
        assert_eq!(cache_size_kib("4096"), Some(4));
        assert_eq!(cache_size_kib("big"), None);
        assert_eq!(cache_size_kib(""), None);
    }

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
