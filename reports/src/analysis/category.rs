//! Categories (the metric catalog's `cpu`, `mem`, `disk`, `exit`; for a workload the
//! catalog does not know, the prefix of its id) and the geometric mean of each
//! category's fractions of L0 per level.
//!
//! The geometric mean is the right average of ratios (Fleming & Wallace, "How not to lie
//! with statistics: the correct way to summarize benchmark results", CACM 29(3), 1986):
//! it does not depend on which level is the reference and one extreme metric cannot
//! dominate it the way it dominates an arithmetic mean.

use super::Row;
use model::catalog::Category;
use model::Level;

/// Canonical order of the known categories (the catalog's).
pub const KNOWN: [&str; 4] = [
    Category::ALL[0].name(),
    Category::ALL[1].name(),
    Category::ALL[2].name(),
    Category::ALL[3].name(),
];

/// Category name of a workload id.
pub fn category_of(workload: &str) -> String {
    model::catalog::category_name(workload)
}

/// Distinct categories in canonical order (known ones first, others as they come).
pub fn ordered(cats: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for c in cats {
        if !seen.contains(&c) {
            seen.push(c);
        }
    }
    let rank = |c: &String| KNOWN.iter().position(|k| k == c).unwrap_or(KNOWN.len());
    seen.sort_by_key(rank); // stable: unknown categories keep their order
    seen
}

/// Geometric mean of one category's fractions of L0 at one level.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryMean {
    /// Level (≥ 1).
    pub level: Level,
    /// Category name.
    pub category: String,
    /// Geometric mean of the oriented fractions (< 1 is slower).
    pub geo_mean: f64,
    /// How many metrics went into it.
    pub metrics: usize,
}

/// Geometric means for every (level, category) that has at least one fraction.
pub fn means(rows: &[Row]) -> Vec<CategoryMean> {
    let mut out: Vec<CategoryMean> = Vec::new();
    let cats = ordered(rows.iter().map(|r| r.id.category()));
    let mut levels: Vec<Level> = rows
        .iter()
        .map(|r| r.level)
        .filter(|l| !l.is_host())
        .collect();
    levels.dedup();
    for level in levels {
        for cat in &cats {
            let logs: Vec<f64> = rows
                .iter()
                .filter(|r| r.level == level && &r.id.category() == cat)
                .filter_map(|r| r.relative.map(|i| i.estimate))
                .filter(|v| *v > 0.0)
                .map(f64::ln)
                .collect();
            if !logs.is_empty() {
                let geo_mean = (logs.iter().sum::<f64>() / logs.len() as f64).exp();
                out.push(CategoryMean {
                    level,
                    category: cat.clone(),
                    geo_mean,
                    metrics: logs.len(),
                });
            }
        }
    }
    out
}

/// Colours of the category summary lines in charts, in [`KNOWN`] order (then black).
pub const KNOWN_CATEGORY_COLORS: [(u8, u8, u8); 4] =
    [(0, 0, 0), (0, 90, 50), (120, 60, 0), (120, 0, 90)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_prefix() {
        assert_eq!(category_of("mem.stream"), "mem");
        let o = ordered(
            ["exit", "gpu", "cpu", "mem", "cpu"]
                .iter()
                .map(|s| s.to_string()),
        );
        assert_eq!(o, vec!["cpu", "mem", "exit", "gpu"]);
    }
}
