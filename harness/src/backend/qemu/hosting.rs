//! Can a measured level start the next QEMU level the way the run asks? Judged from
//! what the level's own agent reported in `info` (svm/vmx visible, /dev/kvm usable),
//! so it costs no SSH round trip: the launch of the child asks the parent again, in the
//! same command that starts it, and picks KVM or TCG from that answer.
//!
//! Under `--accel auto` a level without KVM can always host a child (under TCG); under
//! `--accel tcg` every level can; under `--accel kvm` a level without svm/vmx or without
//! a usable /dev/kvm cannot, and its children are skipped with the fix.

use crate::cli::AccelArg;
use model::rundoc::Hosting;
use model::{HostInfo, Level};

/// The verdict for `level`, whose agent reported `info`, under `requested`.
pub fn verdict(requested: AccelArg, level: Level, info: &HostInfo) -> Hosting {
    let virt = info.virt_extensions.as_deref();
    let kvm = info.kvm_usable;
    let found = match (virt, kvm) {
        (Some(v), true) => format!("{v} visible and /dev/kvm usable"),
        (Some(v), false) => format!("{v} visible but /dev/kvm not usable"),
        (None, true) => "/dev/kvm usable but no svm/vmx visible".to_string(),
        (None, false) => "neither svm nor vmx visible, no usable /dev/kvm".to_string(),
    };
    let kvm_ready = virt.is_some() && kvm;
    match requested {
        AccelArg::Tcg => Hosting {
            can_host: true,
            detail: format!("{found}; its child runs under TCG (--accel tcg)"),
        },
        AccelArg::Auto => Hosting {
            can_host: true,
            detail: if kvm_ready {
                format!("{found}: its child can run under KVM")
            } else {
                format!("{found}: its child runs under TCG")
            },
        },
        AccelArg::Kvm if kvm_ready => Hosting {
            can_host: true,
            detail: format!("{found}: its child can run under KVM"),
        },
        AccelArg::Kvm => Hosting {
            can_host: false,
            detail: format!(
                "{found} inside {level}, so its child cannot use KVM; fix: start {level} with -cpu host (KVM parent) or -cpu max (TCG parent) and load kvm_amd/kvm_intel with nested=1 in its image, or use --accel auto or tcg"
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(virt: Option<&str>, kvm: bool) -> HostInfo {
        HostInfo {
            virt_extensions: virt.map(str::to_string),
            kvm_usable: kvm,
            ..HostInfo::default()
        }
    }

    #[test]
    fn only_forced_kvm_refuses_a_level_without_kvm() {
        let none = info(None, false);
        assert!(verdict(AccelArg::Auto, Level(2), &none).can_host);
        assert!(verdict(AccelArg::Tcg, Level(2), &none).can_host);
        let v = verdict(AccelArg::Kvm, Level(2), &none);
        assert!(!v.can_host);
        assert!(
            v.detail.contains("inside L2") && v.detail.contains("--accel auto"),
            "{}",
            v.detail
        );
        assert!(!verdict(AccelArg::Kvm, Level(1), &info(Some("svm"), false)).can_host);
        assert!(verdict(AccelArg::Kvm, Level(1), &info(Some("vmx"), true)).can_host);
    }
}
