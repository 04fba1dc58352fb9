//! Whether a machine can run a KVM guest: its CPU shows `svm` or `vmx` and /dev/kvm is
//! there. The QEMU backend asks it to pick each level's acceleration (the host for
//! L1, the parent over SSH for deeper levels) and the doctor asks the same question to
//! judge a host or a booted level, so both read the answer with the same code: one
//! parser of /proc/cpuinfo flags, one shell probe and one parser of its output.

use std::fmt;

/// The hardware virtualization extension a CPU shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VirtFlag {
    /// AMD-V.
    Svm,
    /// Intel VT-x.
    Vmx,
}

impl VirtFlag {
    /// The flag as /proc/cpuinfo spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            VirtFlag::Svm => "svm",
            VirtFlag::Vmx => "vmx",
        }
    }

    /// The kvm module that drives it (and has the `nested` parameter).
    pub fn kvm_module(self) -> &'static str {
        match self {
            VirtFlag::Svm => "kvm_amd",
            VirtFlag::Vmx => "kvm_intel",
        }
    }

    fn from_word(w: &str) -> Option<VirtFlag> {
        match w {
            "svm" => Some(VirtFlag::Svm),
            "vmx" => Some(VirtFlag::Vmx),
            _ => None,
        }
    }
}

impl fmt::Display for VirtFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The virtualization extension in /proc/cpuinfo's first `flags` line, as a whole
/// word (`svm_lock` is not `svm`; the `vmx flags` line does not count); `svm` wins if
/// both were there. [`PROBE`] decides the same way in the shell.
pub fn cpu_flag(cpuinfo: &str) -> Option<VirtFlag> {
    let words: Vec<&str> = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))?
        .split_whitespace()
        .collect();
    [VirtFlag::Svm, VirtFlag::Vmx]
        .into_iter()
        .find(|f| words.contains(&f.as_str()))
}

/// What a machine shows for running KVM guests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Virt {
    /// `svm` or `vmx` in its CPU flags.
    pub flag: Option<VirtFlag>,
    /// /dev/kvm is usable (on the host: opens read-write and answers
    /// KVM_GET_API_VERSION; in a guest: the device node exists).
    pub kvm: bool,
}

impl Virt {
    /// Whether a stock guest kernel can run under KVM here: both the CPU flag and
    /// /dev/kvm.
    pub fn kvm_capable(&self) -> bool {
        self.flag.is_some() && self.kvm
    }

    /// This host, read from /proc/cpuinfo and /dev/kvm.
    pub fn host() -> Result<Virt, HostVirtError> {
        let cpuinfo = std::fs::read_to_string(CPUINFO).map_err(|error| HostVirtError { error })?;
        Ok(Virt {
            flag: cpu_flag(&cpuinfo),
            kvm: host_kvm_works(),
        })
    }
}

const CPUINFO: &str = "/proc/cpuinfo";

/// /proc/cpuinfo could not be read, so nobody can tell whether KVM would work.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {CPUINFO} ({error}): mount /proc, which tells whether L1 can run under KVM")]
pub struct HostVirtError {
    /// Why the read failed.
    pub error: std::io::Error,
}

/// Whether this host's /dev/kvm opens read-write and answers KVM_GET_API_VERSION = 12.
pub fn host_kvm_works() -> bool {
    use std::os::fd::AsRawFd;
    let Ok(f) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
    else {
        return false;
    };
    const KVM_GET_API_VERSION: libc::c_ulong = 0xAE00;
    // SAFETY: KVM_GET_API_VERSION takes no argument and only returns an int.
    let v = unsafe { libc::ioctl(f.as_raw_fd(), KVM_GET_API_VERSION as _, 0) };
    v == 12
}

/// Shell that asks a machine (a guest, over SSH) what [`Virt`] asks the host, plus
/// the kvm `nested` parameter: prints `virt=<svm|vmx|>`, `kvm=<yes|no>` and
/// `nested=<value|>`, and leaves `$nb_virt` and `$nb_kvm` set for [`PROBE_KVM_CAPABLE`].
/// The flag is found as [`cpu_flag`] finds it; one `grep` is its only child process
/// (every process costs at a deep level).
pub const PROBE: &str = "nb_flags=$(grep -m1 '^flags' /proc/cpuinfo); \
     case \" $nb_flags \" in *' svm '*) nb_virt=svm;; *' vmx '*) nb_virt=vmx;; *) nb_virt=;; esac; \
     echo virt=$nb_virt; \
     if [ -c /dev/kvm ]; then nb_kvm=yes; else nb_kvm=no; fi; echo kvm=$nb_kvm; \
     nb_nested=; for nb_f in /sys/module/kvm_amd/parameters/nested /sys/module/kvm_intel/parameters/nested; do \
     [ -r $nb_f ] && read -r nb_nested < $nb_f && break; done; echo nested=$nb_nested; ";

