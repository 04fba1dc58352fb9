//! The suite's workloads, in the order they run. The controller validates `--only`
//! against [`ids`] before any VM starts.

/// Workload ids of DESIGN §5, in run order.
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
