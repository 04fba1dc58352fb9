//! Time-budgeted measurement: the one loop every kernel runs inside.
//!
//! Deep levels are 100–4000× slower than the host, so a sample never does a fixed
//! amount of work: it runs batches of its kernel until the sample budget elapses and
//! reports work done per second of wall time. The batch size is calibrated during the
//! untimed warm-up *at the level being measured*, aiming at a small fraction of the
//! budget, so the clock is read rarely on a fast host and a slow level overshoots its
//! budget by at most about one batch (or one operation, when a single one is slower).
//!
//! What happens before the warm-up — writing a file, first-touching buffers — is
//! budgeted too ([`Timing::setup`], see `crate::setup`), for the same reason: work of a
//! fixed size takes 100× longer where the level is 100× slower.

use std::sync::{Barrier, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What one batch of a kernel did: units of work (bytes, operations, faults…) and
/// time inside the batch that must not count (e.g. remapping memory).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Step {
    /// Work done, in the kernel's unit.
    pub units: f64,
    /// Time spent in the batch that is not part of the measurement.
    pub untimed: Duration,
}

impl Step {
    /// A batch that did `units` of work, all of it timed.
    pub fn units(units: f64) -> Self {
        Step {
            units,
            untimed: Duration::ZERO,
        }
    }
}

/// One timed sample: work done over the time it took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measure {
    /// Work done, in the kernel's unit.
    pub units: f64,
    /// Timed wall time.
    pub elapsed: Duration,
}

impl Measure {
    /// Units per second.
    pub fn per_second(&self) -> f64 {
        self.units / self.elapsed.as_secs_f64().max(1e-12)
    }

    /// Nanoseconds per unit.
    pub fn ns_per_unit(&self) -> f64 {
        self.elapsed.as_secs_f64() * 1e9 / self.units.max(1e-12)
    }
}

/// How long a workload warms up, how long each sample runs and how many are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Untimed warm-up (also calibrates the batch size).
    pub warmup: Duration,
    /// Time budget of one sample.
    pub sample: Duration,
    /// Timed samples kept per result.
    pub samples: usize,
    /// The most a workload's untimed setup may take ([`model::Suite::setup_budget`]).
    pub setup: Duration,
}

impl Timing {
    /// The suite's timing ([`model::Suite::sample_budget`] and friends).
    pub fn of(suite: model::Suite) -> Self {
        Timing {
            warmup: suite.warmup(),
            sample: suite.sample_budget(),
            samples: suite.samples(),
            setup: suite.setup_budget(),
        }
    }

    /// The same number of samples with another per-sample budget (warm-up = half of it;
    /// the setup budget unchanged); for tests and debugging, recorded in every result's
    /// `params.budget_s`.
    pub fn with_budget(self, sample: Duration) -> Self {
        Timing {
            warmup: sample / 2,
            sample,
            ..self
        }
    }
}

/// Adapts how many operations run between two clock reads.
#[derive(Debug, Clone)]
pub struct Batcher {
    n: u64,
    target: Duration,
}

impl Batcher {
    /// Starts at one operation per batch, aiming at batches of 1/20 of `budget`.
    pub fn new(budget: Duration) -> Self {
        Batcher {
            n: 1,
            target: (budget / 20).max(Duration::from_micros(50)),
        }
    }

    /// Operations per batch now.
    pub fn batch(&self) -> u64 {
        self.n
    }

    /// Runs the kernel for `dur` (at least one batch), growing or shrinking the batch
    /// towards the target duration.
    pub fn warm_up(&mut self, dur: Duration, kernel: &mut impl FnMut(u64) -> Step) {
        let start = Instant::now();
        loop {
            let t0 = Instant::now();
            let step = kernel(self.n);
            let t = t0.elapsed().saturating_sub(step.untimed);
            self.adapt(t);
            if start.elapsed() >= dur {
                break;
            }
        }
    }

    fn adapt(&mut self, t: Duration) {
        let target = self.target.as_secs_f64();
        let t = t.as_secs_f64();
        if t < target / 2.0 {
            let factor = if t <= 0.0 {
                16.0
            } else {
                (target / t).min(16.0)
            };
            self.n = ((self.n as f64 * factor) as u64).clamp(1, 1 << 40);
        } else if t > target * 2.0 {
            self.n = ((self.n as f64 * target / t) as u64).max(1);
        }
    }

    /// Runs batches until `dur` of timed work has elapsed (or three times that of wall
    /// time, when much of it is untimed) and returns the work done.
    pub fn run_for(&mut self, dur: Duration, kernel: &mut impl FnMut(u64) -> Step) -> Measure {
        let wall = Instant::now();
        let mut units = 0.0;
        let mut timed = Duration::ZERO;
        while timed < dur && wall.elapsed() < dur * 3 {
            let t0 = Instant::now();
            let step = kernel(self.n);
            timed += t0.elapsed().saturating_sub(step.untimed);
            units += step.units;
        }
        Measure {
            units,
            elapsed: timed,
        }
    }
}

