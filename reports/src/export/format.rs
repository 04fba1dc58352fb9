//! Number formatting shared by the human-readable exports.

/// `v` with about `sig` significant digits, never in exponent notation: large values
/// keep all their integer digits (`123456`), small ones get decimals (`0.0123`).
pub fn sig(v: f64, sig: usize) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs().log10().floor() as i64;
    let decimals = (sig as i64 - 1 - magnitude).clamp(0, 12) as usize;
    format!("{v:.decimals$}")
}

/// A fraction of L0 as a percentage with three significant digits: `45.6 %`.
pub fn percent(fraction: f64) -> String {
    format!("{} %", sig(fraction * 100.0, 3))
}

/// Optional seconds: `12.3` or `–`.
pub fn seconds(v: Option<f64>) -> String {
    v.map(|s| sig(s, 3)).unwrap_or_else(|| "–".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits() {
        assert_eq!(sig(123456.7, 4), "123457");
        assert_eq!(sig(12.345, 4), "12.35");
        assert_eq!(sig(0.012345, 3), "0.0123");
        assert_eq!(sig(0.0, 3), "0");
        assert_eq!(percent(0.4561), "45.6 %");
        assert_eq!(percent(0.00025), "0.0250 %");
    }
}
