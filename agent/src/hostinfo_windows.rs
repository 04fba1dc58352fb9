//! `nestbench-agent.exe info`: the facts about a Windows level that say what was
//! measured, in the shape the Linux agent reports (`model::HostInfo`) plus what only
//! Windows has (`model::WindowsInfo`): its version and build, and whether it can host
//! Hyper-V guests — the hypervisor's signature, VT-x/AMD-V as the CPU shows them, SLAT,
//! whether this is Hyper-V's root partition, and the state of the Hyper-V role's
//! management service. Like on Linux, what cannot be read is left empty rather than
//! failing.

#[cfg(not(target_arch = "x86_64"))]
compile_error!("nestbench-agent.exe is built for x86-64 Windows only (CPUID)");

use crate::cpuid;
use model::{HostInfo, WindowsInfo};
use std::path::Path;
use windows_sys::Wdk::System::SystemServices::RtlGetVersion;
use windows_sys::Win32::Foundation::{GetLastError, ERROR_SERVICE_DOES_NOT_EXIST};
use windows_sys::Win32::Storage::FileSystem::GetDiskFreeSpaceExW;
use windows_sys::Win32::System::Services::{
    CloseServiceHandle, OpenSCManagerW, OpenServiceW, QueryServiceStatus, SC_MANAGER_CONNECT,
    SERVICE_QUERY_STATUS, SERVICE_STATUS,
};
use windows_sys::Win32::System::SystemInformation::{
    CacheData, CacheUnified, ComputerNameDnsHostname, GetComputerNameExW,
    GetLogicalProcessorInformationEx, GlobalMemoryStatusEx, RelationCache, MEMORYSTATUSEX,
    OSVERSIONINFOEXW, OSVERSIONINFOW, SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX,
};
use windows_sys::Win32::System::Threading::{
    GetActiveProcessorCount, IsProcessorFeaturePresent, ALL_PROCESSOR_GROUPS,
    PF_SECOND_LEVEL_ADDRESS_TRANSLATION, PF_VIRT_FIRMWARE_ENABLED,
};
use workloads::context::Limits;

/// The Hyper-V role's Virtual Machine Management service.
const VMMS: &str = "vmms";

/// Gathers everything; what cannot be read is left empty rather than failing.
pub fn gather() -> HostInfo {
    let v = version();
    let hypervisor = cpuid::hypervisor();
    // The processor-feature flags exist from Windows 8 (6.2) on.
    let since_win8 = (v.dwMajorVersion, v.dwMinorVersion) >= (6, 2);
    let feature = |f| {
        // SAFETY: no preconditions.
        since_win8.then(|| unsafe { IsProcessorFeaturePresent(f) } != 0)
    };
    let windows = WindowsInfo {
        version: format!("{}.{}", v.dwMajorVersion, v.dwMinorVersion),
        build: v.dwBuildNumber,
        product_type: product_type(v.wProductType).into(),
        hyperv_vmms: service_state(VMMS),
        root_partition: cpuid::hyperv_root_partition(hypervisor.as_deref()),
        slat: feature(PF_SECOND_LEVEL_ADDRESS_TRANSLATION),
        virt_firmware_enabled: feature(PF_VIRT_FIRMWARE_ENABLED),
    };
    HostInfo {
        cpu_model: cpuid::brand().unwrap_or_else(|| "unknown".into()),
        // SAFETY: no preconditions.
        vcpus: unsafe { GetActiveProcessorCount(ALL_PROCESSOR_GROUPS) }.max(1),
        memory_mib: memory().map_or(0, |m| m.ullTotalPhys >> 20),
        kernel: format!(
            "{}.{}.{}",
            v.dwMajorVersion, v.dwMinorVersion, v.dwBuildNumber
        ),
        hostname: hostname(),
        hypervisor,
        virt_extensions: cpuid::virt_extensions(),
        kvm_usable: false,
        llc_mib: own_llc_mib(),
        windows: Some(windows),
    }
}

/// What the disk and memory workloads may use: available physical memory and the
/// space free to this user where `dir` is, in MiB, and the last-level cache — `llc_mib`
/// (the controller's `--llc-mib`, L0's) when given, else this machine's — as on Linux.
pub fn limits(dir: &Path, llc_mib: Option<u64>) -> Limits {
    Limits {
        mem_available_mib: memory().map(|m| m.ullAvailPhys >> 20),
        disk_free_mib: free_mib(dir),
        llc_mib: llc_mib.or_else(own_llc_mib),
    }
}