/// Shell condition, after [`PROBE`]: true where [`Virt::kvm_capable`] is.
pub const PROBE_KVM_CAPABLE: &str = "[ -n \"$nb_virt\" ] && [ \"$nb_kvm\" = yes ]";

/// What [`PROBE`] printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probed {
    /// The CPU flag and /dev/kvm.
    pub virt: Virt,
    /// `kvm_amd`/`kvm_intel` `nested` (`1`, `Y`, `0`, `N`), when a module is loaded.
    pub nested: Option<String>,
}

/// Parse [`PROBE`]'s lines out of `out` (other lines are ignored). A line that is
/// missing reads as "not shown".
pub fn parse_probe(out: &str) -> Probed {
    let get = |k: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(k)?.strip_prefix('='))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    Probed {
        virt: Virt {
            flag: get("virt").and_then(VirtFlag::from_word),
            kvm: get("kvm") == Some("yes"),
        },
        nested: get("nested").map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTEL: &str = "processor\t: 0\nflags\t\t: fpu vme vmx sse\nvmx flags\t: vnmi ept\n";
    const AMD_LOCK_ONLY: &str = "flags\t\t: fpu sse lm svm_lock\n";
    const AMD_LAST: &str = "flags\t\t: fpu sse lm svm\nbugs\t\t: sysret_ss_attrs\n";

    #[test]
    fn flags_are_whole_words_of_the_flags_line() {
        assert_eq!(cpu_flag(INTEL), Some(VirtFlag::Vmx));
        assert_eq!(cpu_flag(AMD_LOCK_ONLY), None);
        assert_eq!(cpu_flag(AMD_LAST), Some(VirtFlag::Svm));
        assert_eq!(cpu_flag("vmx flags\t: ept\n"), None);
        assert_eq!(cpu_flag(""), None);
        assert_eq!(VirtFlag::Vmx.kvm_module(), "kvm_intel");
    }

    #[test]
    fn reads_the_probe_answer_and_tolerates_other_lines() {
        let p = parse_probe("virt=svm\nkvm=yes\nnested=1\nQEMU emulator version 7.2\n");
        assert_eq!(p.virt.flag, Some(VirtFlag::Svm));
        assert!(p.virt.kvm_capable());
        assert_eq!(p.nested.as_deref(), Some("1"));
        let p = parse_probe("virt=\nkvm=no\nnested=\n");
        assert_eq!(
            p,
            Probed {
                virt: Virt {
                    flag: None,
                    kvm: false
                },
                nested: None
            }
        );
        // Nothing printed (the probe did not run): nothing shown.
        assert!(!parse_probe("").virt.kvm_capable());
        // svm without /dev/kvm is not enough.
        assert!(!parse_probe("virt=svm\nkvm=no\n").virt.kvm_capable());
    }

    /// Run [`PROBE`] under `sh` with `cpuinfo` in place of /proc/cpuinfo, then the
    /// shell condition, as the launch does.
    fn probe_with(cpuinfo: &str) -> (Probed, bool) {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("cpuinfo");
        std::fs::write(&f, cpuinfo).unwrap();
        let script = PROBE.replace("/proc/cpuinfo", &f.display().to_string());
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "{script}if {PROBE_KVM_CAPABLE}; then echo pick=kvm; else echo pick=tcg; fi"
            ))
            .output()
            .unwrap();
        let out = String::from_utf8(out.stdout).unwrap();
        (parse_probe(&out), out.contains("pick=kvm"))
    }

    #[test]
    fn the_shell_probe_decides_as_the_cpuinfo_parser_does() {
        for cpuinfo in [INTEL, AMD_LOCK_ONLY, AMD_LAST, "", "flags\t: fpu\n"] {
            let (p, picked_kvm) = probe_with(cpuinfo);
            assert_eq!(p.virt.flag, cpu_flag(cpuinfo), "{cpuinfo:?}");
            // The shell's choice and the parsed answer agree, whatever /dev/kvm is.
            assert_eq!(picked_kvm, p.virt.kvm_capable(), "{cpuinfo:?}");
        }
    }

    #[test]
    fn the_probe_runs_on_this_host() {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(PROBE)
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("virt=") && text.contains("kvm="), "{text}");
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
        assert_eq!(parse_probe(&text).virt.flag, cpu_flag(&cpuinfo));
        assert_eq!(
            Virt::host().unwrap().flag,
            cpu_flag(&cpuinfo),
            "the host reads the same"
        );
    }
}
