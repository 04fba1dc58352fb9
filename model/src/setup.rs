//! What a result's `params` say about how its working set was prepared and whether it
//! got past the cache: the key names the kernels write and the reports read, in one
//! place so the two cannot drift apart.
//!
//! Setup is budgeted in time ([`crate::Suite::setup_budget`]): a level that cannot
//! prepare the whole working set in time measures over the part it prepared, and says
//! so. A reader tells from these keys whether a figure is what its workload claims —
//! memory bandwidth rather than cache bandwidth, a disk file of the size the run asked
//! for — instead of having to trust that it is.

use serde_json::{Map, Value};

/// Seconds the untimed setup took (an outcome of the run, different every time).
pub const SETUP_S: &str = "setup_s";
/// The setup budget, seconds.
pub const SETUP_BUDGET_S: &str = "setup_budget_s";
/// MiB of the working set that was prepared and measured over.
pub const PREPARED_MIB: &str = "prepared_mib";
/// `true` when the budget ran out before the whole working set was prepared.
pub const SETUP_TRUNCATED: &str = "setup_truncated";
/// The last-level cache the working set was judged against, MiB.
pub const LLC_MIB: &str = "llc_mib";
/// `true` when a STREAM array or the latency buffer was smaller than 4× the LLC.
pub const CACHE_RESIDENT: &str = "cache_resident";

/// Params that describe how a run went rather than what it measured: comparing two
/// runs' params ignores them (a setup that took 0.31 s once and 0.29 s the next time
/// measured the same thing).
pub const OUTCOME_PARAMS: &[&str] = &[SETUP_S];

/// What a result's params flag about its figures.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Caveats {
    /// The figures are the cache's: with the LLC judged against, MiB.
    pub cache_resident: Option<u64>,
    /// Only part of the working set was prepared: MiB prepared, when recorded.
    pub truncated: Option<f64>,
}

impl Caveats {
    /// Reads the flags from a result's params (absent keys flag nothing).
    pub fn of(params: &Map<String, Value>) -> Caveats {
        let yes = |k: &str| params.get(k).and_then(Value::as_bool) == Some(true);
        Caveats {
            cache_resident: yes(CACHE_RESIDENT)
                .then(|| params.get(LLC_MIB).and_then(Value::as_u64).unwrap_or(0)),
            truncated: yes(SETUP_TRUNCATED).then(|| {
                params
                    .get(PREPARED_MIB)
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0)
            }),
        }
    }

    /// Whether anything is flagged.
    pub fn any(&self) -> bool {
        self.cache_resident.is_some() || self.truncated.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flags_are_read_from_params() {
        let p = |v: Value| v.as_object().unwrap().clone();
        let c = Caveats::of(&p(json!({"cache_resident": true, "llc_mib": 32})));
        assert_eq!(c.cache_resident, Some(32));
        assert!(c.any() && c.truncated.is_none());
        let c = Caveats::of(&p(json!({"setup_truncated": true, "prepared_mib": 18.5})));
        assert_eq!(c.truncated, Some(18.5));
        let c = Caveats::of(&p(
            json!({"cache_resident": false, "setup_truncated": false}),
        ));
        assert!(!c.any());
        assert!(!Caveats::of(&Map::new()).any());
    }
}
