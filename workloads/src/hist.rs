//! A fixed-size log-linear latency histogram, so per-operation percentiles cost
//! neither memory proportional to the operation count nor a sort (a fast host does
//! millions of operations per sample; a 256 MiB guest must not store them all).
//! 64 linear sub-buckets per power of two bound the relative error to about 1.6%.

const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;
const BUCKETS: usize = (64 - SUB_BITS as usize + 1) * SUB as usize;

/// Counts of durations in nanoseconds.
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
        }
    }
}

fn index(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros();
    let sub = (v >> (exp - SUB_BITS)) & (SUB - 1);
    ((exp - SUB_BITS + 1) as u64 * SUB + sub) as usize
}

/// The largest value that falls into bucket `i`.
fn upper(i: usize) -> u64 {
    let i = i as u64;
    if i < SUB {
        return i;
    }
    let exp = i / SUB + SUB_BITS as u64 - 1;
    let sub = i % SUB;
    let lo = (SUB + sub) << (exp - SUB_BITS as u64);
    lo + ((1u64 << (exp - SUB_BITS as u64)) - 1)
}

impl Histogram {
    /// Records one value (ns).
    pub fn record(&mut self, ns: u64) {
        self.counts[index(ns)] += 1;
        self.total += 1;
    }

    /// Values recorded.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The value at quantile `q` in 0..=1 (the upper edge of its bucket), or None when
    /// empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(upper(i));
            }
        }
        None
    }

    /// Forgets everything recorded.
    pub fn clear(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0);
        self.total = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_two_percent() {
        let mut h = Histogram::default();
        for v in 1..=100_000u64 {
            h.record(v * 10);
        }
        let p99 = h.quantile(0.99).unwrap() as f64;
        assert!((p99 / 990_000.0 - 1.0).abs() < 0.02, "{p99}");
        assert_eq!(h.quantile(0.0), Some(10));
        let mut small = Histogram::default();
        small.record(3);
        assert_eq!(small.quantile(0.99), Some(3));
        assert!(Histogram::default().quantile(0.5).is_none());
    }

    #[test]
    fn every_value_lands_in_a_bucket_whose_upper_edge_bounds_it() {
        for v in [0u64, 1, 63, 64, 65, 127, 128, 1000, 1 << 40, u64::MAX] {
            let i = index(v);
            assert!(i < BUCKETS);
            assert!(upper(i) >= v, "{v}");
        }
    }
}
