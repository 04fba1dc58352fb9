//! net.tcp is compared with L1, not L0: L0 has no parent and measures loopback. Its
//! rows deeper than L1 are fractions of L1's figure, L0's and L1's have none, and the
//! report says so in words and in the category's geometric-mean row.

mod common;

use model::rundoc::RunDoc;
use model::{Level, MetricId, WorkloadResult};
use reports::analysis::Analysis;
use reports::export;

fn measure(doc: &mut RunDoc, level: u32, metric: &str, v: f64) {
    doc.levels[level as usize].results.push(WorkloadResult {
        id: MetricId::known("net.tcp", metric).unwrap(),
        params: Default::default(),
        samples: (0..7)
            .map(|i| v * (1.0 + 0.01 * f64::from(i % 3)))
            .collect(),
    });
}

fn with_net() -> RunDoc {
    let mut d = common::doc("complete.json");
    for (l, mbs, us) in [
        (0, 2000.0, 5.0),
        (1, 60.0, 250.0),
        (2, 6.0, 3700.0),
        (3, 0.6, 7400.0),
    ] {
        measure(&mut d, l, "send", mbs);
        measure(&mut d, l, "rr_p50", us);
    }
    d
}

#[test]
fn net_rows_are_fractions_of_l1() {
    let a = Analysis::new(with_net());
    let rel = |l: u32, m: &str| {
        a.row(Level(l), &format!("net.tcp/{m}"))
            .and_then(|r| r.relative.as_ref())
            .map(|i| i.estimate)
    };
    assert_eq!(rel(0, "send"), None);
    assert_eq!(rel(1, "send"), None, "L1 is the reference itself");
    let l2 = rel(2, "send").unwrap();
    assert!((l2 - 0.1).abs() < 0.005, "{l2}");
    // A latency: L1/Ln, so below 1 is slower here too.
    let l3 = rel(3, "rr_p50").unwrap();
    assert!((l3 - 250.0 / 7400.0).abs() < 0.002, "{l3}");
    // Other categories still go by L0.
    assert!(a
        .rows
        .iter()
        .any(|r| r.level == Level(1) && r.id.workload == "cpu.int" && r.relative.is_some()));
}

#[test]
fn the_report_says_net_is_relative_to_l1() {
    let md = export::markdown::render(&export::run_report::build(&Analysis::new(with_net())));
    assert!(
        md.contains("net figures in parentheses are a percentage of L1, not L0"),
        "{md}"
    );
    let geo = md
        .lines()
        .find(|l| l.starts_with("| geo-mean, % of L1"))
        .expect("net's geometric-mean row names L1");
    let cells: Vec<&str> = geo.split('|').map(str::trim).collect();
    // | label | unit | better | L0 | L1 | L2 | L3 |
    assert_eq!((cells[4], cells[5]), ("–", "100 %"), "{geo}");
}
