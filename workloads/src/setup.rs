//! The untimed setup before a workload's samples — writing its file, first-touching its
//! buffers — bounded in time, and what it did recorded in the result's `params`.
//!
//! Setup work is proportional to the working set and inversely proportional to the
//! level's speed: a 256 MiB file written at 1.85 MB/s took L4 over two minutes per disk
//! workload, which made its suite five times L0's. Sizes stay the controller's (the same
//! at every level, so levels stay comparable), but a kernel prepares its working set in
//! pieces and stops at the first piece that ends past the suite's setup budget
//! ([`crate::timing::Timing::setup`]); it then measures over what it prepared — never
//! over memory or file blocks it did not write, which would be answered without doing
//! the work (zero pages, unwritten extents). A level fast enough prepares all of it; a
//! slower one prepares less and its params say so (`prepared_mib`, `setup_truncated`,
//! `setup_s`, keys of [`model::setup`]), so a reader can tell, and the report marks it.

use model::setup::{
    CACHE_RESIDENT, LLC_MIB, PREPARED_MIB, SETUP_BUDGET_S, SETUP_S, SETUP_TRUNCATED,
};
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

/// The clock of one workload's setup.
#[derive(Debug, Clone, Copy)]
pub struct SetupClock {
    start: Instant,
    budget: Duration,
}

impl SetupClock {
    /// Starts the clock of a setup allowed `budget`.
    pub fn start(budget: Duration) -> Self {
        SetupClock {
            start: Instant::now(),
            budget,
        }
    }

    /// Whether the budget is spent: the setup stops after the piece it is preparing.
    pub fn spent(&self) -> bool {
        self.start.elapsed() >= self.budget
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// The params that record the setup: how long it took, its budget, how much of the
    /// `asked_mib` working set was prepared (and measured over), and whether the budget
    /// cut it short.
    pub fn params(&self, prepared_mib: f64, asked_mib: f64) -> Map<String, Value> {
        let round = |x: f64, places: i32| {
            let k = 10f64.powi(places);
            (x * k).round() / k
        };
        let mut m = Map::new();
        m.insert(
            SETUP_S.into(),
            json!(round(self.elapsed().as_secs_f64(), 3)),
        );
        m.insert(SETUP_BUDGET_S.into(), json!(self.budget.as_secs_f64()));
        m.insert(PREPARED_MIB.into(), json!(round(prepared_mib, 4)));
        m.insert(SETUP_TRUNCATED.into(), json!(prepared_mib < asked_mib));
        m
    }
}

/// The params that judge a memory working set of `mib` MiB (one STREAM array, or the
/// latency buffer) against the last-level cache: `llc_mib` and `cache_resident`, or
/// nothing when the LLC is unknown.
pub fn cache_params(mib: f64, llc_mib: Option<u64>) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(llc) = llc_mib {
        m.insert(LLC_MIB.into(), json!(llc));
        m.insert(
            CACHE_RESIDENT.into(),
            json!(model::sizes::cache_resident(mib, llc)),
        );
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_say_how_much_was_prepared_and_whether_it_was_cut() {
        let c = SetupClock::start(Duration::from_secs(10));
        assert!(!c.spent());
        let p = c.params(64.0, 64.0);
        assert_eq!(p[SETUP_TRUNCATED], false);
        assert_eq!(p[PREPARED_MIB], 64.0);
        assert_eq!(p[SETUP_BUDGET_S], 10.0);
        assert!(p[SETUP_S].as_f64().unwrap() < 1.0);
        let c = SetupClock::start(Duration::ZERO);
        assert!(c.spent());
        assert_eq!(c.params(1.5, 64.0)[SETUP_TRUNCATED], true);
    }

    #[test]
    fn residency_needs_a_known_llc() {
        assert!(cache_params(100.0, None).is_empty());
        let p = cache_params(100.0, Some(32));
        assert_eq!(p[CACHE_RESIDENT], true);
        assert_eq!(p[LLC_MIB], 32);
        assert_eq!(cache_params(128.0, Some(32))[CACHE_RESIDENT], false);
    }
}
