//! The Mann–Whitney U test (Mann & Whitney, *Ann. Math. Statist.* 18(1), 1947), two-sided:
//! do two samples come from the same distribution, or does one tend to be larger?
//!
//! Rank-based, so it assumes nothing about the shape of timing noise. The p-value is
//! exact (the null distribution of U counted by the Mann–Whitney recursion) when there
//! are no ties and each side has at most [`EXACT_MAX`] points; otherwise the normal
//! approximation with tie-corrected variance and a continuity correction is used.
//! With 5 points a side the smallest two-sided p is 2/252 ≈ 0.008, which is why every
//! suite keeps at least 5 samples.

use super::sample::Sample;

/// Largest per-side size for which the exact distribution is computed.
pub const EXACT_MAX: usize = 25;

/// Outcome of a test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// U of the first sample (number of pairs where it is larger, ties count ½).
    pub u: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Whether `p_value` is exact (no ties, small samples).
    pub exact: bool,
}

/// Test `a` against `b`, two-sided.
pub fn test(a: &Sample, b: &Sample) -> MannWhitney {
    let (n1, n2) = (a.len(), b.len());
    let (ranks, tie_groups) = ranks(a.sorted(), b.sorted());
    let r1: f64 = ranks[..n1].iter().sum();
    let u = r1 - (n1 * (n1 + 1)) as f64 / 2.0;
    let mn = (n1 * n2) as f64;
    if tie_groups.is_empty() && n1 <= EXACT_MAX && n2 <= EXACT_MAX {
        let dist = exact_distribution(n1, n2);
        let total: f64 = dist.iter().sum();
        let tail_u = u.min(mn - u).round() as usize;
        let tail: f64 = dist[..=tail_u].iter().sum();
        return MannWhitney {
            u,
            p_value: (2.0 * tail / total).min(1.0),
            exact: true,
        };
    }
    let n = (n1 + n2) as f64;
    let tie_term: f64 = tie_groups.iter().map(|&t| t.powi(3) - t).sum::<f64>() / (n * (n - 1.0));
    let var = mn / 12.0 * ((n + 1.0) - tie_term);
    if var <= 0.0 {
        return MannWhitney {
            u,
            p_value: 1.0,
            exact: false,
        };
    }
    let z = ((u - mn / 2.0).abs() - 0.5).max(0.0) / var.sqrt();
    MannWhitney {
        u,
        p_value: (2.0 * normal_sf(z)).min(1.0),
        exact: false,
    }
}

/// Mid-ranks of `a` then `b` in the pooled sample, and the size of every tie group.
fn ranks(a: &[f64], b: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut pooled: Vec<(f64, usize)> = a.iter().chain(b).copied().zip(0..).collect();
    pooled.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut ranks = vec![0.0; pooled.len()];
    let mut ties = Vec::new();
    let mut i = 0;
    while i < pooled.len() {
        let mut j = i;
        while j + 1 < pooled.len() && pooled[j + 1].0 == pooled[i].0 {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        for p in &pooled[i..=j] {
            ranks[p.1] = mid;
        }
        if j > i {
            ties.push((j - i + 1) as f64);
        }
        i = j + 1;
    }
    (ranks, ties)
}

/// Counts of arrangements giving U = 0..=m·n, by f(m, n, u) = f(m−1, n, u−n) + f(m, n−1, u).
fn exact_distribution(m: usize, n: usize) -> Vec<f64> {
    // table[j] holds the distribution for (i, j) while i advances.
    let size = m * n + 1;
    let mut prev: Vec<Vec<f64>> = (0..=n)
        .map(|_| {
            let mut d = vec![0.0; size];
            d[0] = 1.0;
            d
        })
        .collect();
    for _ in 1..=m {
        let mut cur: Vec<Vec<f64>> = Vec::with_capacity(n + 1);
        let mut zero = vec![0.0; size];
        zero[0] = 1.0;
        cur.push(zero);
        for j in 1..=n {
            let mut d = vec![0.0; size];
            for (u, slot) in d.iter_mut().enumerate() {
                let from_m = if u >= j { prev[j][u - j] } else { 0.0 };
                *slot = from_m + cur[j - 1][u];
            }
            cur.push(d);
        }
        prev = cur;
    }
    prev.swap_remove(n)
}

/// Upper tail of the standard normal, via the complementary error function
/// (W. J. Cody's rational approximation as in Numerical Recipes' `erfcc`, |ε| < 1.2e-7).
fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[f64]) -> Sample {
        Sample::new(v).unwrap()
    }

    #[test]
    fn fully_separated_five_vs_five_is_2_over_252() {
        let r = test(
            &s(&[1.0, 2.0, 3.0, 4.0, 5.0]),
            &s(&[6.0, 7.0, 8.0, 9.0, 10.0]),
        );
        assert!(r.exact);
        assert_eq!(r.u, 0.0);
        assert!((r.p_value - 2.0 / 252.0).abs() < 1e-12);
    }

    #[test]
    fn interleaved_samples_are_not_significant() {
        let r = test(
            &s(&[1.0, 3.0, 5.0, 7.0, 9.0]),
            &s(&[2.0, 4.0, 6.0, 8.0, 10.0]),
        );
        assert!(r.p_value > 0.5, "{r:?}");
    }

    #[test]
    fn ties_use_normal_approximation() {
        let r = test(
            &s(&[1.0, 1.0, 1.0, 1.0, 1.0]),
            &s(&[1.0, 1.0, 1.0, 1.0, 1.0]),
        );
        assert!(!r.exact);
        assert_eq!(r.p_value, 1.0);
        let r = test(
            &s(&[1.0, 1.0, 2.0, 2.0, 3.0, 3.0]),
            &s(&[7.0, 7.0, 8.0, 8.0, 9.0, 9.0]),
        );
        assert!(r.p_value < 0.01, "{r:?}");
    }

    #[test]
    fn normal_tail_matches_known_values() {
        assert!((normal_sf(1.959_963_985) - 0.025).abs() < 1e-6);
        assert!((normal_sf(0.0) - 0.5).abs() < 1e-7);
    }
}
