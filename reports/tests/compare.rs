//! `compare` on run sets made from the fixtures: A/A sets, one injected regression,
//! an improvement, an underpowered comparison, single runs with and without a noise
//! profile, missing levels and metrics, mixed sets, unreadable baselines, and
//! comparability warnings. Every set is seeded: the same sets every time.

mod common;

use model::rundoc::{LevelStatus, RunDoc};
use reports::compare::{
    self, compare, load_run, CompareOptions, Profiles, RunSet, SetError, Status,
};
use reports::stats::rng::SplitMix64;
use reports::stats::verdict::Reason;
use reports::stats::welch::NoiseProfile;

fn opts() -> CompareOptions {
    CompareOptions::default()
}

/// A standard normal draw (Box–Muller on the crate's seeded generator).
fn normal(rng: &mut SplitMix64) -> f64 {
    let u = |r: &mut SplitMix64| ((r.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let (a, b) = (u(rng), u(rng));
    (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
}

/// `n` runs of `doc`, each with every result scaled by its own run-to-run factor
/// (lognormal, log-SD `drift`, one factor per run × result), ids `{tag}-{i}`.
fn runs(doc: &RunDoc, n: usize, drift: f64, seed: u64, tag: &str) -> Vec<RunDoc> {
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|i| {
            let mut d = doc.clone();
            d.run_id = format!("{tag}-{i}");
            for l in &mut d.levels {
                for r in &mut l.results {
                    let k = (drift * normal(&mut rng)).exp();
                    r.samples.iter_mut().for_each(|s| *s *= k);
                }
            }
            d
        })
        .collect()
}

fn set(label: &str, runs: Vec<RunDoc>) -> RunSet {
    RunSet::new(label, runs).unwrap()
}

fn one(label: &str, doc: RunDoc) -> RunSet {
    set(label, vec![doc])
}

fn scale(docs: &mut [RunDoc], level: u32, key: &str, factor: f64) {
    for d in docs {
        result_mut(d, level, key)
            .samples
            .iter_mut()
            .for_each(|s| *s *= factor);
    }
}

fn result_mut<'a>(doc: &'a mut RunDoc, level: u32, key: &str) -> &'a mut model::WorkloadResult {
    doc.levels
        .iter_mut()
        .find(|l| l.level == level)
        .unwrap()
        .results
        .iter_mut()
        .find(|r| r.id.key() == key)
        .unwrap()
}

#[test]
fn aa_sets_with_a_steady_host_are_unchanged_everywhere() {
    let doc = common::doc("complete.json");
    let b = set("a", runs(&doc, 5, 0.005, 1, "a"));
    let c = set("b", runs(&doc, 5, 0.005, 2, "b"));
    let cmp = compare(&b, &c, &opts(), &Profiles::none());
    assert_eq!(cmp.changes.len(), 4 * 21);
    assert_eq!(cmp.tested, 4 * 21);
    assert!(
        cmp.changes.iter().all(|c| c.status == Status::Unchanged),
        "{}",
        compare::text::render(&cmp)
    );
    assert!(cmp.changes.iter().all(|c| c.mde.unwrap() < 0.05));
    assert!(!cmp.has_regression(false));
    assert!(cmp.warnings.is_empty(), "{:?}", cmp.warnings);
    assert_eq!(cmp.runs, (5, 5));
}

#[test]
fn aa_sets_on_a_drifting_host_are_inconclusive_not_unchanged() {
    // Run-to-run drift of 15 % (cpu.int's on this project's machines) at 5 vs 5: the
    // gate cannot see 5 %, and says so instead of "unchanged".
    let doc = common::doc("complete.json");
    let b = set("a", runs(&doc, 5, 0.15, 3, "a"));
    let c = set("b", runs(&doc, 5, 0.15, 4, "b"));
    let cmp = compare(&b, &c, &opts(), &Profiles::none());
    assert_eq!(
        cmp.count(Status::Regressed) + cmp.count(Status::Improved),
        0
    );
    assert_eq!(cmp.count(Status::Unchanged), 0);
    assert!(cmp
        .changes
        .iter()
        .all(|c| c.status == Status::Inconclusive(Reason::Underpowered)
            || c.status == Status::Inconclusive(Reason::Unconfirmed)));
}

#[test]
fn one_metric_twenty_percent_worse_is_the_only_regression() {
    let doc = common::doc("complete.json");
    let b = runs(&doc, 5, 0.01, 5, "a");
    let mut c = runs(&doc, 5, 0.01, 6, "b");
    // A latency: 20 % worse means 20 % larger.
    scale(&mut c, 2, "exit.syscall/latency", 1.2);
    let cmp = compare(&set("a", b), &set("b", c), &opts(), &Profiles::none());
    let regressed: Vec<_> = cmp.with_status(Status::Regressed).collect();
    assert_eq!(regressed.len(), 1, "{}", compare::text::render(&cmp));
    assert_eq!(
        (regressed[0].level.0, regressed[0].id.key().as_str()),
        (2, "exit.syscall/latency")
    );
    let r = regressed[0].ratio.unwrap();
    assert!(r.low > 1.05 && r.low < 1.2 && r.high > 1.2, "{r:?}");
    assert!(cmp.has_regression(true));
    assert_eq!(cmp.count(Status::Improved), 0);
}

