//! The distributions the regression gate needs: Student's t, the standard normal,
//! beta and chi-square — CDFs and quantiles, for any real (not only integer) degrees
//! of freedom, since Welch's df is fractional.
//!
//! Methods (Abramowitz & Stegun 1964, 26.2.23 and 26.7.1; Press et al., *Numerical
//! Recipes*, 3rd ed., 2007, §6.4 and §9.4), on the special functions of `special.rs`:
//! - Student's t: F(t) = 1 − ½·I_{ν/(ν+t²)}(ν/2, ½) for t > 0, the tail computed
//!   directly (with 1 − x passed exactly) so that p-values of 1e-30 keep their digits;
//! - Φ(z) = ½·Q(½, z²/2) for z < 0 — the incomplete gamma form of erfc, ~1e-15;
//! - Φ⁻¹ by Acklam's rational approximation (|ε| < 1.2e-9) polished by two Halley steps
//!   against the accurate Φ;
//! - every other quantile (t, beta, chi-square) by safeguarded Newton on the CDF and
//!   its density.
//!
//! What this cannot do: degrees of freedom above [`NORMAL_DF`] are treated as normal
//! (the t quantile then differs from the normal one by < 1e-5); probabilities are
//! doubles, so a quantile of p within 1e-16 of 1 is that of 1 − 1e-16; nothing here
//! checks its inputs beyond `debug_assert!`s — the callers in this module tree validate
//! their data once.

use super::special::{inc_beta, inc_gamma, invert, ln_gamma};
use std::f64::consts::PI;

/// Degrees of freedom above which Student's t is evaluated as the standard normal.
pub const NORMAL_DF: f64 = 1e7;

/// The regularized incomplete beta function I_x(a, b), a, b > 0, x ∈ [0, 1].
pub fn beta_cdf(x: f64, a: f64, b: f64) -> f64 {
    inc_beta(a, b, x, 1.0 - x)
}

/// The quantile of Beta(a, b): the x with I_x(a, b) = p.
pub fn beta_quantile(p: f64, a: f64, b: f64) -> f64 {
    let ln_norm = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b);
    let density = |x: f64| (ln_norm + (a - 1.0) * x.ln() + (b - 1.0) * (-x).ln_1p()).exp();
    invert(|x| (beta_cdf(x, a, b), density(x)), p, 0.0, 1.0)
}

/// CDF of the chi-square distribution with `k` > 0 degrees of freedom.
pub fn chi_square_cdf(x: f64, k: f64) -> f64 {
    inc_gamma(k / 2.0, x / 2.0).0
}

/// Quantile of the chi-square distribution with `k` > 0 degrees of freedom.
pub fn chi_square_quantile(p: f64, k: f64) -> f64 {
    let a = k / 2.0;
    let ln_norm = -ln_gamma(a) - a * 2f64.ln();
    let density = |x: f64| (ln_norm + (a - 1.0) * x.ln() - x / 2.0).exp();
    let mut hi = k + 10.0 * (2.0 * k).sqrt() + 10.0;
    while chi_square_cdf(hi, k) < p {
        hi *= 2.0;
    }
    invert(|x| (chi_square_cdf(x, k), density(x)), p, 0.0, hi)
}

/// Density of the standard normal.
pub fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * PI).sqrt()
}

/// Φ(z), the standard normal CDF.
pub fn normal_cdf(z: f64) -> f64 {
    let q = 0.5 * inc_gamma(0.5, 0.5 * z * z).1;
    if z < 0.0 {
        q
    } else {
        1.0 - q
    }
}

/// 1 − Φ(z), accurate in the far upper tail.
pub fn normal_sf(z: f64) -> f64 {
    normal_cdf(-z)
}

/// Φ⁻¹(p) for p ∈ (0, 1); ±∞ at 0 and 1.
pub fn normal_quantile(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    if p > 0.5 {
        return -normal_quantile(1.0 - p);
    }
    let mut x = acklam(p);
    for _ in 0..2 {
        let e = normal_cdf(x) - p;
        let u = e / normal_pdf(x);
        x -= u / (1.0 + x * u / 2.0);
    }
    x
}

