//! `compare` on fixture runs: identical runs, one injected regression, noise, missing
//! levels and metrics, unreadable baselines, and comparability warnings.

mod common;

use model::rundoc::{LevelStatus, RunDoc};
use reports::compare::{self, compare, load_run, CompareOptions, Status, Warning};

fn opts() -> CompareOptions {
    CompareOptions::default()
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
fn identical_runs_have_no_regression() {
    let doc = common::doc("complete.json");
    let cmp = compare(&doc, &doc, &opts());
    assert_eq!(cmp.changes.len(), 4 * 21);
    assert!(
        cmp.changes.iter().all(|c| c.status == Status::Unchanged),
        "{}",
        compare::text::render(&cmp)
    );
    assert!(!cmp.has_regression(false));
    assert!(cmp.warnings.is_empty(), "{:?}", cmp.warnings);
}

#[test]
fn one_metric_twenty_percent_worse_is_the_only_regression() {
    let base = common::doc("complete.json");
    let mut cur = base.clone();
    // A latency: 20 % worse means 20 % larger.
    for s in &mut result_mut(&mut cur, 2, "exit.syscall/latency").samples {
        *s *= 1.2;
    }
    let cmp = compare(&base, &cur, &opts());
    let regressed: Vec<_> = cmp.with_status(Status::Regressed).collect();
    assert_eq!(regressed.len(), 1, "{}", compare::text::render(&cmp));
    assert_eq!(
        (regressed[0].level.0, regressed[0].id.key().as_str()),
        (2, "exit.syscall/latency")
    );
    assert!((regressed[0].change.unwrap() - 0.2).abs() < 1e-9);
    assert_eq!(cmp.count(Status::Unchanged), cmp.changes.len() - 1);
    assert!(cmp.has_regression(true));
    let md = compare::markdown::render(&cmp, false);
    assert!(
        md.contains("regression") && md.contains("exit.syscall/latency"),
        "{md}"
    );
}

#[test]
fn a_rate_twenty_percent_better_is_improved_not_regressed() {
    let base = common::doc("complete.json");
    let mut cur = base.clone();
    for s in &mut result_mut(&mut cur, 1, "mem.stream/triad").samples {
        *s *= 1.2;
    }
    let cmp = compare(&base, &cur, &opts());
    assert_eq!(cmp.count(Status::Improved), 1);
    assert!(!cmp.has_regression(false));
}

#[test]
fn noisy_but_unchanged_samples_are_not_a_regression() {
    let mut base = common::doc("complete.json");
    let mut cur = base.clone();
    result_mut(&mut base, 1, "disk.seq/read").samples =
        vec![380.0, 520.0, 260.0, 450.0, 330.0, 230.0, 480.0];
    result_mut(&mut cur, 1, "disk.seq/read").samples =
        vec![300.0, 470.0, 250.0, 500.0, 240.0, 410.0, 360.0];
    let cmp = compare(&base, &cur, &opts());
    let row = cmp
        .changes
        .iter()
        .find(|c| c.level == 1 && c.id.key() == "disk.seq/read")
        .unwrap();
    assert!(row.current.as_ref().unwrap().noisy);
    assert!(
        row.change.unwrap().abs() > 0.05,
        "the medians differ by more than the threshold"
    );
    assert_eq!(row.status, Status::Unchanged, "p = {:?}", row.p_value);
    assert!(!cmp.has_regression(false));
}

#[test]
fn small_but_significant_change_is_below_the_noise_threshold() {
    let base = common::doc("complete.json");
    let mut cur = base.clone();
    for s in &mut result_mut(&mut cur, 0, "cpu.int/ops").samples {
        *s *= 0.97;
    }
    let cmp = compare(&base, &cur, &opts());
    assert!(
        !cmp.has_regression(false),
        "{}",
        compare::text::render(&cmp)
    );
    let strict = CompareOptions::new(0.02, 0.05).unwrap();
    assert!(compare(&base, &cur, &strict).has_regression(false));
}

#[test]
fn missing_level_and_metric_are_missing_rows_not_panics() {
    let base = common::doc("complete.json");
    let mut cur = base.clone();
    cur.levels[3].status = LevelStatus::Failed;
    cur.levels[3].error = Some("L3 did not answer over SSH".into());
    cur.levels[3].results.clear();
    cur.levels[1]
        .results
        .retain(|r| r.id.key() != "cpu.fp/flops");
    let cmp = compare(&base, &cur, &opts());
    let missing: Vec<_> = cmp.with_status(Status::Missing).collect();
    assert_eq!(missing.len(), 21 + 1);
    assert!(missing
        .iter()
        .any(|c| c.level == 1 && c.id.key() == "cpu.fp/flops"));
    assert!(missing.iter().filter(|c| c.level == 3).all(|c| c
        .note
        .as_deref()
        .unwrap()
        .contains("L3 failed")));
    assert_eq!(cmp.count(Status::Regressed), 0);
    assert!(cmp.has_regression(false));
    assert!(!cmp.has_regression(true));

    // A whole level absent from the current run.
    let mut shallow = base.clone();
    shallow.levels.truncate(2);
    let cmp = compare(&base, &shallow, &opts());
    assert_eq!(cmp.count(Status::Missing), 2 * 21);
    assert!(cmp.warnings.iter().any(|w| matches!(
        w,
        Warning::Depth {
            baseline: model::Level(3),
            current: model::Level(1)
        }
    )));
}

#[test]
fn metrics_only_in_current_are_new_not_regressions() {
    let mut base = common::doc("complete.json");
    let cur = base.clone();
    base.levels[2]
        .results
        .retain(|r| r.id.workload != "exit.timer");
    let cmp = compare(&base, &cur, &opts());
    assert_eq!(cmp.count(Status::New), 2);
    assert!(!cmp.has_regression(false));
}

#[test]
fn partial_baseline_against_complete_current() {
    let base = common::doc("partial.json");
    let cur = common::doc("complete.json");
    let cmp = compare(&base, &cur, &opts());
    // L3 failed in the baseline: its metrics are new; disk.fsync failed at L2 in the baseline.
    assert_eq!(
        cmp.with_status(Status::New)
            .filter(|c| c.level == 3)
            .count(),
        21
    );
    assert!(cmp
        .with_status(Status::New)
        .any(|c| c.level == 2 && c.id.workload == "disk.fsync"));
    assert_eq!(cmp.count(Status::Missing), 0);
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
    let cmp = compare(&base, &cur, &opts());
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
    let mut cur = common::doc("partial.json");
    for s in &mut result_mut(&mut cur, 1, "exit.cpuid/latency").samples {
        *s *= 1.3;
    }
    let cmp = compare(&base, &cur, &opts());
    common::assert_snapshot("compare.txt", &compare::text::render(&cmp));
    common::assert_snapshot("compare.md", &compare::markdown::render(&cmp, false));
    let dir = common::scratch("compare-chart");
    let written = reports::charts::compare::write(&cmp, &dir).unwrap();
    assert!(written.svg.contains("<svg") && written.svg.len() > 5_000);
    let png = std::fs::read(&written.png_path).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    assert!(png.len() > 20_000);
}
