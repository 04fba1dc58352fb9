//! In-guest checks, run over SSH as each level comes up (`nestbench doctor --boot`):
//! can this level host the next one under KVM (svm/vmx visible, kvm module loaded,
//! /dev/kvm usable)? The question is [`crate::virt::PROBE`], the one the QEMU backend
//! asks a parent before it launches the child.

use super::Check;
use crate::remote::Remote;
use crate::virt::{parse_probe, Probed, PROBE};
use std::time::Duration;

/// Judge the probe output of level `name`, which must host a child under `accel`.
pub fn judge(name: &str, probe_out: &str, child_accel: &str) -> Vec<Check> {
    let Probed { virt, nested } = parse_probe(probe_out);
    let need_kvm = child_accel == "kvm";
    let mut out = vec![];
    out.push(if let Some(flag) = virt.flag {
        Check::pass(&format!("{name} virtualization extensions"), format!("{flag} visible"))
    } else if need_kvm {
        Check::fail(
            &format!("{name} virtualization extensions"),
            "neither svm nor vmx visible inside the guest, so its child cannot use KVM",
            "start this level with -cpu host (KVM parent) or -cpu max (TCG parent), or use --accel tcg",
        )
    } else {
        Check::warn(&format!("{name} virtualization extensions"), "none visible; its child runs under TCG", "none needed")
    });
    out.push(if virt.kvm {
        Check::pass(&format!("{name} /dev/kvm"), format!("present (nested={})", nested.as_deref().unwrap_or("?")))
    } else if need_kvm {
        Check::fail(
            &format!("{name} /dev/kvm"),
            "missing: the kvm modules did not load in the guest",
            "include kvm, kvm_amd/kvm_intel and irqbypass in the guest image and load kvm_amd with nested=1",
        )
    } else {
        Check::warn(&format!("{name} /dev/kvm"), "missing; its child runs under TCG", "none needed")
    });
    out
}

/// Run the probe at a level over `remote` and judge it.
pub fn check_level(
    remote: &mut dyn Remote,
    name: &str,
    child_accel: &str,
    timeout: Duration,
) -> Vec<Check> {
    match remote.exec(PROBE, timeout) {
        Ok(out) => judge(name, &out.stdout, child_accel),
        Err(e) => vec![Check::fail(
            &format!("{name} reachable"),
            e.to_string(),
            "see the level's console log under logs/",
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

    #[test]
    fn a_level_with_svm_and_kvm_can_host_a_kvm_child() {
        let c = judge("L2", "virt=svm\nkvm=yes\nnested=1\n", "kvm");
        assert!(c.iter().all(|c| c.status == Status::Pass), "{c:?}");
    }

    #[test]
    fn missing_kvm_fails_only_when_the_child_needs_it() {
        let c = judge("L3", "virt=\nkvm=no\nnested=\n", "kvm");
        assert_eq!(c.iter().filter(|c| c.status == Status::Fail).count(), 2);
        assert!(c[0].fix.as_ref().unwrap().contains("--accel tcg"));
        let c = judge("L3", "virt=\nkvm=no\nnested=\n", "tcg");
        assert!(c.iter().all(|c| c.status == Status::Warn));
    }
}