/// Acklam's rational approximation of Φ⁻¹ for p ≤ ½.
fn acklam(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let poly = |c: &[f64], x: f64| c.iter().fold(0.0, |acc, k| acc * x + k);
    if p < 0.02425 {
        let q = (-2.0 * p.ln()).sqrt();
        poly(&C, q) / (poly(&D, q) * q + 1.0)
    } else {
        let q = p - 0.5;
        let r = q * q;
        poly(&A, r) * q / (poly(&B, r) * r + 1.0)
    }
}

/// Density of Student's t with `df` degrees of freedom.
pub fn t_pdf(t: f64, df: f64) -> f64 {
    if df > NORMAL_DF {
        return normal_pdf(t);
    }
    let ln = ln_gamma((df + 1.0) / 2.0)
        - ln_gamma(df / 2.0)
        - 0.5 * (df * PI).ln()
        - (df + 1.0) / 2.0 * (t * t / df).ln_1p();
    ln.exp()
}

/// CDF of Student's t with `df` > 0 degrees of freedom (fractional allowed; above
/// [`NORMAL_DF`], the normal).
pub fn t_cdf(t: f64, df: f64) -> f64 {
    if df > NORMAL_DF {
        return normal_cdf(t);
    }
    let t2 = t * t;
    let lower_tail = 0.5 * inc_beta(df / 2.0, 0.5, df / (df + t2), t2 / (df + t2));
    if t > 0.0 {
        1.0 - lower_tail
    } else {
        lower_tail
    }
}

/// The upper tail 1 − F(t), accurate for large t.
pub fn t_sf(t: f64, df: f64) -> f64 {
    t_cdf(-t, df)
}

