//! What a workload is given to run with: timing, resolved working-set sizes, the
//! scratch directory and the machine's limits, plus the error type workloads return
//! and the helpers that turn samples into [`WorkloadResult`]s.
//!
//! Sizes are the controller's call (the same at every level, see [`model::sizes`]);
//! only sizes it did *not* give are fitted here, with the controller's own rule
//! ([`model::sizes::fit`]) applied to this machine: the memory working sets at least
//! 4× its last-level cache where a quarter of its available memory allows, so a bare
//! `nestbench-agent run` measures memory rather than cache and still works in a
//! 256 MiB guest.

use crate::timing::Timing;
use model::sizes::{fit, Room};
use model::{catalog, MetricId, Sizes, Suite, WorkloadResult};
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// Working-set sizes in MiB after defaults were applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedSizes {
    /// Total of the three STREAM arrays.
    pub stream_mib: u64,
    /// Pointer-chasing buffer of mem.latency.
    pub latency_mib: u64,
    /// Anonymous memory first-touched per mem.pagefault region.
    pub pagefault_mib: u64,
    /// File size of disk.seq and disk.rand.
    pub disk_mib: u64,
    /// What the controller passed (the rest are defaults).
    pub given: Sizes,
}

/// What the machine can spare and the cache its working sets must get past, as far as
/// the caller knows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// MemAvailable in MiB.
    pub mem_available_mib: Option<u64>,
    /// Free space where the scratch directory lives, in MiB.
    pub disk_free_mib: Option<u64>,
    /// The last-level cache, MiB: L0's when the controller passed it (`--llc-mib`),
    /// else this machine's own. Recorded in the memory workloads' params.
    pub llc_mib: Option<u64>,
}

impl ResolvedSizes {
    /// Fills what `given` lacks with [`model::sizes::fit`] on this machine's room: a
    /// quarter of the available memory per working set, a quarter of the free disk for
    /// the file, and `limits.llc_mib`. Given sizes are used as they are.
    pub fn resolve(given: Sizes, suite: Suite, limits: Limits) -> Self {
        let room = Room {
            memory_mib: limits.mem_available_mib.map(|m| m / 4),
            disk_mib: limits.disk_free_mib.map(|f| f / 4),
            llc_mib: limits.llc_mib,
        };
        let s = given.or(fit(suite, room).sizes);
        let v = |x: Option<u64>| x.expect("fit sets every size");
        ResolvedSizes {
            stream_mib: v(s.stream_mib),
            latency_mib: v(s.latency_mib),
            pagefault_mib: v(s.pagefault_mib),
            disk_mib: v(s.disk_mib),
            given,
        }
    }
}

/// Everything a workload runs with.
#[derive(Debug, Clone)]
pub struct Context {
    /// Warm-up, per-sample budget and sample count.
    pub timing: Timing,
    /// Working-set sizes.
    pub sizes: ResolvedSizes,
    /// Directory where disk workloads make their own subdirectory (must exist).
    pub dir: PathBuf,
    /// Threads for the all-vCPU workloads.
    pub threads: usize,
    /// What the machine can spare.
    pub limits: Limits,
    /// Where net.tcp finds its peer.
    pub net: NetLink,
    /// A prepared file one disk workload leaves for the next (`kernels::disk`).
    pub disk_file: Handover,
}

/// Something one workload leaves for a later one of the same run, taken at most once:
/// disk.seq's prepared file, which disk.rand would otherwise write again — at L4 the
/// longest setup of the suite, twice. Shared, so the context stays cloneable.
#[derive(Clone, Default)]
pub struct Handover(std::sync::Arc<std::sync::Mutex<Option<Box<dyn std::any::Any + Send>>>>);

impl std::fmt::Debug for Handover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handover")
    }
}

impl Handover {
    /// Leave `v` for a later [`Handover::take`] (replacing what was left before).
    pub fn put<T: std::any::Any + Send>(&self, v: T) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(v));
    }

    /// What was left, when it is a `T`; None otherwise (and what was left is dropped).
    pub fn take<T: std::any::Any + Send>(&self) -> Option<T> {
        let left = self.0.lock().unwrap_or_else(|p| p.into_inner()).take()?;
        left.downcast::<T>().ok().map(|b| *b)
    }
}

/// Where net.tcp's peer is (`crate::net`).
#[derive(Debug, Clone, Default)]
pub enum NetLink {
    /// No parent (L0, a bare run): a peer thread of this agent, over loopback.
    #[default]
    Loopback,
    /// The parent's peer connects to this listener, which accepts from before the
    /// first workload.
    Listen {
        /// What accepts the peer (shared, so the context stays cloneable).
        acceptor: std::sync::Arc<crate::net::Acceptor>,
        /// Its port.
        port: u16,
        /// The network between the level and its parent, as the controller named it.
        backend: String,
    },
    /// The listener could not be set up; net.tcp reports this as its error.
    Unavailable(String),
}

impl Context {
    /// A context for `suite` with its timing, sizes resolved against `limits` and one
    /// thread per available CPU.
    pub fn new(suite: Suite, sizes: Sizes, dir: PathBuf, limits: Limits) -> Self {
        Context {
            timing: Timing::of(suite),
            sizes: ResolvedSizes::resolve(sizes, suite, limits),
            dir,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            limits,
            net: NetLink::Loopback,
            disk_file: Handover::default(),
        }
    }

