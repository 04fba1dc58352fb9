//! What the CPU itself says about virtualization, for `info` on every OS: the
//! hypervisor's vendor signature, whether VT-x/AMD-V is visible, the brand string, and
//! Hyper-V's partition privileges. CPUID is the one source both agents share, and
//! under a hypervisor it shows what that hypervisor chose to expose.

#[cfg(target_arch = "x86_64")]
fn cpuid(leaf: u32) -> core::arch::x86_64::CpuidResult {
    // SAFETY: CPUID exists on every x86-64 CPU (the intrinsic is safe since Rust 1.84,
    // hence the allow for older toolchains).
    #[allow(unused_unsafe)]
    unsafe {
        core::arch::x86_64::__cpuid(leaf)
    }
}

/// The vendor signature of CPUID leaf 0x40000000, read only when CPUID.1:ECX bit 31
/// (hypervisor present) is set.
#[cfg(target_arch = "x86_64")]
pub fn hypervisor() -> Option<String> {
    if cpuid(1).ecx & (1 << 31) == 0 {
        return None;
    }
    let hv = cpuid(0x4000_0000);
    let sig = ascii(&[hv.ebx, hv.ecx, hv.edx]);
    Some(if sig.is_empty() {
        "unknown".into()
    } else {
        sig
    })
}

/// No hypervisor signature off x86-64.
#[cfg(not(target_arch = "x86_64"))]
pub fn hypervisor() -> Option<String> {
    None
}

/// The registers' bytes as text, NULs and surrounding blanks removed.
#[cfg(target_arch = "x86_64")]
fn ascii(regs: &[u32]) -> String {
    let bytes: Vec<u8> = regs.iter().flat_map(|r| r.to_le_bytes()).collect();
    String::from_utf8_lossy(&bytes)
        .trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .into()
}

/// The processor brand string (leaves 0x80000002–4), when the CPU has one.
#[cfg(all(windows, target_arch = "x86_64"))]
pub fn brand() -> Option<String> {
    if cpuid(0x8000_0000).eax < 0x8000_0004 {
        return None;
    }
    let regs: Vec<u32> = (0x8000_0002..=0x8000_0004)
        .flat_map(|l| {
            let r = cpuid(l);
            [r.eax, r.ebx, r.ecx, r.edx]
        })
        .collect();
    Some(ascii(&regs)).filter(|s| !s.is_empty())
}

/// `vmx` (CPUID.1:ECX bit 5) or `svm` (CPUID.80000001h:ECX bit 2) when the CPU shows
/// them — where /proc/cpuinfo's flags are not available to say it.
#[cfg(all(windows, target_arch = "x86_64"))]
pub fn virt_extensions() -> Option<String> {
    if cpuid(1).ecx & (1 << 5) != 0 {
        return Some("vmx".into());
    }
    let svm = cpuid(0x8000_0000).eax >= 0x8000_0001 && cpuid(0x8000_0001).ecx & (1 << 2) != 0;
    svm.then(|| "svm".into())
}

/// Under Hyper-V (signature `Microsoft Hv`), whether this partition may create
/// partitions — the root partition, which hosts Hyper-V guests: CPUID 0x40000003 EBX
/// bit 0 (the privilege mask's bit 32, CreatePartitions; Hyper-V TLFS). `None` under
/// any other hypervisor or none.
#[cfg(all(windows, target_arch = "x86_64"))]
pub fn hyperv_root_partition(hypervisor: Option<&str>) -> Option<bool> {
    if hypervisor != Some("Microsoft Hv") || cpuid(0x4000_0000).eax < 0x4000_0003 {
        return None;
    }
    Some(cpuid(0x4000_0003).ebx & 1 != 0)
}
