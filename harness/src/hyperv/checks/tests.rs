//! The checks and the order of changes on inspected states: a ready VM, one that
//! needs every fix, a saved one, hosts too old or of the wrong vendor.

use super::*;
use crate::doctor::Status;
use crate::hyperv::{Adapter, HostFacts, VmFacts};

fn ready() -> Inspect {
    Inspect {
        host: HostFacts {
            computer: "HV1".into(),
            caption: "Microsoft Windows Server 2022 Datacenter".into(),
            build: 20348,
            cpu_vendor: "GenuineIntel".into(),
            cpu_name: "Intel(R) Xeon(R)".into(),
            max_config_version: Some("10.0".into()),
        },
        vm: VmFacts {
            name: "nb1".into(),
            state: "Off".into(),
            version: "10.0".into(),
            expose_virtualization_extensions: true,
            processor_count: 4,
            dynamic_memory: false,
            startup_bytes: 8 << 30,
            checkpoint_type: "Disabled".into(),
            automatic_checkpoints: Some(false),
            adapters: vec![Adapter {
                name: "Network Adapter".into(),
                mac_spoofing: "On".into(),
                switch: "External".into(),
            }],
            guest_os: None,
        },
    }
}

fn needs_everything() -> Inspect {
    let mut i = ready();
    i.vm = VmFacts {
        state: "Running".into(),
        version: "7.1".into(),
        expose_virtualization_extensions: false,
        processor_count: 1,
        dynamic_memory: true,
        startup_bytes: 1 << 30,
        checkpoint_type: "Production".into(),
        automatic_checkpoints: Some(true),
        adapters: vec![
            Adapter {
                name: "Network Adapter".into(),
                mac_spoofing: "Off".into(),
                switch: "External".into(),
            },
            Adapter {
                name: "Second".into(),
                mac_spoofing: "Off".into(),
                switch: "Internal".into(),
            },
        ],
        ..i.vm
    };
    i
}

fn failed(f: &[Finding]) -> Vec<&str> {
    f.iter()
        .filter(|f| f.check.status == Status::Fail)
        .map(|f| f.check.name.as_str())
        .collect()
}

#[test]
fn a_ready_vm_passes_everything_and_plans_nothing() {
    let f = judge(&ready(), Wanted::default());
    assert!(failed(&f).is_empty(), "{f:?}");
    assert_eq!(plan(&f, false), Ok(vec![]));
    // Running is fine when nothing needs changing.
    let mut running = ready();
    running.vm.state = "Running".into();
    assert!(failed(&judge(&running, Wanted::default())).is_empty());
}

#[test]
fn a_vm_that_needs_every_fix_gets_them_in_hyperv_s_order() {
    let f = judge(&needs_everything(), Wanted::default());
    assert_eq!(
        failed(&f),
        [
            "configuration version",
            "VM state",
            "virtualization extensions",
            "virtual processors",
            "dynamic memory",
            "startup memory",
            "MAC address spoofing on 'Network Adapter'",
            "MAC address spoofing on 'Second'",
            "checkpoints",
            "automatic checkpoints",
        ]
    );
    assert_eq!(
        plan(&f, true).unwrap(),
        [
            Step::TurnOff,
            Step::UpdateVersion,
            Step::ExposeVirtualizationExtensions,
            Step::ProcessorCount(2),
            Step::DynamicMemoryOff,
            Step::StartupMemory(4 << 30),
            Step::MacSpoofingOn,
            Step::CheckpointsOff,
            Step::AutomaticCheckpointsOff,
        ]
    );
    assert!(matches!(plan(&f, false), Err(Blocked::NeedsTurnOff(_))));
    // Each ✘ says the exact PowerShell.
    let fix = |name: &str| {
        f.iter()
            .find(|x| x.check.name == name)
            .and_then(|x| x.check.fix.clone())
            .unwrap()
    };
    assert_eq!(fix("VM state"), "Stop-VM -Name 'nb1' -TurnOff -Force");
    assert_eq!(
        fix("virtualization extensions"),
        "Set-VMProcessor -VMName 'nb1' -ExposeVirtualizationExtensions $true"
    );
    assert_eq!(
        fix("startup memory"),
        "Set-VMMemory -VMName 'nb1' -StartupBytes 4GB"
    );
    assert!(fix("configuration version").starts_with("Update-VMVersion -Name 'nb1' -Force"));
    // --memory-gb moves the bar.
    let f8 = judge(
        &ready(),
        Wanted {
            memory_gb: 16,
            vcpus: 2,
        },
    );
    assert_eq!(failed(&f8), ["startup memory"]);
}

#[test]
fn a_saved_vm_has_its_state_discarded_first() {
    let mut i = ready();
    i.vm.state = "Saved".into();
    i.vm.dynamic_memory = true;
    let f = judge(&i, Wanted::default());
    assert_eq!(failed(&f), ["VM state", "dynamic memory"]);
    assert_eq!(
        plan(&f, true).unwrap(),
        [Step::DiscardSavedState, Step::DynamicMemoryOff]
    );
    let state = f.iter().find(|x| x.check.name == "VM state").unwrap();
    assert_eq!(
        state.check.fix.as_deref(),
        Some("Remove-VMSavedState -VMName 'nb1'")
    );
}

#[test]
fn hosts_that_cannot_nest_are_refused_with_what_they_need() {
    let mut amd = ready();
    amd.host.cpu_vendor = "AuthenticAMD".into();
    amd.host.build = 17763; // Windows Server 2019
    amd.host.max_config_version = Some("9.0".into());
    amd.vm.version = "9.0".into();
    let f = judge(&amd, Wanted::default());
    assert_eq!(failed(&f)[..2], ["host", "configuration version"]);
    let host = &f[0].check;
    assert!(
        host.detail.contains("build 17763 on AMD-V"),
        "{}",
        host.detail
    );
    assert!(
        host.detail.contains("Windows Server 2022 / Windows 11"),
        "{}",
        host.detail
    );
    assert!(matches!(plan(&f, true), Err(Blocked::Unfixable(w)) if w.starts_with("host:")));
    // The same build on Intel nests; 9.0 is enough there.
    let mut intel = amd.clone();
    intel.host.cpu_vendor = "GenuineIntel".into();
    assert!(failed(&judge(&intel, Wanted::default())).is_empty());
    let mut other = ready();
    other.host.cpu_vendor = "CentaurHauls".into();
    let f = judge(&other, Wanted::default());
    assert_eq!(f.len(), 1);
    assert!(matches!(plan(&f, true), Err(Blocked::Unfixable(_))));
}

#[test]
fn names_are_quoted_for_powershell() {
    assert_eq!(quote("it's"), "'it''s'");
    assert_eq!(
        Step::TurnOff.powershell("a $b"),
        "Stop-VM -Name 'a $b' -TurnOff -Force"
    );
}
