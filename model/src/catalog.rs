//! The metric table: every workload and every metric it yields, declared once.
//!
//! Everything the project knows about a metric lives in its entry here — id, unit,
//! direction, category, the coefficient of variation above which a result is flagged
//! noisy, which layer of the stack it exercises, a one-line description, and the
//! operating systems the agent measures it on. The kernels build their results from it
//! (`workloads::context::Context::result`), the agent announces its ids, the controller
//! validates `--only` against it, reports take categories, noise thresholds and
//! descriptions from it, and the tests check the kernels against it. Adding a metric is
//! one entry here plus its kernel.
//!
//! Noise thresholds follow how steady each family is on an idle machine and what a
//! nested guest's timer and I/O path add: pure computation gives a CV of 1–2 % on a
//! steady host (threshold 5 %); memory bandwidth depends on placement and neighbours
//! (10 %); one exit round trip is reflected through every level (10 %); sleep overshoot
//! and a cross-vCPU wake-up are the scheduler's and the idle loop's latency, inherently
//! wide (20 %); every level adds a virtual disk and its queue (20 %). A noisy result is still reported; the flag widens a reader's
//! doubt.

use std::fmt;

/// The unit a metric is reported in. Its text is the ASCII string results carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Million operations per second.
    MopsPerS,
    /// 10^9 floating-point operations per second.
    GflopPerS,
    /// A dimensionless ratio.
    Times,
    /// 10^9 bytes per second.
    GBPerS,
    /// 10^6 bytes per second.
    MBPerS,
    /// Nanoseconds per dependent load.
    NsPerLoad,
    /// Page faults per second.
    FaultsPerS,
    /// I/O operations per second.
    Iops,
    /// Microseconds.
    Us,
    /// Nanoseconds.
    Ns,
}

impl Unit {
    /// The ASCII unit string of results and reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            Unit::MopsPerS => "Mops/s",
            Unit::GflopPerS => "GFLOP/s",
            Unit::Times => "x",
            Unit::GBPerS => "GB/s",
            Unit::MBPerS => "MB/s",
            Unit::NsPerLoad => "ns/load",
            Unit::FaultsPerS => "faults/s",
            Unit::Iops => "IOPS",
            Unit::Us => "us",
            Unit::Ns => "ns",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Better {
    /// Rates: more is better.
    Higher,
    /// Latencies: less is better.
    Lower,
}

/// A workload's family, which groups it in reports and charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Computation that stays in registers.
    Cpu,
    /// Memory bandwidth, latency and page faults.
    Mem,
    /// The virtual disk stack.
    Disk,
    /// Events that leave the guest or enter its kernel.
    Exit,
    /// The virtual network between a level and its parent.
    Net,
}

impl Category {
    /// All categories, in report order.
    pub const ALL: [Category; 5] = [
        Category::Cpu,
        Category::Mem,
        Category::Disk,
        Category::Exit,
        Category::Net,
    ];

    /// The name used in reports, charts and as the workload id's prefix.
    pub const fn name(self) -> &'static str {
        match self {
            Category::Cpu => "cpu",
            Category::Mem => "mem",
            Category::Disk => "disk",
            Category::Exit => "exit",
            Category::Net => "net",
        }
    }
}

/// The part of a nested stack that a metric exercises: what gets dearer with depth
/// when the figure falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    /// Instructions executed by the vCPU: native speed under hardware virtualization,
    /// translated by TCG under emulation.
    Cpu,
    /// Memory accesses through the level's page tables and every nested page table below
    /// (EPT/NPT), and the caches they share.
    Memory,
    /// The guest kernel's own work (system calls, scheduling, first-touch faults); with
    /// nested paging a new page is also backed by every level below.
    GuestKernel,
    /// The level's clock source and timer interrupts, emulated by the hypervisor below.
    Timer,
    /// Each level's virtual disk, backed by a file on its parent's.
    VirtualDisk,
    /// A VM exit handled in the kernel part of the hypervisor below (KVM), reflected
    /// through every level when nested.
    HypervisorKernel,
    /// A VM exit the kernel part cannot handle, passed on to the user-space VMM of the
    /// level below (QEMU, Firecracker): a trip through that level's kernel and a process
    /// of its own, on top of the exit itself.
    UserVmm,
    /// The level's virtual NIC and its parent's network backend (QEMU user networking
    /// copies every byte through the parent's own sockets).
    VirtualNetwork,
}

impl Layer {
    /// Every layer, from the vCPU itself to the user-space VMM below: the order in which
    /// reports group metrics by layer.
    pub const ALL: [Layer; 8] = [
        Layer::Cpu,
        Layer::Memory,
        Layer::GuestKernel,
        Layer::Timer,
        Layer::VirtualDisk,
        Layer::HypervisorKernel,
        Layer::UserVmm,
        Layer::VirtualNetwork,
    ];

    /// What this layer is, in one line: the group headings of charts and the metric
    /// descriptions of the HTML reports.
    pub const fn about(self) -> &'static str {
        match self {
            Layer::Cpu => "instructions run by the vCPU: native under hardware virtualization, translated under TCG",
            Layer::Memory => "memory accesses through this level's page tables and every nested page table below",
            Layer::GuestKernel => "the guest kernel's own work: system calls, scheduling, first-touch faults",
            Layer::Timer => "the level's clock source and timer interrupts, emulated by the hypervisor below",
            Layer::VirtualDisk => "each level's virtual disk, backed by a file on its parent's",
            Layer::HypervisorKernel => "a VM exit handled by the kernel part of the hypervisor below (KVM)",
            Layer::UserVmm => "a VM exit passed on to the user-space VMM below (QEMU)",
            Layer::VirtualNetwork => "the level's virtual NIC and its parent's network backend (QEMU user networking)",
        }
    }

    /// Short name for tables and charts.
    pub const fn name(self) -> &'static str {
        match self {
            Layer::Cpu => "cpu",
            Layer::Memory => "memory",
            Layer::GuestKernel => "guest kernel",
            Layer::Timer => "timer",
            Layer::VirtualDisk => "virtual disk",
            Layer::HypervisorKernel => "hypervisor (kernel)",
            Layer::UserVmm => "VMM (user space)",
            Layer::VirtualNetwork => "virtual network",
        }
    }
}

