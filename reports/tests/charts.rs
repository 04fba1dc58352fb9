//! Every chart kind rendered from generated runs (`reports::fixtures`) that each differ
//! from the base in one configuration field: a run's charts (complete, and with a
//! failed level), compare, the configuration comparison with 2, 3 and 6 inputs, and a
//! trend. Each must exist in both formats, carry a hover target with a value for every
//! point it draws, say what each level was, never reuse a series style, and explain
//! the point it clips. The files stay in `target/tmp/reports-tests/charts-*` to be
//! looked at.

mod common;

use model::rundoc::RunDoc;
use reports::compare::{self, CompareOptions, Profiles, RunSet};
use reports::configs::{Configs, Input};
use reports::fixtures::{self, Spec};
use std::path::Path;

fn variant(field: &str) -> Spec {
    fixtures::variants()
        .into_iter()
        .find(|(f, _)| *f == field)
        .unwrap()
        .1
}

fn titles(svg: &str) -> Vec<&str> {
    svg.match_indices("<title>")
        .map(|(i, _)| {
            let rest = &svg[i + 7..];
            &rest[..rest.find("</title>").unwrap()]
        })
        .collect()
}

/// The text of every `<text>` element.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .map(|t| {
            let body = &t[t.find('>').unwrap() + 1..];
            body[..body.find("</text>").unwrap()].trim().to_string()
        })
        .collect()
}

fn has(svg: &str, text: &str) -> bool {
    texts(svg).iter().any(|t| t == text)
}

fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[1..4], b"PNG", "{}", path.display());
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&b[16..20]), be(&b[20..24]))
}

fn write_run(dir: &Path, doc: &RunDoc) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("run.json"), doc.to_json()).unwrap();
}

#[test]
fn run_charts_say_what_each_level_was_and_explain_the_clipped_point() {
    let dir = common::scratch("charts-run");
    write_run(&dir, &fixtures::run(&Spec::default()));
    reports::render_run_dir(&dir).unwrap();
    let read = |n: &str| std::fs::read_to_string(dir.join(format!("charts/{n}.svg"))).unwrap();
    let cpu = read("levels-cpu");
    for label in ["L1", "tcg", "kvm*", "native"] {
        assert!(has(&cpu, label), "levels-cpu lacks {label}");
    }
    assert!(cpu.contains("* tuned level"), "the tuning note");
    // One hover per point: 4 metrics × 5 levels.
    let t = titles(&cpu);
    assert_eq!(t.len(), 20, "{t:?}");
    assert!(
        t.iter().any(|t| t.starts_with("L1 cpu.int/ops: ")
            && t.contains("95 % interval")
            && t.contains("n = 7")),
        "{t:?}"
    );
    let exit = read("levels-exit");
    for group in [
        "hypervisor (kernel) —",
        "VMM (user space) —",
        "guest kernel —",
        "timer —",
    ] {
        assert!(
            exit.contains(group),
            "levels-exit is not grouped by layer: {group}"
        );
    }
    assert!(has(&exit, "n/a"));
    let curve = read("cost-curve");
    assert!(
        curve.contains("exit.cpuid/latency at L1 (tcg): "),
        "the clipped CPUID point is explained"
    );
    assert!(curve.contains("Under TCG there is no VM exit"));
    assert!(titles(&curve).iter().any(|t| t.contains("off the scale")));
    for n in ["cpu", "mem", "disk", "exit"] {
        assert!(
            has(&curve, &format!("{n} geometric mean")),
            "{n} panel legend"
        );
    }
    let (w, h) = png_size(&dir.join("charts/cost-curve.png"));
    assert!(w >= 1200 && h >= 800, "{w}x{h}");
}

#[test]
fn a_failed_level_reads_failed_on_the_axis() {
    let dir = common::scratch("charts-failed");
    let spec = Spec {
        failed: Some(3),
        ..Spec::default()
    };
    write_run(&dir, &fixtures::run(&spec));
    reports::render_run_dir(&dir).unwrap();
    let cpu = std::fs::read_to_string(dir.join("charts/levels-cpu.svg")).unwrap();
    assert!(has(&cpu, "failed") && has(&cpu, "skipped"));
    assert_eq!(titles(&cpu).len(), 12, "points at L0–L2 only");
}