/// Quantile of Student's t: the t with F(t) = p, for p ∈ (0, 1).
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if df > NORMAL_DF || p <= 0.0 || p >= 1.0 {
        return normal_quantile(p);
    }
    if p > 0.5 {
        return -t_quantile(1.0 - p, df);
    }
    if p == 0.5 {
        return 0.0;
    }
    // Solve on the upper tail: sf(x) = p for x > 0.
    let mut hi = normal_quantile(1.0 - p).max(1.0);
    while t_sf(hi, df) > p {
        hi *= 2.0;
    }
    // −sf is increasing; solving −sf(x) = −p keeps the digits of a tiny p.
    -invert(|x| (-t_sf(x, df), t_pdf(x, df)), -p, 0.0, hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn near(got: f64, want: f64, rel: f64) {
        assert!(
            (got - want).abs() <= rel * want.abs().max(1e-300),
            "got {got}, want {want}"
        );
    }

    #[test]
    fn t_quantiles_match_the_textbook_table() {
        // Two-sided 95 % critical values as printed in any t table.
        for (df, want) in [(1.0, 12.706), (4.0, 2.776), (10.0, 2.228), (30.0, 2.042)] {
            assert!((t_quantile(0.975, df) - want).abs() < 5e-4, "df {df}");
        }
        assert!((t_quantile(0.995, 5.0) - 4.032).abs() < 5e-4);
        assert!((t_quantile(0.95, 20.0) - 1.725).abs() < 5e-4);
    }

    #[test]
    fn t_matches_scipy_to_many_digits() {
        // scipy 1.17.1: stats.t.ppf(0.975, df), stats.t.ppf(0.999, df),
        // stats.t.cdf(-3, df), stats.t.sf(12, df).
        let rows = [
            (
                1.0,
                12.706204736174694,
                318.30883898555015,
                0.10241638234956672,
                0.026464676059589878,
            ),
            (
                2.5,
                3.5746548420036817,
                13.82219311086596,
                0.036288047774515914,
                0.0014181075150391622,
            ),
            (
                4.0,
                2.7764451051977934,
                7.173182219782307,
                0.019970984035859413,
                1.382142742514865e-4,
            ),
            (
                7.3,
                2.345066736547703,
                4.688865993538372,
                0.009490275511566748,
                2.277892614785275e-6,
            ),
            (
                30.0,
                2.0422724563012378,
                3.3851848668293045,
                0.0026949820328259727,
                2.7900927075996303e-13,
            ),
            (
                100.0,
                1.9839715185235518,
                3.173739493738783,
                0.0017039576716647233,
                2.1975438578021966e-21,
            ),
            (
                1e4,
                1.960201239890626,
                3.091047516030612,
                0.001353224094998833,
                2.989889803905625e-33,
            ),
        ];
        for (df, q975, q999, cdf_m3, sf12) in rows {
            near(t_quantile(0.975, df), q975, 1e-10);
            near(t_quantile(0.999, df), q999, 1e-10);
            near(t_cdf(-3.0, df), cdf_m3, 1e-10);
            near(t_sf(12.0, df), sf12, 1e-8);
        }
    }

    #[test]
    fn normal_matches_the_table_and_scipy() {
        near(normal_quantile(0.975), 1.959963984540054, 1e-12);
        near(normal_cdf(1.0), 0.8413447460685429, 1e-13);
        near(normal_sf(8.0), 6.22096057427174e-16, 1e-10);
        near(normal_quantile(1e-10), -6.361340902404056, 1e-12);
        near(normal_quantile(0.3), -0.5244005127080409, 1e-12);
        assert_eq!(normal_quantile(0.5), 0.0);
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn beta_and_chi_square_match_scipy() {
        // scipy 1.17.1: special.betainc, stats.beta.ppf, stats.chi2.ppf.
        near(beta_cdf(0.4, 2.5, 3.7), 0.5151961496687577, 1e-12);
        near(chi_square_cdf(3.3566939800333224, 4.0), 0.5, 1e-12);
        near(beta_quantile(0.025, 3.0, 58.0), 0.010432329644348225, 1e-10);
        near(beta_quantile(0.975, 4.0, 57.0), 0.13924324672107277, 1e-10);
        near(chi_square_quantile(0.01, 1.0), 1.5708785790970184e-4, 1e-9);
        near(chi_square_quantile(0.5, 4.0), 3.3566939800333224, 1e-11);
        near(chi_square_quantile(0.99, 9.0), 21.665994333461924, 1e-11);
    }

    #[test]
    fn huge_df_is_normal() {
        near(t_quantile(0.975, 1e8), normal_quantile(0.975), 1e-15);
        // scipy 1.17.1: stats.t.ppf(0.975, 1e5), stats.t.ppf(0.975, 1e6).
        near(t_quantile(0.975, 1e5), 1.9599877075346095, 1e-9);
        near(t_quantile(0.975, 1e6), 1.959966356814107, 1e-9);
    }

    proptest! {
        #[test]
        fn t_cdf_is_monotone_and_symmetric(a in -50.0f64..50.0, b in -50.0f64..50.0, df in 0.5f64..500.0) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(t_cdf(lo, df) <= t_cdf(hi, df));
            prop_assert!((t_cdf(a, df) + t_cdf(-a, df) - 1.0).abs() < 1e-13);
            let c = t_cdf(a, df);
            prop_assert!((0.0..=1.0).contains(&c));
        }

        #[test]
        fn t_quantile_inverts_cdf(p in 1e-9f64..0.999_999_999, df in 0.5f64..500.0) {
            let q = t_quantile(p, df);
            let back = if p < 0.5 { t_cdf(q, df) } else { t_sf(q, df) };
            let want = if p < 0.5 { p } else { 1.0 - p };
            prop_assert!((back - want).abs() <= 1e-9 * want, "p {} df {} q {} back {}", p, df, q, back);
            prop_assert!((t_quantile(1.0 - p, df) + q).abs() <= 1e-7 * q.abs().max(1.0));
        }

        #[test]
        fn t_is_wider_than_normal_and_narrows_with_df(p in 0.5001f64..0.9999, df in 1.0f64..200.0) {
            let z = normal_quantile(p);
            prop_assert!(t_quantile(p, df) >= z);
            prop_assert!(t_quantile(p, df + 1.0) <= t_quantile(p, df));
        }

        #[test]
        fn normal_quantile_inverts_cdf(p in 1e-12f64..0.999_999) {
            let z = normal_quantile(p);
            prop_assert!((normal_cdf(z) - p).abs() <= 1e-11 * p.min(1.0 - p).max(1e-3));
        }

        #[test]
        fn beta_quantile_inverts_cdf(p in 1e-6f64..0.999_999, a in 0.3f64..80.0, b in 0.3f64..80.0) {
            let x = beta_quantile(p, a, b);
            prop_assert!((0.0..=1.0).contains(&x));
            prop_assert!((beta_cdf(x, a, b) - p).abs() < 1e-9, "x {}", x);
        }
    }
}
