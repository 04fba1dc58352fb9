//! Facts about the machine (or guest) a level runs on, as `nestbench-agent info`
//! reports them. Gathering them is the agent's job; this is only the shape.

use serde::{Deserialize, Serialize};

/// What a level looks like from inside: enough to say what was measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostInfo {
    /// CPU model string from /proc/cpuinfo.
    pub cpu_model: String,
    /// Online vCPUs.
    pub vcpus: u32,
    /// Total memory in MiB.
    pub memory_mib: u64,
    /// Kernel release (`uname -r`).
    pub kernel: String,
    /// Host name.
    pub hostname: String,
    /// Hypervisor vendor signature from CPUID leaf 0x40000000 (e.g. `KVMKVMKVM`,
    /// `TCGTCGTCGTCG`, `Microsoft Hv`), or `None` when no hypervisor bit is set.
    pub hypervisor: Option<String>,
    /// `svm` or `vmx` when the CPU shows virtualization extensions, else `None`.
    pub virt_extensions: Option<String>,
    /// Whether /dev/kvm can be opened and answers KVM_GET_API_VERSION.
    pub kvm_usable: bool,
}
