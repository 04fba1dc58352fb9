//! `nestbench-agent info`: the facts about this level that say what was measured —
//! CPU model, vCPUs, memory, kernel, which hypervisor (if any) the CPU reports, whether
//! it offers svm/vmx, whether /dev/kvm actually works (it exists but is unusable on
//! some hosts, e.g. PVM), and the last-level cache its sysfs shows.

use model::HostInfo;

/// KVM_GET_API_VERSION, `_IO(0xAE, 0x00)`.
const KVM_GET_API_VERSION: libc::c_ulong = 0xAE00;
/// The only KVM API version there has ever been.
const KVM_API_VERSION: i32 = 12;

/// Gathers everything; what cannot be read is left empty rather than failing.
pub fn gather() -> HostInfo {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let (kernel, hostname) = uname();
    HostInfo {
        cpu_model: field(&cpuinfo, "model name")
            .unwrap_or("unknown")
            .to_string(),
        vcpus: online_cpus(),
        memory_mib: meminfo_kib(&meminfo, "MemTotal").unwrap_or(0) / 1024,
        kernel,
        hostname,
        hypervisor: crate::cpuid::hypervisor(),
        virt_extensions: virt_extensions(&cpuinfo),
        kvm_usable: kvm_usable(),
        llc_mib: own_llc_mib(),
        windows: None,
    }
}

/// The last-level cache this machine's sysfs shows, MiB.
pub fn own_llc_mib() -> Option<u64> {
    model::info::llc_mib_from(|p| std::fs::read_to_string(p).ok())
}

/// The first value of `key` in a `key : value` file such as /proc/cpuinfo.
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim())
    })
}

/// A `Key: N kB` line of /proc/meminfo, in KiB.
pub fn meminfo_kib(text: &str, key: &str) -> Option<u64> {
    field(text, key)?.split_whitespace().next()?.parse().ok()
}

/// `svm` or `vmx` when the first CPU's flags show them.
fn virt_extensions(cpuinfo: &str) -> Option<String> {
    let flags = field(cpuinfo, "flags")?;
    ["svm", "vmx"]
        .into_iter()
        .find(|f| flags.split_whitespace().any(|x| x == *f))
        .map(String::from)
}

fn online_cpus() -> u32 {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if n > 0 {
        n as u32
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
    }
}

fn uname() -> (String, String) {
    // SAFETY: uname fills the zeroed struct; its fields are NUL-terminated.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return ("unknown".into(), "unknown".into());
        }
        let s = |f: &[libc::c_char]| {
            std::ffi::CStr::from_ptr(f.as_ptr())
                .to_string_lossy()
                .into_owned()
        };
        (s(&u.release), s(&u.nodename))
    }
}

/// /dev/kvm opens read-write and answers KVM_GET_API_VERSION with 12.
fn kvm_usable() -> bool {
    // SAFETY: open/ioctl/close on a descriptor this function owns.
    unsafe {
        let fd = libc::open(c"/dev/kvm".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
        if fd < 0 {
            return false;
        }
        let v = libc::ioctl(fd, KVM_GET_API_VERSION as _, 0);
        libc::close(fd);
        v == KVM_API_VERSION
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proc_style_fields() {
        let cpu = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse svm\n";
        assert_eq!(field(cpu, "model name"), Some("AMD EPYC"));
        assert_eq!(virt_extensions(cpu).as_deref(), Some("svm"));
        assert_eq!(virt_extensions("flags : fpu svmx"), None);
        assert_eq!(
            meminfo_kib("MemTotal:  2048000 kB\n", "MemTotal"),
            Some(2_048_000)
        );
        assert_eq!(meminfo_kib("", "MemTotal"), None);
    }
}
