//! Command lines and kernel options, on specs built here (the deep-level rules that
//! decide a spec's tuning are tested in `nesting`).

use super::*;

fn spec(machine: Machine) -> LaunchSpec {
    LaunchSpec {
        qemu: "qemu-system-x86_64".into(),
        level: 2,
        accel: Accel::Kvm,
        machine,
        vcpus: 2,
        memory_mib: 2048,
        kernel: "/mnt/vmlinuz".into(),
        initrd: "/mnt/initrd.img".into(),
        port: 40002,
        chain: "/dev/vda".into(),
        scratch: "/dev/vdb".into(),
        agent_disk: Some("/dev/vdc".into()),
        scratch_region: (4096 << 20, Some(8192 << 20)),
        cache: CacheMode::Direct,
        forward_addr: "10.0.2.15".into(),
        forward_ports: vec![40002, 40003],
        net_port: None,
        host_key: "/run/nestbench/L2.host_key".into(),
        authorized_keys: "/run/nestbench/authorized_keys".into(),
        serial: "/run/nestbench/L2.console.log".into(),
        pidfile: Some("/run/nestbench/L2.pid".into()),
        log: Some("/run/nestbench/L2.qemu.log".into()),
        extra: vec!["-no-hpet".into()],
        deep: DeepTuning::default(),
    }
}

fn after<'a>(argv: &'a [String], flag: &str) -> Vec<&'a str> {
    argv.windows(2)
        .filter(|w| w[0] == flag)
        .map(|w| w[1].as_str())
        .collect()
}

#[test]
fn microvm_level_inside_a_guest() {
    let CommandLine { argv, tuning } = build(&spec(Machine::Microvm));
    assert_eq!(after(&argv, "-accel"), ["kvm"]);
    assert_eq!(after(&argv, "-cpu"), ["host"]);
    assert!(after(&argv, "-M")[0].starts_with("microvm"));
    let drives = after(&argv, "-drive");
    assert!(drives[0].contains("file=/dev/vda") && drives[0].contains("readonly=on"));
    assert!(drives[1].contains("cache=none,aio=native"));
    assert!(drives[1].contains(&format!("offset={}", 4096u64 << 20)));
    assert!(drives[1].contains(&format!("size={}", 8192u64 << 20)));
    let net = after(&argv, "-netdev")[0];
    assert!(net.contains("restrict=on"));
    assert!(net.contains("hostfwd=tcp:10.0.2.15:40003-:40003"));
    assert!(after(&argv, "-device").iter().all(|d| !d.contains("pci")));
    assert!(argv.ends_with(&["-no-hpet".to_string()]));
    assert!(argv.contains(&"-daemonize".to_string()));
    // A daemonized QEMU's stderr (why it exits) must not go to /dev/null.
    assert_eq!(after(&argv, "-D"), ["/run/nestbench/L2.qemu.log"]);
    let append = after(&argv, "-append")[0];
    assert!(
        append.contains("loglevel=1"),
        "a panic must reach the console"
    );
    assert!(append.contains("nestbench.port=40002") && append.contains("pci=off"));
    assert!(
        !append.contains("mitigations=off"),
        "never applied silently"
    );
    assert!(tuning.contains(&"tsc=reliable".to_string()));
    assert!(tuning.iter().any(|t| t.contains("-no-hpet")));
}

#[test]
fn pc_level_on_the_host() {
    let mut s = spec(Machine::Pc);
    s.accel = Accel::Tcg;
    s.pidfile = None;
    s.log = None;
    s.extra.clear();
    s.scratch_region = (0, None);
    s.forward_addr = "127.0.0.1".into();
    let CommandLine { argv, tuning } = build(&s);
    assert_eq!(after(&argv, "-cpu"), ["max"]);
    assert_eq!(after(&argv, "-bios"), ["qboot.rom"]);
    assert!(!after(&argv, "-drive")[1].contains("offset"));
    assert!(after(&argv, "-netdev")[0].contains("hostfwd=tcp:127.0.0.1:40002-:40002"));
    assert!(!argv.contains(&"-daemonize".to_string()));
    assert!(tuning.is_empty(), "{tuning:?}");
}

#[test]
fn a_periodic_tick_becomes_kernel_options_and_tuning() {
    let mut s = spec(Machine::Microvm);
    s.deep.periodic_tick = true;
    let CommandLine { argv, tuning } = build(&s);
    let append = after(&argv, "-append")[0];
    assert!(append.contains("lapic=notscdeadline highres=off nohz=off"));
    assert!(tuning.contains(&"nohz=off".to_string()));
    assert!(tuning.iter().any(|t| t.contains("min_timer_period_us")));
    assert!(!kernel_cmdline(&spec(Machine::Microvm))
        .line
        .contains("nohz"));
}

#[test]
fn a_column_level_and_its_pinned_child_become_options_and_tuning() {
    let mut s = spec(Machine::Microvm);
    s.deep.child_cpu = true;
    s.deep.boot_one_cpu = true;
    let CommandLine { argv, tuning } = build(&s);
    let append = after(&argv, "-append")[0];
    assert!(append.contains("nohz_full=1") && append.contains("maxcpus=1"));
    assert!(tuning.contains(&"nohz_full=1".to_string()));
    assert!(append.contains("isolcpus=1") && tuning.contains(&"isolcpus=1".to_string()));
    assert!(tuning.iter().any(|t| t.starts_with("maxcpus=1")));
    let mut s = spec(Machine::Microvm);
    s.deep.pinned = true;
    let CommandLine { argv, tuning } = build(&s);
    assert_eq!(after(&argv, "-name"), ["L2,debug-threads=on"]);
    assert!(tuning.contains(&"vcpu 1 pinned to L1 CPU 1".to_string()));
}

#[test]
fn the_net_port_is_forwarded_from_the_parents_loopback_alone() {
    let mut s = spec(Machine::Microvm);
    s.net_port = Some(41000);
    let argv = build(&s).argv;
    let net = after(&argv, "-netdev")[0];
    assert!(net.contains("hostfwd=tcp:127.0.0.1:41000-:41000"), "{net}");
    assert!(!net.contains("10.0.2.15:41000"), "{net}");
    assert!(net.contains("restrict=on"), "{net}");
}
