//! Every branch of the host checks on simulated hosts, and the real one.

use super::*;
use crate::doctor::{any_failed, Status};

fn probe() -> HostProbe {
    HostProbe {
        qemu: Some((
            "/usr/bin/qemu-system-x86_64".into(),
            "QEMU emulator version 7.2.19".into(),
        )),
        virt: Virt {
            flag: None,
            kvm: true,
        },
        kvm_nested: None,
        mem_available_mib: 22_000,
        cpus: 2,
    }
}

fn ok_budget() -> Budget {
    Ok(vec![(6144, 2), (3072, 2), (1536, 1)])
}

#[test]
fn pvm_host_explains_tcg_at_l1_and_passes() {
    let c = checks(&probe(), 3, &ok_budget());
    assert!(!any_failed(&c), "{c:?}");
    let kvm = c.iter().find(|c| c.name == "KVM").unwrap();
    assert_eq!(kvm.status, Status::Warn);
    assert!(kvm.detail.contains("cannot run a stock guest"));
    assert!(kvm.detail.contains("TCG with -cpu max"));
}

#[test]
fn four_levels_over_tcg_announce_the_deep_level_tuning_and_three_do_not() {
    let c = checks(&probe(), 4, &ok_budget());
    assert!(!any_failed(&c), "{c:?}");
    let deep = c.iter().find(|c| c.name == "deep levels").unwrap();
    assert_eq!(deep.status, Status::Warn);
    assert!(
        deep.detail
            .starts_with("L4 will be 3+ KVM levels above TCG"),
        "{}",
        deep.detail
    );
    assert!(deep.detail.contains("(L3 keeps CPU 1"), "{}", deep.detail);
    let three = checks(&probe(), 3, &ok_budget());
    assert!(three.iter().all(|c| c.name != "deep levels"));
    let mut hw = probe();
    hw.virt.flag = Some(VirtFlag::Svm);
    hw.kvm_nested = Some(("kvm_amd".into(), "1".into()));
    assert!(checks(&hw, 4, &ok_budget())
        .iter()
        .all(|c| c.name != "deep levels"));
    let five = checks(&probe(), 5, &ok_budget());
    let d5 = five.iter().find(|c| c.name == "deep levels").unwrap();
    assert!(
        d5.detail.starts_with("L4+ will be") && d5.detail.contains("(L3–L4 keep CPU 1"),
        "{}",
        d5.detail
    );
}

#[test]
fn missing_qemu_fails_with_the_package_to_install() {
    let mut p = probe();
    p.qemu = None;
    let c = checks(&p, 2, &ok_budget());
    assert!(any_failed(&c));
    let q = c.iter().find(|c| c.name == "qemu-system-x86_64").unwrap();
    assert!(q
        .fix
        .as_ref()
        .unwrap()
        .contains("apt-get install --no-install-recommends qemu-system-x86"));
}

#[test]
fn too_small_budget_fails_with_the_flags_to_pass() {
    let c = checks(
        &probe(),
        4,
        &Err(PlanError::TooDeep {
            depth: 4,
            l1_mib: 900,
            need_mib: 2048,
        }),
    );
    let b = c
        .iter()
        .find(|c| c.name == "memory and vCPU budget")
        .unwrap();
    assert_eq!(b.status, Status::Fail);
    assert!(b.fix.as_ref().unwrap().contains("--memory"));
}

#[test]
fn hardware_host_with_nesting_off_fails_with_the_modprobe_line() {
    let mut p = probe();
    p.virt.flag = Some(VirtFlag::Vmx);
    p.kvm_nested = Some(("kvm_intel".into(), "N".into()));
    let c = checks(&p, 2, &ok_budget());
    let n = c.iter().find(|c| c.name == "kvm nested").unwrap();
    assert_eq!(n.status, Status::Fail);
    assert!(n
        .fix
        .as_ref()
        .unwrap()
        .contains("options kvm_intel nested=1"));
    p.kvm_nested = Some(("kvm_intel".into(), "Y".into()));
    assert!(!any_failed(&checks(&p, 2, &ok_budget())));
}

#[test]
fn zero_levels_needs_nothing() {
    let mut p = probe();
    p.qemu = None;
    assert!(!any_failed(&checks(&p, 0, &ok_budget())));
}

#[test]
fn the_real_host_probe_reads_something() {
    let p = HostProbe::read(None);
    assert!(p.cpus >= 1);
    assert!(p.mem_available_mib > 0);
}