/// Operating systems the agent exists for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Os {
    /// The static Linux agent.
    Linux,
    /// The self-contained Windows agent, `nestbench-agent.exe` (docs/windows.md).
    Windows,
}

impl Os {
    /// Lower-case name, as docs and messages write it.
    pub const fn name(self) -> &'static str {
        match self {
            Os::Linux => "linux",
            Os::Windows => "windows",
        }
    }
}

impl fmt::Display for Os {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One metric of a workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricDef {
    /// Metric id within its workload, e.g. `triad`.
    pub name: &'static str,
    /// Unit of its samples.
    pub unit: Unit,
    /// Which way is better.
    pub better: Better,
    /// Coefficient of variation above which a result is flagged noisy.
    pub noise_cv: f64,
    /// The part of the stack it exercises.
    pub layer: Layer,
    /// What it measures, in one line.
    pub about: &'static str,
}

impl MetricDef {
    /// Whether larger values are better.
    pub const fn higher_is_better(&self) -> bool {
        matches!(self.better, Better::Higher)
    }
}

/// One workload: an id, its metrics in the order it reports them, and what it needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkloadDef {
    /// Id, e.g. `mem.stream`; its prefix is the category's name.
    pub id: &'static str,
    /// Family in reports.
    pub category: Category,
    /// Whether it writes files under the scratch directory.
    pub uses_disk: bool,
    /// Operating systems the agent measures it on.
    pub os: &'static [Os],
    /// What it does, in one line.
    pub about: &'static str,
    /// Its metrics, in the order the kernel reports them.
    pub metrics: &'static [MetricDef],
}

impl WorkloadDef {
    /// The metric called `name`.
    pub fn metric(&self, name: &str) -> Option<&'static MetricDef> {
        // Entries are 'static: look the workload up again to hand out 'static refs.
        WORKLOADS
            .iter()
            .find(|w| w.id == self.id)
            .and_then(|w| w.metrics.iter().find(|m| m.name == name))
    }
}

/// CV threshold for a metric the catalog does not know.
pub const DEFAULT_NOISE_CV: f64 = 0.10;

mod table;
pub use table::WORKLOADS;

/// The workload with this id.
pub fn workload(id: &str) -> Option<&'static WorkloadDef> {
    WORKLOADS.iter().find(|w| w.id == id)
}

/// The workload and metric entry of `workload/metric`.
pub fn metric(workload_id: &str, name: &str) -> Option<(&'static WorkloadDef, &'static MetricDef)> {
    let w = workload(workload_id)?;
    w.metrics.iter().find(|m| m.name == name).map(|m| (w, m))
}

/// The level a workload's figures are compared with: L0 for everything measured on the
/// host as at every level, L1 for the network, whose L0 figure is loopback (no parent
/// to talk to) — a reference, not the same path.
pub fn reference_level(workload_id: &str) -> crate::Level {
    match workload(workload_id).map(|w| w.category) {
        Some(Category::Net) => crate::Level(1),
        _ => crate::Level::HOST,
    }
}

/// [`reference_level`] of a category, by its name (`net` → L1, others and unknown
/// names → L0).
pub fn category_reference(category: &str) -> crate::Level {
    if category == Category::Net.name() {
        crate::Level(1)
    } else {
        crate::Level::HOST
    }
}

/// Every workload id, in run order.
pub fn ids() -> impl Iterator<Item = &'static str> {
    WORKLOADS.iter().map(|w| w.id)
}

/// Category name of a workload id: the catalog's, else the id's prefix (a newer agent
/// may report workloads this build does not know).
pub fn category_name(workload_id: &str) -> String {
    match workload(workload_id) {
        Some(w) => w.category.name().to_string(),
        None => workload_id
            .split('.')
            .next()
            .unwrap_or(workload_id)
            .to_string(),
    }
}

/// The catalog as the Markdown table README.md shows (a test keeps them equal).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| workload | metric | unit | better | layer | what it measures |\n|---|---|---|---|---|---|\n",
    );
    for w in WORKLOADS {
        for (i, m) in w.metrics.iter().enumerate() {
            let id = if i == 0 { w.id } else { "" };
            let better = if m.higher_is_better() {
                "higher"
            } else {
                "lower"
            };
            out.push_str(&format!(
                "| {id} | `{}` | {} | {better} | {} | {} |\n",
                m.name,
                m.unit,
                m.layer.name(),
                m.about
            ));
        }
    }
    out
}

/// A `--only` list naming a workload the catalog does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown workload {0:?}; valid ids: {valid}", valid = ids().collect::<Vec<_>>().join(","))]
pub struct UnknownWorkload(pub String);

/// The workloads a `--only` list names, in suite order (all when `None`).
pub fn select(only: Option<&[String]>) -> Result<Vec<&'static WorkloadDef>, UnknownWorkload> {
    let Some(only) = only else {
        return Ok(WORKLOADS.iter().collect());
    };
    if let Some(bad) = only.iter().find(|id| workload(id).is_none()) {
        return Err(UnknownWorkload(bad.clone()));
    }
    Ok(WORKLOADS
        .iter()
        .filter(|w| only.iter().any(|o| o == w.id))
        .collect())
}

#[cfg(test)]
mod tests;