    /// Refuses a buffer of `mib` MiB that would not fit in available memory (with a
    /// margin), so a too-large `--sizes` gives an error record instead of an OOM kill.
    pub fn check_memory(&self, what: &str, mib: u64) -> Result<(), RunError> {
        match self.limits.mem_available_mib {
            Some(avail) if mib > avail * 3 / 4 => Err(RunError::Other(format!(
                "{what} needs {mib} MiB but only {avail} MiB of memory is available: pass smaller --sizes"
            ))),
            _ => Ok(()),
        }
    }

    /// A result of the catalog metric `workload/metric` with these samples; `params`
    /// are the workload's, merged over [`Self::base_params`]. Unit and direction come
    /// from the catalog, so a kernel cannot disagree with it.
    ///
    /// # Panics
    /// When the catalog has no such metric: a kernel naming a metric it does not declare
    /// is a programming error (the agent turns the panic into an error record, and the
    /// kernel tests catch it).
    pub fn result(
        &self,
        workload: &str,
        metric: &str,
        params: &Map<String, Value>,
        samples: Vec<f64>,
    ) -> WorkloadResult {
        let (w, m) = catalog::metric(workload, metric)
            .unwrap_or_else(|| panic!("{workload}/{metric} is not in the metric catalog"));
        let mut p = self.base_params();
        p.extend(params.clone());
        WorkloadResult {
            id: MetricId::of(w, m),
            params: p,
            samples,
        }
    }

    /// The params every result carries: budget, warm-up and sample count.
    pub fn base_params(&self) -> Map<String, Value> {
        obj(json!({
            "budget_s": self.timing.sample.as_secs_f64(),
            "warmup_s": self.timing.warmup.as_secs_f64(),
            "samples": self.timing.samples,
        }))
    }
}

/// Why a workload could not produce its results.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Not a failure: the level lacks what the workload needs (a second vCPU, a
    /// hypervisor that answers hypercalls from user space), in words a user can check.
    /// The agent reports every metric of the workload as not applicable with it.
    #[error("not applicable here: {0}")]
    NotApplicable(String),
    /// An I/O call failed; `what` says which, with its path.
    #[error("{what}: {source}")]
    Io {
        /// The call and path, e.g. `create /tmp/x/disk.seq/data`.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Anything else, already phrased for the user.
    #[error("{0}")]
    Other(String),
}

impl RunError {
    /// Wraps an I/O error with what was being done.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        RunError::Io {
            what: what.into(),
            source,
        }
    }
}

/// Extension to attach what was being done to an `io::Result`.
pub trait IoContext<T> {
    /// Maps the error to [`RunError::Io`] with `what`.
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, RunError>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, RunError> {
        self.map_err(|e| RunError::io(what(), e))
    }
}

/// A JSON value known to be an object, as a map (anything else gives an empty map).
pub fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_gaps_and_are_clamped_but_given_sizes_are_not() {
        let given: Sizes = "stream=512".parse().unwrap();
        let lim = Limits {
            mem_available_mib: Some(200),
            disk_free_mib: Some(8),
            llc_mib: None,
        };
        let r = ResolvedSizes::resolve(given, Suite::Standard, lim);
        assert_eq!(r.stream_mib, 512);
        assert_eq!(r.latency_mib, 50);
        assert_eq!(r.disk_mib, 2);
        let r = ResolvedSizes::resolve(Sizes::default(), Suite::Quick, Limits::default());
        let d = Suite::Quick.default_sizes();
        assert_eq!(
            [r.stream_mib, r.latency_mib, r.pagefault_mib, r.disk_mib].map(Some),
            [d.stream_mib, d.latency_mib, d.pagefault_mib, d.disk_mib]
        );
        let r = ResolvedSizes::resolve(Sizes::default(), Suite::Smoke, Limits::default());
        assert_eq!(
            [r.stream_mib, r.latency_mib, r.pagefault_mib, r.disk_mib],
            [32, 32, 16, 16]
        );
    }

    #[test]
    fn a_bare_run_is_cache_valid_where_memory_allows() {
        let lim = |mem| Limits {
            mem_available_mib: Some(mem),
            disk_free_mib: None,
            llc_mib: Some(32),
        };
        let r = ResolvedSizes::resolve(Sizes::default(), Suite::Quick, lim(16_384));
        assert_eq!((r.stream_mib, r.latency_mib), (384, 128));
        // A 1 GiB guest has room for 256 MiB per working set: STREAM stays smaller.
        let r = ResolvedSizes::resolve(Sizes::default(), Suite::Quick, lim(1024));
        assert_eq!((r.stream_mib, r.latency_mib), (256, 128));
        let given: Sizes = "stream=16".parse().unwrap();
        let r = ResolvedSizes::resolve(given, Suite::Quick, lim(16_384));
        assert_eq!(r.stream_mib, 16);
    }

    #[test]
    fn too_large_buffers_are_refused() {
        let lim = Limits {
            mem_available_mib: Some(100),
            ..Limits::default()
        };
        let ctx = Context::new(Suite::Smoke, Sizes::default(), "/tmp".into(), lim);
        assert!(ctx.check_memory("x", 90).is_err());
        assert!(ctx.check_memory("x", 10).is_ok());
    }
}
