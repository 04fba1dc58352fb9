//! The only wiring between workload ids and kernels. The ids, their metrics and their
//! order come from the metric catalog (`model::catalog`); this table adds the function
//! that runs each one, and a test checks that both list the same workloads in the same
//! order.

use crate::context::{Context, RunError};
use crate::kernels::{cpu, ctxswitch, disk, exit, hypercall, ipi, mem, net, pagefault, pio};
use model::catalog::{self, WorkloadDef};
use model::WorkloadResult;

type Kernel = fn(&Context) -> Result<Vec<WorkloadResult>, RunError>;

/// One runnable workload: its catalog entry and the kernel that measures it.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// The catalog entry: id, metrics, whether it uses the disk.
    pub def: &'static WorkloadDef,
    run: Kernel,
}

impl Workload {
    /// Its id, e.g. `mem.stream`.
    pub fn id(&self) -> &'static str {
        self.def.id
    }

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
                Err(RunError::Other(format!("{} crashed: {why}", self.def.id)))
            }
        }
    }
}

/// The kernel of each workload id.
const KERNELS: &[(&str, Kernel)] = &[
    ("cpu.int", cpu::cpu_int),
    ("cpu.fp", cpu::cpu_fp),
    ("cpu.mt", cpu::cpu_mt),
    ("mem.stream", mem::stream),
    ("mem.latency", mem::latency),
    ("mem.pagefault", pagefault::pagefault),
    ("disk.seq", disk::seq),
    ("disk.rand", disk::rand),
    ("disk.fsync", disk::fsync),
    ("exit.cpuid", exit::cpuid),
    ("exit.pio", pio::pio),
    ("exit.hypercall", hypercall::hypercall),
    ("exit.syscall", exit::syscall),
    ("exit.ctxswitch", ctxswitch::ctxswitch),
    ("exit.ipi", ipi::ipi),
    ("exit.timer", exit::timer),
    ("net.tcp", net::tcp),
];

/// Every workload of the catalog with its kernel, in suite order.
pub fn all() -> Vec<Workload> {
    catalog::WORKLOADS
        .iter()
        .map(|def| Workload {
            def,
            run: KERNELS
                .iter()
                .find(|(id, _)| *id == def.id)
                .map(|(_, k)| *k)
                .unwrap_or_else(|| panic!("no kernel for catalog workload {}", def.id)),
        })
        .collect()
}

/// The workload with this id.
pub fn find(id: &str) -> Option<Workload> {
    all().into_iter().find(|w| w.def.id == id)
}

/// The workloads a `--only` list names, in suite order; an unknown id is an error
/// that names the valid ones.
pub fn select(only: Option<&[String]>) -> Result<Vec<Workload>, catalog::UnknownWorkload> {
    let chosen = catalog::select(only)?;
    Ok(all()
        .into_iter()
        .filter(|w| chosen.iter().any(|d| d.id == w.def.id))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_workload_has_exactly_one_kernel_in_the_same_order() {
        let kernels: Vec<_> = KERNELS.iter().map(|(id, _)| *id).collect();
        let catalog: Vec<_> = catalog::ids().collect();
        assert_eq!(kernels, catalog);
        assert_eq!(all().len(), catalog.len());
    }
}