#[test]
fn a_rate_twenty_percent_better_is_improved_not_regressed() {
    let doc = common::doc("complete.json");
    let b = runs(&doc, 5, 0.01, 7, "a");
    let mut c = runs(&doc, 5, 0.01, 8, "b");
    scale(&mut c, 1, "mem.stream/triad", 1.2);
    let cmp = compare(&set("a", b), &set("b", c), &opts(), &Profiles::none());
    let improved: Vec<_> = cmp.with_status(Status::Improved).collect();
    assert_eq!(improved.len(), 1);
    assert_eq!(improved[0].id.key(), "mem.stream/triad");
    assert!(!cmp.has_regression(false));
}

#[test]
fn a_real_change_hidden_by_noise_is_inconclusive_not_unchanged() {
    let doc = common::doc("complete.json");
    let b = runs(&doc, 3, 0.25, 9, "a");
    let mut c = runs(&doc, 3, 0.25, 10, "b");
    scale(&mut c, 1, "cpu.int/ops", 0.8);
    let cmp = compare(&set("a", b), &set("b", c), &opts(), &Profiles::none());
    let row = cmp
        .changes
        .iter()
        .find(|c| c.level == 1 && c.id.key() == "cpu.int/ops")
        .unwrap();
    assert!(row.status.is_inconclusive(), "{:?}", row.status);
    assert!(row.mde.unwrap() > 0.2);
}

#[test]
fn single_runs_without_history_say_how_many_runs_would_do() {
    let doc = common::doc("complete.json");
    let cmp = compare(
        &one("a", doc.clone()),
        &one("b", doc),
        &opts(),
        &Profiles::none(),
    );
    assert!(cmp
        .changes
        .iter()
        .all(|c| c.status == Status::Inconclusive(Reason::TooFewRuns)));
    let note = cmp.single_run_note.clone().unwrap();
    assert!(
        note.contains("one run per side cannot separate a change from this host's drift")
            && note.contains("runs per side would detect"),
        "{note}"
    );
    assert!(!cmp.has_regression(false));
}

#[test]
fn single_runs_with_a_noise_profile_are_decided() {
    let doc = common::doc("complete.json");
    let mut cur = doc.clone();
    scale(std::slice::from_mut(&mut cur), 1, "cpu.fp/flops", 0.8);
    let mut profiles = Profiles::none();
    for l in &doc.levels {
        for r in &l.results {
            profiles.insert(l.level, &r.id.key(), NoiseProfile::new(0.01, 30).unwrap());
        }
    }
    let cmp = compare(&one("a", doc), &one("b", cur), &opts(), &profiles);
    let regressed: Vec<_> = cmp.with_status(Status::Regressed).collect();
    assert_eq!(regressed.len(), 1, "{}", compare::text::render(&cmp));
    assert_eq!(regressed[0].id.key(), "cpu.fp/flops");
    assert_eq!(cmp.single_run_note, None);
}

#[test]
fn missing_level_and_metric_are_missing_rows_not_panics() {
    let base = common::doc("complete.json");
    let mut cur = base.clone();
    cur.levels[3].status = LevelStatus::Failed;
    cur.levels[3].error = Some("sshd did not answer".into());
    cur.levels[3].results.clear();
    cur.levels[1]
        .results
        .retain(|r| r.id.key() != "cpu.fp/flops");
    let cmp = compare(
        &set("a", runs(&base, 3, 0.005, 11, "a")),
        &set("b", runs(&cur, 3, 0.005, 12, "b")),
        &opts(),
        &Profiles::none(),
    );
    let missing: Vec<_> = cmp.with_status(Status::Missing).collect();
    assert_eq!(missing.len(), 21 + 1);
    assert!(missing
        .iter()
        .any(|c| c.level == 1 && c.id.key() == "cpu.fp/flops"));
    assert!(missing.iter().filter(|c| c.level == 3).all(|c| c
        .note
        .as_deref()
        .unwrap()
        .contains("sshd did not answer")));
    assert_eq!(cmp.failed_levels, (0, 3));
    assert!(cmp.has_regression(false));
    assert!(!cmp.has_regression(true));
}

#[test]
fn metrics_only_in_current_are_new_not_regressions() {
    let mut base = common::doc("complete.json");
    let cur = base.clone();
    base.levels[2]
        .results
        .retain(|r| r.id.workload != "exit.timer");
    let cmp = compare(&one("a", base), &one("b", cur), &opts(), &Profiles::none());
    assert_eq!(cmp.count(Status::New), 2);
    assert!(!cmp.has_regression(false));
}

