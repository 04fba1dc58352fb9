//! Why two runs may not be comparable. Each warning names the difference and says what
//! to do; `nestbench compare --strict` turns any of them into a failure.

use model::rundoc::{LevelRecord, RunDoc};
use model::{Accel, Level};
use std::fmt;

/// One comparability problem. `baseline`/`current` fields hold each run's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// Different suites (sample budgets and sizes differ).
    Suite {
        /// Baseline suite.
        baseline: String,
        /// Current suite.
        current: String,
    },
    /// A workload ran with different parameters.
    Params {
        /// Workload id.
        workload: String,
        /// Levels where the params differ.
        levels: Vec<Level>,
        /// `key: baseline → current` for each differing key (first level seen).
        differences: Vec<String>,
    },
    /// Different stack depth (deepest level in run.json).
    Depth {
        /// Baseline's deepest level.
        baseline: Level,
        /// Current's deepest level.
        current: Level,
    },
    /// A level ran with a different accelerator.
    Accel {
        /// The level.
        level: Level,
        /// Baseline accel.
        baseline: Accel,
        /// Current accel.
        current: Accel,
    },
    /// A level had different tuning flags.
    Tuning {
        /// The level.
        level: Level,
        /// Baseline flags, space-separated.
        baseline: String,
        /// Current flags, space-separated.
        current: String,
    },
    /// Different nestbench versions.
    ToolVersion {
        /// Baseline version.
        baseline: String,
        /// Current version.
        current: String,
    },
    /// A run was measured while the host had more runnable work than CPUs
    /// (provenance `host_load` above `host.vcpus`).
    BusyHost {
        /// `baseline` or `current`.
        run: &'static str,
        /// The higher of the 1-minute load averages recorded.
        load: f64,
        /// The host's CPUs.
        cpus: f64,
    },
    /// Different host CPU model at L0.
    HostCpu {
        /// Baseline CPU model.
        baseline: String,
        /// Current CPU model.
        current: String,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Suite { baseline, current } => write!(
                f,
                "suite differs: baseline {baseline}, current {current}; rerun both with the same --suite"
            ),
            Warning::Params { workload, levels, differences } => write!(
                f,
                "{workload} ran with different params at {}: {}; rerun with the same sizes (same --memory and suite)",
                levels.iter().map(Level::to_string).collect::<Vec<_>>().join(", "),
                differences.join(", ")
            ),
            Warning::Depth { baseline, current } => write!(
                f,
                "depth differs: baseline measured L0–{baseline}, current L0–{current}; compare runs with the same --levels"
            ),
            Warning::Accel { level, baseline, current } => write!(
                f,
                "{level} accel differs: baseline {baseline}, current {current}; figures at {level} and deeper are not comparable"
            ),
            Warning::Tuning { level, baseline, current } => write!(
                f,
                "{level} tuning differs: baseline [{baseline}], current [{current}]; exit and syscall figures are not comparable"
            ),
            Warning::ToolVersion { baseline, current } => write!(
                f,
                "nestbench version differs: baseline {baseline}, current {current}; a workload may have changed, check the changelog"
            ),
            Warning::BusyHost { run, load, cpus } => write!(
                f,
                "the {run} run was measured on a busy host (load {load:.1} on {cpus:.0} CPUs): its figures include other work; rerun both on an idle host"
            ),
            Warning::HostCpu { baseline, current } => write!(
                f,
                "host CPU differs: baseline {baseline:?}, current {current:?}; compare runs from the same machine type"
            ),
        }
    }
}

fn text(v: Option<&serde_json::Value>) -> String {
    match v {
        None => "none".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "unknown".into())
}

/// Every comparability problem between `b` (baseline) and `c` (current).
pub fn detect(b: &RunDoc, c: &RunDoc) -> Vec<Warning> {
    let mut out = Vec::new();
    if b.config.suite != c.config.suite {
        out.push(Warning::Suite {
            baseline: b.config.suite.name().into(),
            current: c.config.suite.name().into(),
        });
    }
    if b.deepest() != c.deepest() {
        out.push(Warning::Depth {
            baseline: b.deepest(),
            current: c.deepest(),
        });
    }
    if b.tool_version != c.tool_version {
        out.push(Warning::ToolVersion {
            baseline: b.tool_version.clone(),
            current: c.tool_version.clone(),
        });
    }
    let l0 = |d: &RunDoc| d.level(Level::HOST).map(|l| opt(&l.env.cpu_model));
    if let (Some(bc), Some(cc)) = (l0(b), l0(c)) {
        if bc != cc {
            out.push(Warning::HostCpu {
                baseline: bc,
                current: cc,
            });
        }
    }
    for (run, doc) in [("baseline", b), ("current", c)] {
        if let Some((load, cpus)) = busy(doc) {
            out.push(Warning::BusyHost { run, load, cpus });
        }
    }
    let pairs: Vec<(&LevelRecord, &LevelRecord)> = b
        .levels
        .iter()
        .filter_map(|bl| c.level(bl.level).map(|cl| (bl, cl)))
        .collect();
    for (bl, cl) in &pairs {
        if let (Some(ba), Some(ca)) = (bl.env.accel, cl.env.accel) {
            if ba != ca {
                out.push(Warning::Accel {
                    level: bl.level,
                    baseline: ba,
                    current: ca,
                });
            }
        }
        if bl.env.tuning != cl.env.tuning {
            out.push(Warning::Tuning {
                level: bl.level,
                baseline: bl.env.tuning.join(" "),
                current: cl.env.tuning.join(" "),
            });
        }
    }
    out.extend(params(&pairs));
    out
}