fn set(label: &str, spec: &Spec, n: usize) -> RunSet {
    RunSet::new(label, fixtures::runs(spec, n)).unwrap()
}

#[test]
fn compare_chart_has_a_hover_per_dot() {
    let dir = common::scratch("charts-compare");
    let cmp = compare::compare(
        &set("base", &Spec::default(), 5),
        &set("qemu", &variant("qemu"), 5),
        &CompareOptions::default(),
        &Profiles::none(),
    );
    let written = reports::charts::compare::write(&cmp, &dir).unwrap();
    let dots = cmp.changes.iter().filter(|c| c.ratio.is_some()).count();
    assert_eq!(titles(&written.svg).len(), dots);
    assert!(png_size(&written.png_path).1 > 600);
}

/// The configuration comparison of the base and `fields`' variants, `runs` each.
fn configs(fields: &[&str], runs: usize) -> Configs {
    let mut inputs = vec![Input {
        set: set("runs/base", &Spec::default(), runs),
        label: None,
    }];
    for f in fields {
        inputs.push(Input {
            set: set(&format!("runs/{f}"), &variant(f), runs),
            label: None,
        });
    }
    Configs::new(inputs)
}

#[test]
fn configuration_comparisons_of_two_three_and_six_inputs() {
    let cases: [(&str, &[&str], usize); 3] = [
        ("2", &["qemu"], 3),
        ("3", &["kernel", "tuning"], 1),
        ("6", &["qemu", "kernel", "tuning", "qemu_args", "host"], 2),
    ];
    for (tag, fields, runs) in cases {
        let c = configs(fields, runs);
        assert_eq!(c.differing.len(), fields.len(), "{tag}: {:?}", c.differing);
        let dir = common::scratch(&format!("charts-configs-{tag}"));
        let files = reports::configs::render(&c, &dir).unwrap();
        assert!(files.iter().any(|f| f.ends_with("report.html")));
        let cpu = std::fs::read_to_string(dir.join("charts/configs-cpu.svg")).unwrap();
        for s in &c.sides {
            assert!(
                cpu.contains(&s.label.replace('>', "&gt;")),
                "{tag}: legend lacks {}",
                s.label
            );
        }
        // Every input × metric × level has its point.
        assert_eq!(titles(&cpu).len(), (fields.len() + 1) * 4 * 5, "{tag}");
        let spread = if runs > 1 {
            "across runs"
        } else {
            "in-run interval"
        };
        assert!(
            titles(&cpu)[0].contains(spread),
            "{tag}: {}",
            titles(&cpu)[0]
        );
        let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
        assert!(md.contains("÷ first"), "{tag}: ratio rows");
    }
    let two = configs(&["qemu"], 3);
    assert_eq!(two.sides[0].label, "QEMU 7.2.11");
    assert_eq!(two.sides[1].label, "QEMU 8.2.2");
    let cpu = two
        .metrics
        .iter()
        .position(|m| m.key() == "cpu.int/ops")
        .unwrap();
    let r = two.ratio(1, model::Level(1), cpu).unwrap();
    assert!((r - 1.25).abs() < 0.1, "a newer TCG: {r}");
    assert_eq!(two.clearly(1, model::Level(1), cpu), Some(true));
}

#[test]
fn trend_chart_has_a_hover_per_run() {
    let dir = common::scratch("charts-trend");
    let mut runs = fixtures::runs(&Spec::default(), 16);
    for r in &mut runs[8..] {
        for l in &mut r.levels {
            for res in &mut l.results {
                res.samples
                    .iter_mut()
                    .for_each(|s| *s *= if res.id.higher_is_better { 0.7 } else { 1.4 });
            }
        }
    }
    let filter = reports::trend::Filter {
        level: Some(model::Level(2)),
        metric: None,
    };
    let t = reports::trend::trend(&runs, &filter, 5, &Default::default());
    let charts = reports::charts::trend::TrendChart::per_level(&t.series);
    assert_eq!(charts.len(), 1);
    let w = reports::charts::write(&charts[0], &dir).unwrap();
    let measured = t.series.iter().filter(|s| !s.points.is_empty()).count();
    assert_eq!(titles(&w.svg).len(), measured * 16);
    assert!(
        texts(&w.svg)
            .iter()
            .any(|t| t.ends_with(" %") && t.starts_with('-')),
        "a change point is labelled"
    );
}
