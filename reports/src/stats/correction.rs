//! Multiple-comparison corrections: adjusted p-values for a family of tests.
//!
//! - [`holm`]: Holm's step-down procedure (Holm, "A simple sequentially rejective
//!   multiple test procedure", *Scand. J. Statist.* 6, 1979). Controls the family-wise
//!   error rate — the chance of *any* false alarm — at α, under any dependence between
//!   the tests, and is uniformly more powerful than [`bonferroni`].
//! - [`benjamini_hochberg`]: the step-up procedure of Benjamini & Hochberg (*J. R.
//!   Statist. Soc. B* 57, 1995). Controls the false discovery rate — the expected share
//!   of false alarms among the flagged rows — for independent or positively dependent
//!   tests.
//! - [`bonferroni`]: m·p, the bound both of the others improve on.
//!
//! Adjusted p-values (Wright, *Biometrics* 48, 1992): row i is rejected at family level
//! α exactly when its adjusted p ≤ α, so one list serves every α.
//!
//! Why Holm for the regression gate. A compare tests ~21 metrics × 5 levels ≈ 100 rows,
//! and on almost every build almost every null is true: nothing changed. What costs is a
//! red build with nothing behind it, and what must hold is "a red build names only rows
//! that really moved". The FWER is the probability of a red build when nothing moved
//! (BH controls that too, since with every null true FDR = FWER) *and* the probability
//! that a red build names any innocent row when something did move — which BH does
//! not bound: once one real regression is in, BH relaxes its thresholds and lets more
//! borderline rows ride along, and each is a wild-goose chase for whoever reads the
//! report. Holm's price over BH is power, but the gate's power is set far more by the
//! number of runs (see `mde`) than by the correction, and Holm needs no assumption on
//! how the ~100 tests depend on each other (rows of one run share its host state). BH
//! stays here for exploratory views (a history scan across many series) where a few
//! false leads among many findings are acceptable.
//!
//! What this cannot do: correct for tests that were never run — the family is exactly
//! the p-values given, so a caller that drops rows before correcting (or compares
//! repeatedly until something turns red) leaves its error rate uncontrolled.

/// Holm step-down adjusted p-values, in the order given.
///
/// Sorted ascending p₍₁₎ ≤ … ≤ p₍ₘ₎: adj₍ᵢ₎ = max_{j ≤ i} min(1, (m − j + 1)·p₍ⱼ₎).
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0f64;
    for (rank, &i) in ascending(p).iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// Benjamini–Hochberg step-up adjusted p-values (q-values), in the order given.
///
/// Sorted ascending: adj₍ᵢ₎ = min_{j ≥ i} min(1, m·p₍ⱼ₎ / j).
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut adjusted = vec![0.0; m];
    let mut running = 1.0f64;
    for (rank, &i) in ascending(p).iter().enumerate().rev() {
        running = running.min(m as f64 * p[i] / (rank + 1) as f64);
        adjusted[i] = running;
    }
    adjusted
}

/// Bonferroni adjusted p-values, min(1, m·p).
pub fn bonferroni(p: &[f64]) -> Vec<f64> {
    let m = p.len() as f64;
    p.iter().map(|&x| (m * x).min(1.0)).collect()
}

