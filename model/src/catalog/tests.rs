//! The catalog's own invariants.

use super::*;

#[test]
fn ids_and_metric_names_are_unique_and_prefixed_by_their_category() {
    let mut ids: Vec<_> = ids().collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n);
    for w in WORKLOADS {
        assert!(
            w.id.starts_with(&format!("{}.", w.category.name())),
            "{}",
            w.id
        );
        let mut names: Vec<_> = w.metrics.iter().map(|m| m.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), w.metrics.len(), "{}", w.id);
        for m in w.metrics {
            assert!(m.noise_cv > 0.0 && m.noise_cv < 1.0, "{}/{}", w.id, m.name);
            assert!(!m.about.is_empty() && m.unit.as_str().is_ascii());
        }
    }
}

#[test]
fn selection_keeps_suite_order_and_names_the_valid_ids() {
    let only = vec!["exit.syscall".to_string(), "cpu.int".to_string()];
    let sel: Vec<_> = select(Some(&only)).unwrap().iter().map(|w| w.id).collect();
    assert_eq!(sel, ["cpu.int", "exit.syscall"]);
    let err = select(Some(&["nope".to_string()])).unwrap_err().to_string();
    assert!(err.contains("cpu.int") && err.contains("nope"), "{err}");
}

#[test]
fn unknown_workloads_fall_back_to_their_prefix() {
    assert_eq!(category_name("mem.stream"), "mem");
    assert_eq!(category_name("gpu.copy"), "gpu");
    assert_eq!(metric("disk.rand", "read_p99").unwrap().1.unit, Unit::Us);
    assert!(metric("disk.rand", "nope").is_none());
}

#[test]
fn the_linux_agent_measures_everything_and_windows_all_but_ring_0_probes() {
    assert!(WORKLOADS.iter().all(|w| w.os.contains(&Os::Linux)));
    let not_on_windows: Vec<_> = WORKLOADS
        .iter()
        .filter(|w| !w.os.contains(&Os::Windows))
        .map(|w| w.id)
        .collect();
    // Port I/O needs IOPL or an I/O bitmap and a hypercall ring 0 under Hyper-V:
    // neither is given to a Windows user-mode process (docs/windows.md).
    assert_eq!(not_on_windows, ["exit.pio", "exit.hypercall"]);
    assert_eq!(Os::Windows.to_string(), "windows");
}