/// The last-level cache GetLogicalProcessorInformationEx(RelationCache) describes, MiB:
/// of its data and unified caches the one of the highest level, the largest when
/// several share it, rounded up — what the Linux agent reads from sysfs
/// (`model::info::llc_mib_of`). `None` when the call fails or describes no cache.
pub fn own_llc_mib() -> Option<u64> {
    type Record = SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX;
    let mut len = 0u32;
    // SAFETY: a null buffer of length 0 only asks for the length needed.
    unsafe { GetLogicalProcessorInformationEx(RelationCache, std::ptr::null_mut(), &mut len) };
    // Room for one whole Record past the last record's start, so each can be read as
    // one; u64s for the records' alignment.
    let words = (len as usize + std::mem::size_of::<Record>()).div_ceil(8);
    let mut buf = vec![0u64; words];
    // SAFETY: a buffer of at least `len` bytes, as asked for; len becomes what was written.
    let ok = unsafe {
        GetLogicalProcessorInformationEx(RelationCache, buf.as_mut_ptr().cast(), &mut len)
    };
    if ok == 0 {
        return None;
    }
    let (mut caches, mut at) = (Vec::new(), 0usize);
    while at + 8 <= len as usize {
        // SAFETY: `at` is a record's start within the `len` bytes written, and the
        // buffer holds a whole Record past it (zeroed where the record is shorter).
        let r: Record = unsafe {
            buf.as_ptr()
                .cast::<u8>()
                .add(at)
                .cast::<Record>()
                .read_unaligned()
        };
        if r.Size == 0 {
            break;
        }
        if r.Relationship == RelationCache {
            // SAFETY: a RelationCache record's union is its CACHE_RELATIONSHIP.
            let c = unsafe { r.Anonymous.Cache };
            if c.Type == CacheData || c.Type == CacheUnified {
                caches.push((u32::from(c.Level), u64::from(c.CacheSize).div_ceil(1024)));
            }
        }
        at += r.Size as usize;
    }
    model::info::llc_mib_of(caches)
}

/// The real version: RtlGetVersion, unlike GetVersionEx, does not pretend to be
/// Windows 8 to an executable without a compatibility manifest.
fn version() -> OSVERSIONINFOEXW {
    // SAFETY: a zeroed struct with its size set, filled by ntdll.
    unsafe {
        let mut v: OSVERSIONINFOEXW = std::mem::zeroed();
        v.dwOSVersionInfoSize = std::mem::size_of::<OSVERSIONINFOEXW>() as u32;
        RtlGetVersion((&mut v as *mut OSVERSIONINFOEXW).cast::<OSVERSIONINFOW>());
        v
    }
}

/// RtlGetVersion's wProductType in words (VER_NT_*).
fn product_type(t: u8) -> &'static str {
    match t {
        1 => "workstation",
        2 => "domain controller",
        3 => "server",
        _ => "unknown",
    }
}

fn memory() -> Option<MEMORYSTATUSEX> {
    // SAFETY: a zeroed struct with its length set.
    unsafe {
        let mut m: MEMORYSTATUSEX = std::mem::zeroed();
        m.dwLength = std::mem::size_of::<MEMORYSTATUSEX>() as u32;
        (GlobalMemoryStatusEx(&mut m) != 0).then_some(m)
    }
}

fn free_mib(dir: &Path) -> Option<u64> {
    let w = wide(dir.as_os_str());
    let mut free = 0u64;
    // SAFETY: a NUL-terminated path; the totals it does not need may be null.
    let ok = unsafe {
        GetDiskFreeSpaceExW(
            w.as_ptr(),
            &mut free,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    (ok != 0).then_some(free >> 20)
}

fn hostname() -> String {
    let mut buf = [0u16; 256];
    let mut len = buf.len() as u32;
    // SAFETY: a buffer of `len` UTF-16 units; len is updated to what was written.
    if unsafe { GetComputerNameExW(ComputerNameDnsHostname, buf.as_mut_ptr(), &mut len) } == 0 {
        return "unknown".into();
    }
    String::from_utf16_lossy(&buf[..len as usize])
}

/// The state of service `name` as the service control manager reports it, in words.
fn service_state(name: &str) -> String {
    let name = wide(std::ffi::OsStr::new(name));
    // SAFETY: handles opened here are closed here; SERVICE_STATUS is filled by the SCM.
    unsafe {
        let scm = OpenSCManagerW(std::ptr::null(), std::ptr::null(), SC_MANAGER_CONNECT);
        if scm.is_null() {
            return format!(
                "unknown: the service control manager refused ({})",
                std::io::Error::last_os_error()
            );
        }
        let svc = OpenServiceW(scm, name.as_ptr(), SERVICE_QUERY_STATUS);
        let state = if svc.is_null() {
            if GetLastError() == ERROR_SERVICE_DOES_NOT_EXIST {
                "not installed".to_string()
            } else {
                format!("unknown: {}", std::io::Error::last_os_error())
            }
        } else {
            let mut st: SERVICE_STATUS = std::mem::zeroed();
            let s = if QueryServiceStatus(svc, &mut st) != 0 {
                state_name(st.dwCurrentState).to_string()
            } else {
                format!("unknown: {}", std::io::Error::last_os_error())
            };
            CloseServiceHandle(svc);
            s
        };
        CloseServiceHandle(scm);
        state
    }
}

/// SERVICE_STATUS.dwCurrentState in words.
fn state_name(state: u32) -> &'static str {
    match state {
        1 => "stopped",
        2 => "start pending",
        3 => "stop pending",
        4 => "running",
        5 => "continue pending",
        6 => "pause pending",
        7 => "paused",
        _ => "unknown",
    }
}

fn wide(s: &std::ffi::OsStr) -> Vec<u16> {
    use std::os::windows::ffi::OsStrExt;
    s.encode_wide().chain(Some(0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_codes_read_as_words() {
        assert_eq!(product_type(3), "server");
        assert_eq!(product_type(9), "unknown");
        assert_eq!(state_name(4), "running");
        assert_eq!(state_name(1), "stopped");
    }
}
