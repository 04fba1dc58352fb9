//! Figures that are not what their workload's name claims, marked where they are shown:
//! a STREAM array or latency buffer smaller than 4× the last-level cache measured the
//! cache, not memory (`cache_resident`); a level whose setup budget ran out measured
//! over only part of its working set (`setup_truncated`). The kernels record both in
//! the result's params ([`model::setup`]); a report that printed such a figure as
//! memory bandwidth without a word would present cache bandwidth — about twice a
//! valid triad — as the machine's.

use model::setup::Caveats;
use model::WorkloadResult;

/// Marker of a cache-resident figure.
pub const CACHE_MARK: &str = "‡";
/// Marker of a figure measured over a truncated working set.
pub const TRUNCATED_MARK: &str = "†";

/// The markers a result's cell gets, each preceded by a space ("" when none).
pub fn marks(result: Option<&WorkloadResult>) -> String {
    let c = result.map(|r| Caveats::of(&r.params)).unwrap_or_default();
    let mut s = String::new();
    if c.cache_resident.is_some() {
        s.push(' ');
        s.push_str(CACHE_MARK);
    }
    if c.truncated.is_some() {
        s.push(' ');
        s.push_str(TRUNCATED_MARK);
    }
    s
}

/// The footnotes explaining the markers that `results` carry, one per kind present.
pub fn footnotes<'a>(results: impl IntoIterator<Item = &'a WorkloadResult>) -> Vec<String> {
    let (mut llc, mut truncated) = (Vec::new(), false);
    for r in results {
        let c = Caveats::of(&r.params);
        if let Some(l) = c.cache_resident {
            if !llc.contains(&l) {
                llc.push(l);
            }
        }
        truncated |= c.truncated.is_some();
    }
    let mut out = Vec::new();
    if !llc.is_empty() {
        let sizes: Vec<String> = llc.iter().map(|l| format!("{l} MiB")).collect();
        out.push(format!(
            "{CACHE_MARK} cache-resident: array or buffer smaller than 4× the last-level cache ({}), so this is cache bandwidth or latency, not memory's (quick or standard size them 4× the cache where the smallest level's memory allows).",
            sizes.join(", ")
        ));
    }
    if truncated {
        out.push(format!(
            "{TRUNCATED_MARK} setup budget ran out at this level: measured over only the part of the working set it prepared in time (params prepared_mib), not the whole size the run asked for."
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::MetricId;
    use serde_json::json;

    fn result(params: serde_json::Value) -> WorkloadResult {
        WorkloadResult {
            id: MetricId {
                workload: "mem.stream".into(),
                metric: "triad".into(),
                unit: "GB/s".into(),
                higher_is_better: true,
            },
            params: params.as_object().unwrap().clone(),
            samples: vec![1.0],
        }
    }

    #[test]
    fn flagged_results_are_marked_and_explained_once() {
        let cached = result(json!({"cache_resident": true, "llc_mib": 32}));
        let cut = result(json!({"setup_truncated": true, "prepared_mib": 18.0}));
        let fine = result(json!({"cache_resident": false, "setup_truncated": false}));
        assert_eq!(marks(Some(&cached)), " ‡");
        assert_eq!(marks(Some(&cut)), " †");
        assert_eq!(marks(Some(&fine)), "");
        assert_eq!(marks(None), "");
        let notes = footnotes([&cached, &cached, &cut, &fine]);
        assert_eq!(notes.len(), 2);
        assert!(notes[0].starts_with("‡ cache-resident") && notes[0].contains("(32 MiB)"));
        assert!(notes[1].starts_with("† setup budget"));
        assert!(footnotes([&fine]).is_empty());
    }
}
