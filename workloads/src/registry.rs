//! The suite's workloads, in the order they run, with the metrics each one yields
//! (DESIGN §5). The controller validates `--only` against [`ids`] before any VM
//! starts; the agent runs them through [`WORKLOADS`], the only wiring between ids and
//! kernels.

use crate::context::{Context, RunError};
use crate::kernels::{cpu, ctxswitch, disk, exit, mem, pagefault};
use crate::WorkloadResult;

/// One workload: its id, the metrics it reports and the function that runs it.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// Id, e.g. `mem.stream`.
    pub id: &'static str,
    /// Metric ids it reports, in order.
    pub metrics: &'static [&'static str],
    /// Whether it writes files under the scratch directory.
    pub uses_disk: bool,
    run: fn(&Context) -> Result<Vec<WorkloadResult>, RunError>,
}

impl Workload {
    /// Runs the workload; a panic inside it becomes an error too.
    pub fn run(&self, ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.run)(ctx))) {
            Ok(r) => r,
            Err(p) => {
                let why = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                Err(RunError::Other(format!("{} crashed: {why}", self.id)))
            }
        }
    }
}

const fn w(
    id: &'static str,
    metrics: &'static [&'static str],
    uses_disk: bool,
    run: fn(&Context) -> Result<Vec<WorkloadResult>, RunError>,
) -> Workload {
    Workload {
        id,
        metrics,
        uses_disk,
        run,
    }
}

/// All workloads, in suite order.
pub const WORKLOADS: &[Workload] = &[
    w("cpu.int", &["ops"], false, cpu::cpu_int),
    w("cpu.fp", &["flops"], false, cpu::cpu_fp),
    w("cpu.mt", &["ops", "scaling"], false, cpu::cpu_mt),
    w(
        "mem.stream",
        &["copy", "scale", "add", "triad"],
        false,
        mem::stream,
    ),
    w("mem.latency", &["latency"], false, mem::latency),
    w("mem.pagefault", &["rate"], false, pagefault::pagefault),
    w("disk.seq", &["write", "read"], true, disk::seq),
    w(
        "disk.rand",
        &["read_iops", "write_iops", "read_p99"],
        true,
        disk::rand,
    ),
    w("disk.fsync", &["latency"], true, disk::fsync),
    w("exit.cpuid", &["latency"], false, exit::cpuid),
    w("exit.syscall", &["latency"], false, exit::syscall),
    w("exit.ctxswitch", &["latency"], false, ctxswitch::ctxswitch),
    w(
        "exit.timer",
        &["clock_gettime", "sleep_overshoot"],
        false,
        exit::timer,
    ),
];

/// Workload ids of DESIGN §5, in run order (the same order as [`WORKLOADS`]).
pub const IDS: [&str; 13] = [
    "cpu.int",
    "cpu.fp",
    "cpu.mt",
    "mem.stream",
    "mem.latency",
    "mem.pagefault",
    "disk.seq",
    "disk.rand",
    "disk.fsync",
    "exit.cpuid",
    "exit.syscall",
    "exit.ctxswitch",
    "exit.timer",
];

/// Every workload id, in run order.
pub fn ids() -> &'static [&'static str] {
    &IDS
}

/// The workload with this id.
pub fn find(id: &str) -> Option<&'static Workload> {
    WORKLOADS.iter().find(|w| w.id == id)
}

/// The workloads a `--only` list names, in suite order; an unknown id is an error
/// that names the valid ones.
pub fn select(only: Option<&[String]>) -> Result<Vec<&'static Workload>, String> {
    let Some(only) = only else {
        return Ok(WORKLOADS.iter().collect());
    };
    if let Some(bad) = only.iter().find(|id| find(id).is_none()) {
        return Err(format!(
            "unknown workload {bad:?}; valid ids: {}",
            ids().join(",")
        ));
    }
    Ok(WORKLOADS
        .iter()
        .filter(|w| only.iter().any(|o| o == w.id))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_selection_keeps_suite_order() {
        let order: Vec<_> = WORKLOADS.iter().map(|w| w.id).collect();
        assert_eq!(order, IDS);
        let mut v = ids().to_vec();
        v.sort();
        v.dedup();
        assert_eq!(v.len(), WORKLOADS.len());
        let only = vec!["exit.syscall".to_string(), "cpu.int".to_string()];
        let sel: Vec<_> = select(Some(&only)).unwrap().iter().map(|w| w.id).collect();
        assert_eq!(sel, ["cpu.int", "exit.syscall"]);
        let err = select(Some(&["nope".to_string()])).unwrap_err();
        assert!(err.contains("cpu.int") && err.contains("nope"));
    }
}