/// Warm-up, then `timing.samples` timed samples of a single-threaded kernel.
pub fn samples(timing: &Timing, kernel: impl FnMut(u64) -> Step) -> Vec<Measure> {
    samples_with(timing, kernel, |_| {})
}

/// Like [`samples`], calling `after` right after each timed sample: to read and reset
/// per-sample state, or to add work that belongs to the sample (e.g. a final
/// fdatasync) to its `elapsed`.
pub fn samples_with(
    timing: &Timing,
    mut kernel: impl FnMut(u64) -> Step,
    mut after: impl FnMut(&mut Measure),
) -> Vec<Measure> {
    let mut b = Batcher::new(timing.sample);
    b.warm_up(timing.warmup, &mut kernel);
    (0..timing.samples)
        .map(|_| {
            let mut m = b.run_for(timing.sample, &mut kernel);
            after(&mut m);
            m
        })
        .collect()
}

/// Like [`samples`] with one kernel per thread, all running at once: each sample is
/// the sum of the threads' work over the span from the first start to the last end.
/// Threads are spawned once, warm up together and meet at a barrier before each
/// sample. Fails only when a thread cannot be spawned.
pub fn parallel_samples<K: FnMut(u64) -> Step + Send>(
    timing: &Timing,
    kernels: Vec<K>,
) -> std::io::Result<Vec<Measure>> {
    let n = kernels.len();
    let gate = Gate::default();
    let barrier = Barrier::new(n);
    let per_thread = thread::scope(|s| {
        let mut handles = Vec::with_capacity(n);
        for (i, mut k) in kernels.into_iter().enumerate() {
            let (gate, barrier) = (&gate, &barrier);
            let spawned = thread::Builder::new()
                .name(format!("nb-worker-{i}"))
                .spawn_scoped(s, move || {
                    if !gate.wait() {
                        return Vec::new();
                    }
                    let mut b = Batcher::new(timing.sample);
                    barrier.wait();
                    b.warm_up(timing.warmup, &mut k);
                    (0..timing.samples)
                        .map(|_| {
                            barrier.wait();
                            let start = Instant::now();
                            let m = b.run_for(timing.sample, &mut k);
                            (start, Instant::now(), m.units)
                        })
                        .collect()
                });
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    gate.open(false);
                    return Err(e);
                }
            }
        }
        gate.open(true);
        Ok(handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect::<Vec<_>>())
    })?;
    Ok((0..timing.samples)
        .map(|i| {
            let rows: Vec<_> = per_thread.iter().filter_map(|t| t.get(i)).collect();
            let start = rows.iter().map(|r| r.0).min().unwrap_or_else(Instant::now);
            let end = rows.iter().map(|r| r.1).max().unwrap_or(start);
            Measure {
                units: rows.iter().map(|r| r.2).sum(),
                elapsed: end - start,
            }
        })
        .collect())
}

/// Holds spawned threads until all of them exist (or tells them to quit), so a failed
/// spawn never leaves the others waiting at a barrier forever.
#[derive(Default)]
struct Gate {
    state: Mutex<Option<bool>>,
    cv: Condvar,
}

impl Gate {
    fn open(&self, go: bool) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = Some(go);
        self.cv.notify_all();
    }

    fn wait(&self) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(go) = *s {
                return go;
            }
            s = self.cv.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batcher_grows_towards_its_target_and_stops_on_budget() {
        let mut b = Batcher::new(Duration::from_millis(20));
        let mut spin = |n: u64| {
            let mut x = 1u64;
            for _ in 0..n {
                x = std::hint::black_box(x.wrapping_mul(3).wrapping_add(1));
            }
            Step::units(n as f64)
        };
        b.warm_up(Duration::from_millis(10), &mut spin);
        assert!(b.batch() > 1000, "batch stayed at {}", b.batch());
        let t = Instant::now();
        let m = b.run_for(Duration::from_millis(20), &mut spin);
        assert!(m.elapsed >= Duration::from_millis(20));
        assert!(t.elapsed() < Duration::from_millis(200));
        assert!(m.per_second() > 0.0);
    }

    #[test]
    fn slow_operations_keep_batches_at_one() {
        let mut b = Batcher::new(Duration::from_millis(20));
        let mut slow = |n: u64| {
            thread::sleep(Duration::from_millis(5) * n as u32);
            Step::units(n as f64)
        };
        b.warm_up(Duration::from_millis(10), &mut slow);
        assert_eq!(b.batch(), 1);
    }

    #[test]
    fn parallel_samples_sum_the_threads() {
        let t = Timing {
            warmup: Duration::from_millis(5),
            sample: Duration::from_millis(10),
            samples: 5,
            setup: Duration::ZERO,
        };
        let kernels: Vec<_> = (0..2).map(|_| |n: u64| Step::units(n as f64)).collect();
        let m = parallel_samples(&t, kernels).unwrap();
        assert_eq!(m.len(), 5);
        assert!(m
            .iter()
            .all(|m| m.units > 0.0 && m.elapsed >= Duration::from_millis(10)));
    }
}