/// `(load, cpus)` when the run's host had more runnable work than CPUs.
fn busy(doc: &RunDoc) -> Option<(f64, f64)> {
    let cpus = f64::from(doc.provenance.host.vcpus?);
    let load = doc.provenance.host_load.peak_one_minute()?;
    (load > cpus).then_some((load, cpus))
}

/// One warning per workload whose params differ at some level.
fn params(pairs: &[(&LevelRecord, &LevelRecord)]) -> Vec<Warning> {
    let mut out: Vec<Warning> = Vec::new();
    for (bl, cl) in pairs {
        for br in &bl.results {
            let Some(cr) = cl.result(&br.id) else {
                continue;
            };
            // How a run went (e.g. how long its setup took) is not what it measured.
            let compared = |k: &&String| !model::setup::OUTCOME_PARAMS.contains(&k.as_str());
            let mut keys: Vec<&String> = br
                .params
                .keys()
                .chain(cr.params.keys())
                .filter(compared)
                .collect();
            keys.sort();
            keys.dedup();
            if keys.iter().all(|k| br.params.get(*k) == cr.params.get(*k)) {
                continue;
            }
            let differences: Vec<String> = keys
                .into_iter()
                .filter(|k| br.params.get(*k) != cr.params.get(*k))
                .map(|k| {
                    format!(
                        "{k}: {} → {}",
                        text(br.params.get(k)),
                        text(cr.params.get(k))
                    )
                })
                .collect();
            match out.iter_mut().find(
                |w| matches!(w, Warning::Params { workload, .. } if *workload == br.id.workload),
            ) {
                Some(Warning::Params { levels, .. }) => {
                    if !levels.contains(&bl.level) {
                        levels.push(bl.level);
                    }
                }
                _ => out.push(Warning::Params {
                    workload: br.id.workload.clone(),
                    levels: vec![bl.level],
                    differences,
                }),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use model::rundoc::{HostLoad, LoadAvg};

    fn doc(vcpus: Option<u32>, start: Option<&str>, end: Option<&str>) -> RunDoc {
        let mut d =
            RunDoc::from_json(include_str!("../../tests/fixtures/complete.json"), "f").unwrap();
        d.provenance.host.vcpus = vcpus;
        let load = |t: Option<&str>| t.map(|t| t.parse::<LoadAvg>().unwrap());
        d.provenance.host_load = HostLoad {
            at_start: load(start),
            at_end: load(end),
        };
        d
    }

    #[test]
    fn a_busy_host_is_named_in_a_warning() {
        let idle = doc(Some(2), Some("0.40 0.30 0.20"), None);
        let busy = doc(Some(2), Some("0.4 0.4 0.4"), Some("3.10 2.0 1.0"));
        assert!(detect(&idle, &idle).is_empty());
        let w = detect(&idle, &busy);
        assert_eq!(
            w,
            vec![Warning::BusyHost {
                run: "current",
                load: 3.1,
                cpus: 2.0
            }]
        );
        assert!(w[0].to_string().contains("busy host (load 3.1 on 2 CPUs)"));
    }

    #[test]
    fn params_that_only_say_how_setup_went_are_not_a_difference() {
        let base = doc(None, None, None);
        let mut cur = base.clone();
        let r = &mut cur.levels[0].results[0];
        r.params.insert("setup_s".into(), serde_json::json!(0.31));
        assert!(detect(&base, &cur).is_empty());
        cur.levels[0].results[0]
            .params
            .insert("prepared_mib".into(), serde_json::json!(18.5));
        let w = detect(&base, &cur);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].to_string().contains("prepared_mib: none → 18.5"),
            "{}",
            w[0]
        );
        assert!(!w[0].to_string().contains("setup_s"), "{}", w[0]);
    }

    #[test]
    fn unknown_load_is_not_a_warning() {
        let none = doc(None, None, None);
        assert!(detect(&none, &none).is_empty());
    }
}
