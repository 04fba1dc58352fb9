//! The entries of the metric catalog: every workload and metric nestbench measures,
//! in suite order. Types and lookups are in the parent module.

use super::{Better, Category, Layer, MetricDef, Os, Unit, WorkloadDef};

/// Measured by both agents.
const EVERY_OS: &[Os] = &[Os::Linux, Os::Windows];
/// Measured by the Linux agent only: the Windows agent reports these as not applicable
/// (docs/windows.md says why for each).
const LINUX_ONLY: &[Os] = &[Os::Linux];

const fn m(
    name: &'static str,
    unit: Unit,
    better: Better,
    noise_cv: f64,
    layer: Layer,
    about: &'static str,
) -> MetricDef {
    MetricDef {
        name,
        unit,
        better,
        noise_cv,
        layer,
        about,
    }
}

use Better::{Higher, Lower};

/// Every workload, in the order a suite runs them.
pub const WORKLOADS: &[WorkloadDef] = &[
    WorkloadDef {
        id: "cpu.int",
        category: Category::Cpu,
        uses_disk: false,
        os: EVERY_OS,
        about: "integer work on one thread that stays in registers",
        metrics: &[m("ops", Unit::MopsPerS, Higher, 0.05, Layer::Cpu,
            "xorshift, multiply-add and a data-dependent branch on four 64-bit chains, per second")],
    },
    WorkloadDef {
        id: "cpu.fp",
        category: Category::Cpu,
        uses_disk: false,
        os: EVERY_OS,
        about: "double-precision multiply and add on one thread",
        metrics: &[m("flops", Unit::GflopPerS, Higher, 0.05, Layer::Cpu,
            "f64 multiplies and adds on 16 accumulators (no FMA), per second")],
    },
    WorkloadDef {
        id: "cpu.mt",
        category: Category::Cpu,
        uses_disk: false,
        os: EVERY_OS,
        about: "the cpu.int kernel on every vCPU at once",
        metrics: &[
            m("ops", Unit::MopsPerS, Higher, 0.05, Layer::Cpu,
                "integer operations per second summed over all vCPUs"),
            m("scaling", Unit::Times, Higher, 0.05, Layer::Cpu,
                "all-vCPU rate over the one-thread rate: whether the level's vCPUs really run in parallel"),
        ],
    },
    WorkloadDef {
        id: "mem.stream",
        category: Category::Mem,
        uses_disk: false,
        os: EVERY_OS,
        about: "STREAM's four kernels over three arrays, one slice per vCPU",
        metrics: &[
            m("copy", Unit::GBPerS, Higher, 0.10, Layer::Memory, "c = a, bytes moved per second"),
            m("scale", Unit::GBPerS, Higher, 0.10, Layer::Memory, "b = q·c, bytes moved per second"),
            m("add", Unit::GBPerS, Higher, 0.10, Layer::Memory, "c = a + b, bytes moved per second"),
            m("triad", Unit::GBPerS, Higher, 0.10, Layer::Memory, "a = b + q·c, bytes moved per second"),
        ],
    },
    WorkloadDef {
        id: "mem.latency",
        category: Category::Mem,
        uses_disk: false,
        os: EVERY_OS,
        about: "pointer chasing through a random cycle of cache lines",
        metrics: &[m("latency", Unit::NsPerLoad, Lower, 0.10, Layer::Memory,
            "time per dependent load over a buffer far larger than the caches (TLB misses and nested page walks show)")],
    },
    WorkloadDef {
        id: "mem.pagefault",
        category: Category::Mem,
        uses_disk: false,
        os: EVERY_OS,
        about: "first touch of fresh anonymous memory, one 4 KiB fault per page",
        metrics: &[m("rate", Unit::FaultsPerS, Higher, 0.10, Layer::GuestKernel,
            "minor faults per second; with nested paging each new page is also backed by every level below")],
    },
    WorkloadDef {
        id: "disk.seq",
        category: Category::Disk,
        uses_disk: true,
        os: EVERY_OS,
        about: "sequential 256 KiB blocks over a file on the level's scratch disk (O_DIRECT where possible)",
        metrics: &[
            m("write", Unit::MBPerS, Higher, 0.20, Layer::VirtualDisk, "sequential write bandwidth"),
            m("read", Unit::MBPerS, Higher, 0.20, Layer::VirtualDisk, "sequential read bandwidth"),
        ],
    },
    WorkloadDef {
        id: "disk.rand",
        category: Category::Disk,
        uses_disk: true,
        os: EVERY_OS,
        about: "4 KiB random reads and writes over a file on the level's scratch disk",
        metrics: &[
            m("read_iops", Unit::Iops, Higher, 0.20, Layer::VirtualDisk, "random 4 KiB reads per second"),
            m("write_iops", Unit::Iops, Higher, 0.20, Layer::VirtualDisk, "random 4 KiB writes per second"),
            m("read_p99", Unit::Us, Lower, 0.20, Layer::VirtualDisk, "99th percentile of one random read"),
        ],
    },
    WorkloadDef {
        id: "disk.fsync",
        category: Category::Disk,
        uses_disk: true,
        os: EVERY_OS,
        about: "a 4 KiB overwrite followed by fsync, the pattern of a database commit",
        metrics: &[m("latency", Unit::Us, Lower, 0.20, Layer::VirtualDisk,
            "time until one small write is durable through every virtual disk")],
    },
    WorkloadDef {
        id: "exit.cpuid",
        category: Category::Exit,
        uses_disk: false,
        os: EVERY_OS,
        about: "the CPUID instruction, which always exits under VT-x/AMD-V",
        metrics: &[m("latency", Unit::Ns, Lower, 0.10, Layer::HypervisorKernel,
            "one CPUID: a VM exit handled by the hypervisor below (inline, without an exit, under TCG)")],
    },
    WorkloadDef {
        id: "exit.pio",
        category: Category::Exit,
        uses_disk: false,
        os: LINUX_ONLY,
        about: "a one-byte write to I/O port 0x80, the POST port Linux itself writes as an I/O delay",
        metrics: &[m("latency", Unit::Ns, Lower, 0.10, Layer::UserVmm,
            "one OUT to port 0x80: an I/O exit passed on to the user-space VMM below (plus a syscall with /dev/port)")],
    },
    WorkloadDef {
        id: "exit.hypercall",
        category: Category::Exit,
        uses_disk: false,
        os: LINUX_ONLY,
        about: "VMCALL/VMMCALL from user space with a hypercall number no hypervisor implements",
        metrics: &[m("latency", Unit::Ns, Lower, 0.10, Layer::HypervisorKernel,
            "one hypercall the hypervisor below refuses (-KVM_EPERM): the bare exit and return, without CPUID's emulation")],
    },
    WorkloadDef {
        id: "exit.syscall",
        category: Category::Exit,
        uses_disk: false,
        os: EVERY_OS,
        about: "getppid(2) issued with syscall(2), so neither libc nor the vDSO can answer it",
        metrics: &[m("latency", Unit::Ns, Lower, 0.10, Layer::GuestKernel,
            "one round trip into the guest kernel and back")],
    },
    WorkloadDef {
        id: "exit.ctxswitch",
        category: Category::Exit,
        uses_disk: false,
        os: EVERY_OS,
        about: "two threads on one CPU ping-pong one byte over pipes",
        metrics: &[m("latency", Unit::Ns, Lower, 0.10, Layer::GuestKernel,
            "one one-way context switch (half a round trip)")],
    },
    WorkloadDef {
        id: "exit.ipi",
        category: Category::Exit,
        uses_disk: false,
        os: EVERY_OS,
        about: "two threads on two vCPUs wake each other through futexes, each waiting halted",
        metrics: &[m("latency", Unit::Ns, Lower, 0.20, Layer::HypervisorKernel,
            "one round trip of two cross-vCPU wake-ups: an interprocessor interrupt each way to a vCPU halted in the hypervisor below")],
    },
    WorkloadDef {
        id: "exit.timer",
        category: Category::Exit,
        uses_disk: false,
        os: EVERY_OS,
        about: "reading the clock, and how late a short sleep wakes",
        metrics: &[
            m("clock_gettime", Unit::Ns, Lower, 0.20, Layer::Timer,
                "one clock_gettime(CLOCK_MONOTONIC) through the level's clock source"),
            m("sleep_overshoot", Unit::Us, Lower, 0.20, Layer::Timer,
                "how much later than asked a 1 ms sleep returns: timer interrupt delivery through every level"),
        ],
    },
    WorkloadDef {
        id: "net.tcp",
        category: Category::Net,
        uses_disk: false,
        os: EVERY_OS,
        about: "TCP between the level and its parent over the level's virtual network (at L0: loopback, a reference)",
        metrics: &[
            m("send", Unit::MBPerS, Higher, 0.20, Layer::VirtualNetwork,
                "stream throughput from the level to its parent"),
            m("receive", Unit::MBPerS, Higher, 0.20, Layer::VirtualNetwork,
                "stream throughput from the parent to the level"),
            m("rr_p50", Unit::Us, Lower, 0.20, Layer::VirtualNetwork,
                "median round trip of a 1-byte request and its 1-byte answer"),
            m("rr_p99", Unit::Us, Lower, 0.30, Layer::VirtualNetwork,
                "99th percentile of that round trip"),
        ],
    },
];