/// Indices of `p` by ascending value (stable, so ties keep their order).
fn ascending(p: &[f64]) -> Vec<usize> {
    debug_assert!(
        p.iter().all(|x| (0.0..=1.0).contains(x)),
        "p-values in [0, 1]"
    );
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
    }

    #[test]
    fn holm_classic_example() {
        // Sorted 0.005, 0.01, 0.03, 0.04 → 4·0.005, 3·0.01, 2·0.03, max(1·0.04, 0.06).
        let adj = holm(&[0.01, 0.04, 0.03, 0.005]);
        assert!(close(&adj, &[0.03, 0.06, 0.06, 0.02]), "{adj:?}");
        assert!(close(
            &bonferroni(&[0.01, 0.04, 0.03, 0.005]),
            &[0.04, 0.16, 0.12, 0.02]
        ));
    }

    #[test]
    fn benjamini_hochberg_1995_example() {
        // Benjamini & Hochberg (1995) §4: 15 endpoints of one trial; at 0.05 BH rejects
        // the four smallest, Bonferroni (and Holm) the three smallest.
        let p = [
            0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262,
            0.5719, 0.6528, 0.7590, 1.0,
        ];
        let count = |adj: Vec<f64>| adj.iter().filter(|&&q| q <= 0.05).count();
        assert_eq!(count(benjamini_hochberg(&p)), 4);
        assert_eq!(count(holm(&p)), 3);
        assert_eq!(count(bonferroni(&p)), 3);
        assert!((benjamini_hochberg(&p)[3] - 0.0095 * 15.0 / 4.0).abs() < 1e-12);
    }

    #[test]
    fn empty_and_single_families() {
        assert!(holm(&[]).is_empty() && benjamini_hochberg(&[]).is_empty());
        assert_eq!(holm(&[0.3]), vec![0.3]);
        assert_eq!(benjamini_hochberg(&[0.3]), vec![0.3]);
    }

    /// 1 + the number of p-values strictly below `x` (the first rank of a tie group).
    fn first_rank(p: &[f64], x: f64) -> usize {
        1 + p.iter().filter(|&&y| y < x).count()
    }

    /// The number of p-values at or below `x` (the last rank of a tie group).
    fn last_rank(p: &[f64], x: f64) -> usize {
        p.iter().filter(|&&y| y <= x).count()
    }

    fn family() -> impl Strategy<Value = Vec<f64>> {
        // Values on a coarse grid so that ties occur.
        prop::collection::vec((0u32..=200).prop_map(|k| f64::from(k) / 200.0), 1..12)
    }

    proptest! {
        #[test]
        fn holm_matches_its_definition_and_the_step_down_procedure(p in family(), alpha in 0.01f64..0.2) {
            let m = p.len();
            let adj = holm(&p);
            for (i, &pi) in p.iter().enumerate() {
                let brute = p.iter()
                    .filter(|&&pj| pj <= pi)
                    .map(|&pj| ((m + 1 - first_rank(&p, pj)) as f64 * pj).min(1.0))
                    .fold(0.0, f64::max);
                prop_assert!((adj[i] - brute).abs() < 1e-12);
            }
            // Step down: reject while p₍ᵢ₎ ≤ α / (m − i + 1).
            let mut sorted = p.clone();
            sorted.sort_by(f64::total_cmp);
            let k = sorted.iter().enumerate()
                .take_while(|(i, &x)| x <= alpha / (m - i) as f64)
                .count();
            let rejected = adj.iter().filter(|&&q| q <= alpha).count();
            prop_assert_eq!(rejected, k);
        }

        #[test]
        fn benjamini_hochberg_matches_its_definition(p in family()) {
            let m = p.len() as f64;
            let adj = benjamini_hochberg(&p);
            for (i, &pi) in p.iter().enumerate() {
                let brute = p.iter()
                    .filter(|&&pj| pj >= pi)
                    .map(|&pj| (m * pj / last_rank(&p, pj) as f64).min(1.0))
                    .fold(1.0, f64::min);
                prop_assert!((adj[i] - brute).abs() < 1e-12);
            }
        }

        #[test]
        fn adjustments_are_ordered_bounded_and_monotone(p in family()) {
            let (h, b, bh) = (holm(&p), bonferroni(&p), benjamini_hochberg(&p));
            for i in 0..p.len() {
                prop_assert!(p[i] <= bh[i] + 1e-15 && bh[i] <= h[i] + 1e-15);
                prop_assert!(h[i] <= b[i] + 1e-15 && b[i] <= 1.0);
                for j in 0..p.len() {
                    if p[i] <= p[j] {
                        prop_assert!(h[i] <= h[j] && bh[i] <= bh[j]);
                    }
                }
            }
        }
    }
}
