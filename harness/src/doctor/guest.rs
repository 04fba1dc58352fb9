//! In-guest checks, run over SSH as each level comes up: can this level host the next
//! one under KVM (svm/vmx visible, kvm module loaded, /dev/kvm usable)?

use super::Check;
use crate::remote::Remote;
use std::time::Duration;

/// Shell probe: prints `flag=<svm|vmx|>`, `kvm=<yes|no>`, `nested=<value|>`.
pub const PROBE: &str = "f=$(grep -oEm1 '\\b(svm|vmx)\\b' /proc/cpuinfo | head -n1); echo flag=$f; \
[ -c /dev/kvm ] && echo kvm=yes || echo kvm=no; \
echo nested=$(cat /sys/module/kvm_amd/parameters/nested /sys/module/kvm_intel/parameters/nested 2>/dev/null | head -n1)";

/// Judge the probe output of level `name`, which must host a child under `accel`.
pub fn judge(name: &str, probe_out: &str, child_accel: &str) -> Vec<Check> {
    let get = |k: &str| {
        probe_out
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let (flag, kvm, nested) = (get("flag"), get("kvm"), get("nested"));
    let need_kvm = child_accel == "kvm";
    let mut out = vec![];
    out.push(if !flag.is_empty() {
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
    out.push(if kvm == "yes" {
        Check::pass(&format!("{name} /dev/kvm"), format!("present (nested={})", if nested.is_empty() { "?" } else { &nested }))
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
        let c = judge("L2", "flag=svm\nkvm=yes\nnested=1\n", "kvm");
        assert!(c.iter().all(|c| c.status == Status::Pass), "{c:?}");
    }

    #[test]
    fn missing_kvm_fails_only_when_the_child_needs_it() {
        let c = judge("L3", "flag=\nkvm=no\nnested=\n", "kvm");
        assert_eq!(c.iter().filter(|c| c.status == Status::Fail).count(), 2);
        assert!(c[0].fix.as_ref().unwrap().contains("--accel tcg"));
        let c = judge("L3", "flag=\nkvm=no\nnested=\n", "tcg");
        assert!(c.iter().all(|c| c.status == Status::Warn));
    }

    #[test]
    fn the_probe_runs_on_this_host() {
        let out = crate::remote::local::LocalRemote::default()
            .exec(PROBE, Duration::from_secs(10))
            .unwrap();
        assert!(
            out.stdout.contains("flag=") && out.stdout.contains("kvm="),
            "{}",
            out.stdout
        );
    }
}