#[test]
fn a_set_mixing_configurations_is_refused_naming_the_field() {
    let doc = common::doc("complete.json");
    let mut rs = runs(&doc, 3, 0.01, 13, "a");
    rs[2].config.suite = model::Suite::Smoke;
    let e = RunSet::new("runs/", rs).unwrap_err();
    assert!(
        matches!(&e, SetError::Mixed { field, .. } if field == "suite"),
        "{e}"
    );
    assert!(
        e.to_string().contains("a-2") && e.to_string().contains("smoke"),
        "{e}"
    );
    assert!(matches!(
        RunSet::new("none", vec![]),
        Err(SetError::Empty { .. })
    ));
    // Tags are not configuration: runs tagged differently still form one set.
    let mut rs = runs(&doc, 2, 0.01, 14, "a");
    rs[1].config.tags.insert("qemu".into(), "abc".into());
    assert!(RunSet::new("tagged", rs).is_ok());
}

#[test]
fn corrupt_and_too_new_baselines_are_clear_errors() {
    let dir = common::scratch("compare-bad");
    let corrupt = dir.join("corrupt.json");
    std::fs::write(&corrupt, "{\"schema_version\": 1, \"run_id\": ").unwrap();
    let err = load_run(&corrupt).unwrap_err();
    assert!(err.is_input_error());
    let text = err.to_string();
    assert!(
        text.contains("corrupt.json") && text.contains("not a valid nestbench run.json"),
        "{text}"
    );

    let mut newer: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::fixture("complete.json")).unwrap())
            .unwrap();
    newer["schema_version"] = 3.into();
    let run = dir.join("newer");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("run.json"), newer.to_string()).unwrap();
    let text = load_run(&run).unwrap_err().to_string();
    assert!(
        text.contains("schema_version 3") && text.contains("upgrade nestbench"),
        "{text}"
    );

    let text = load_run(&dir.join("absent")).unwrap_err().to_string();
    assert!(text.contains("absent"), "{text}");
}

#[test]
fn different_suites_and_environments_are_named_in_warnings() {
    let base = common::doc("complete.json");
    let mut cur = base.clone();
    cur.config.suite = model::Suite::Smoke;
    cur.levels[1].env.accel = Some(model::Accel::Kvm);
    cur.levels[2].env.tuning.push("mitigations=off".into());
    cur.levels[0].env.cpu_model = Some("Intel Xeon".into());
    cur.tool_version = "0.2.0".into();
    for l in &mut cur.levels {
        for r in l
            .results
            .iter_mut()
            .filter(|r| r.id.workload == "mem.stream")
        {
            r.params.insert("array_mib".into(), 32.into());
        }
    }
    let cmp = compare(&one("b", base), &one("c", cur), &opts(), &Profiles::none());
    let text: Vec<String> = cmp.warnings.iter().map(|w| w.to_string()).collect();
    let has = |needle: &str| text.iter().any(|t| t.contains(needle));
    assert!(
        has("suite differs: baseline quick, current smoke"),
        "{text:?}"
    );
    assert!(
        has("L1 accel differs: baseline tcg, current kvm"),
        "{text:?}"
    );
    assert!(
        has("L2 tuning differs") && has("mitigations=off"),
        "{text:?}"
    );
    assert!(has("host CPU differs"), "{text:?}");
    assert!(has("version differs"), "{text:?}");
    assert!(
        has("mem.stream ran with different params at L0, L1, L2, L3: array_mib: 64 → 32"),
        "{text:?}"
    );
    assert_eq!(text.len(), 6, "{text:?}");
    assert!(!cmp.fails(false, false));
    assert!(
        cmp.fails(false, true),
        "--strict turns warnings into a failure"
    );
}

#[test]
fn option_validation() {
    assert!(CompareOptions::new(0.05, 0.05).is_ok());
    assert!(CompareOptions::new(-0.1, 0.05).is_err());
    assert!(CompareOptions::new(0.05, 0.0).is_err());
    assert!(CompareOptions::new(0.05, 1.5).is_err());
}

#[test]
fn text_and_markdown_snapshots_and_chart() {
    let base = common::doc("complete.json");
    let cur = common::doc("partial.json");
    let b = runs(&base, 5, 0.01, 15, "base");
    let mut c = runs(&cur, 5, 0.01, 16, "cur");
    scale(&mut c, 1, "exit.cpuid/latency", 1.3);
    let cmp = compare(
        &set("baseline/", b),
        &set("current/", c),
        &opts(),
        &Profiles::none(),
    );
    common::assert_snapshot("compare.txt", &compare::text::render(&cmp));
    common::assert_snapshot("compare.md", &compare::markdown::render(&cmp, false));
    let dir = common::scratch("compare-chart");
    let written = reports::charts::compare::write(&cmp, &dir).unwrap();
    assert!(written.svg.contains("<svg") && written.svg.len() > 5_000);
    let png = std::fs::read(&written.png_path).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    assert!(png.len() > 20_000);
}
