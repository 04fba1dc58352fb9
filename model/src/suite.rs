//! Suites: how long each sample runs and how many samples are kept. Workloads read
//! their budgets from here so that `smoke`, `quick` and `standard` differ only in time.

use crate::Sizes;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A named suite. Every result has at least 5 samples in every suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Suite {
    /// All workloads, tiny sizes, whole suite < 30 s at L0: for tests.
    Smoke,
    /// < 2 min at L0: the default.
    Quick,
    /// < 10 min at L0.
    Standard,
}

impl Suite {
    /// All suites, in order of length.
    pub const ALL: [Suite; 3] = [Suite::Smoke, Suite::Quick, Suite::Standard];

    /// Name as used on command lines and in run.json.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Smoke => "smoke",
            Suite::Quick => "quick",
            Suite::Standard => "standard",
        }
    }

    /// Timed samples kept per result. quick keeps 10, enough for a coefficient of
    /// variation per metric (scripts/bench-reference reports it).
    pub fn samples(self) -> usize {
        match self {
            Suite::Smoke => 5,
            Suite::Quick => 10,
            Suite::Standard => 10,
        }
    }

    /// Time budget of one sample: a sample runs its kernel this long and reports a
    /// rate, never a fixed amount of work (deep levels are 1000x slower). quick's 26
    /// sample sets of 10 × 0.3 s plus warm-ups take about 85 s at L0. 0.3 s rather
    /// than 0.4 s keeps the main job (4 levels) near 11 minutes on a 2-core host; it
    /// cost a median 1.16× the in-run CV of 0.4 s samples (`scripts/bench-budget`,
    /// docs/ci.md), while the regression gate's spread is mostly run-to-run drift.
    pub fn sample_budget(self) -> Duration {
        match self {
            Suite::Smoke => Duration::from_millis(100),
            Suite::Quick => Duration::from_millis(300),
            Suite::Standard => Duration::from_millis(2000),
        }
    }

    /// Untimed warm-up before the samples of a workload.
    pub fn warmup(self) -> Duration {
        self.sample_budget() / 2
    }

    /// The most a workload's untimed setup (writing its file, first-touching its
    /// buffers) may take before its samples start. Setup that grows with size and
    /// shrinks with the level's speed is what made a deep level's suite several times
    /// longer than L0's (a 256 MiB file written at 1.85 MB/s); with this budget a level
    /// 100× slower prepares less, says so in `params` (`prepared_mib`,
    /// `setup_truncated`), and takes at most this much longer per workload. quick's
    /// 2.5 s lets a main-job L0 and L1 prepare their sizes in full (128 MiB working
    /// sets, a 256 MiB file: L0 took 0.05–0.2 s, L1 0.4–1.0 s); with 5 s, L2–L4 spent
    /// 3–6 s on each of four setups and L2/L3/L4's suites were 1.11/1.20/1.46× L0's,
    /// with 2.5 s (and disk.rand on disk.seq's file) L2/L3 were 1.07–1.08/1.11×
    /// (`scripts/bench-main-job`, docs/qemu.md). A bare agent run on a host
    /// with a huge last-level cache (5.6 GiB of STREAM arrays under a 480 MiB L3 take
    /// 2–8 s to first-touch) may prepare only part, and says so.
    pub fn setup_budget(self) -> Duration {
        match self {
            Suite::Smoke => Duration::from_secs(2),
            Suite::Quick => Duration::from_millis(2500),
            Suite::Standard => Duration::from_secs(30),
        }
    }

    /// The suite's working-set sizes, the one table of them: where [`crate::sizes::fit`]
    /// starts from, for a bare `nestbench-agent run` (fitted to its own machine) and for
    /// the controller (fitted to the smallest level, `harness/src/sizing.rs`): raised to
    /// 4× the last-level cache for the memory workloads, capped by the room there is.
    /// MiB: STREAM total, latency buffer, page-fault region, disk file.
    pub fn default_sizes(self) -> Sizes {
        let [stream, latency, pagefault, disk] = match self {
            Suite::Smoke => [32, 32, 16, 16],
            Suite::Quick => [256, 128, 64, 256],
            Suite::Standard => [512, 256, 128, 1024],
        };
        Sizes {
            stream_mib: Some(stream),
            latency_mib: Some(latency),
            pagefault_mib: Some(pagefault),
            disk_mib: Some(disk),
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A suite name that is not one of smoke, quick, standard.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown suite {0:?}: use smoke, quick or standard")]
pub struct UnknownSuite(pub String);

impl FromStr for Suite {
    type Err = UnknownSuite;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Suite::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| UnknownSuite(s.to_string()))
    }
}
