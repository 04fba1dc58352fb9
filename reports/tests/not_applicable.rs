//! Metrics a level cannot measure (no second vCPU, no hypervisor that answers
//! hypercalls from user space) through every report: the run report, the CSV, the
//! charts and `compare` show them as "n/a" with their reason — never as a number, an
//! error or a missing metric, and `compare` never fails on them.

mod common;

use model::rundoc::RunDoc;
use model::{Level, MetricId, NotApplicable, WorkloadResult};
use reports::analysis::Analysis;
use reports::compare::{self, compare, CompareOptions, Profiles, RunSet, Status};
use reports::export;

const ONE_CPU: &str = "needs two online vCPUs; this level has 1";
const NO_HYPERCALL: &str = "vmcall raises #UD from user space here";
const NO_PORT: &str = "cannot write port 0x80 from user space";

fn id(workload: &str) -> MetricId {
    MetricId::known(workload, "latency").unwrap()
}

fn measure(doc: &mut RunDoc, level: u32, workload: &str, ns: f64) {
    let samples = (0..7)
        .map(|i| ns * (1.0 + 0.01 * f64::from(i % 3)))
        .collect();
    doc.levels[level as usize].results.push(WorkloadResult {
        id: id(workload),
        params: Default::default(),
        samples,
    });
}

fn not_applicable(doc: &mut RunDoc, level: u32, workload: &str, reason: &str) {
    doc.levels[level as usize]
        .not_applicable
        .push(NotApplicable {
            id: id(workload),
            reason: reason.into(),
        });
}

/// The complete fixture (L0–L3) with the three probes as a machine like this project's
/// would give them: exit.pio applies nowhere, exit.hypercall everywhere but L0 (bare
/// metal), exit.ipi everywhere but L3 (one vCPU).
fn with_probes() -> RunDoc {
    let mut d = common::doc("complete.json");
    for l in 0..4 {
        not_applicable(&mut d, l, "exit.pio", NO_PORT);
        match l {
            0 => not_applicable(&mut d, l, "exit.hypercall", NO_HYPERCALL),
            _ => measure(&mut d, l, "exit.hypercall", 900.0 * f64::from(l)),
        }
        match l {
            3 => not_applicable(&mut d, l, "exit.ipi", ONE_CPU),
            _ => measure(&mut d, l, "exit.ipi", 4000.0 * f64::from(l + 1)),
        }
    }
    d
}

#[test]
fn the_report_says_n_a_with_the_reason_not_error() {
    let a = Analysis::new(with_probes());
    let row = a.row(Level(3), "exit.ipi/latency").unwrap();
    assert_eq!(row.not_applicable.as_deref(), Some(ONE_CPU));
    assert!(row.summary.is_none() && row.problem.is_none() && row.relative.is_none());
    // A metric that applies nowhere still has its rows.
    assert!((0..4).all(|l| a.row(Level(l), "exit.pio/latency").is_some()));
    let md = export::markdown::render(&export::document::build(&a));
    assert!(
        md.contains("| exit.pio/latency | ns | lower | n/a | n/a | n/a | n/a |"),
        "{md}"
    );
    assert!(
        md.contains("| exit.hypercall/latency | ns | lower | n/a | 909.0 |"),
        "{md}"
    );
    assert!(md.contains("## Not applicable"), "{md}");
    assert!(
        md.contains(&format!("| L3 | exit.ipi/latency | {ONE_CPU} |")),
        "{md}"
    );
    assert!(md.contains("- **Failed or skipped:** none"), "{md}");
    assert!(
        !md.contains("| error |") && !md.contains(" error |"),
        "{md}"
    );
    // The exit category's mean at L3 is still taken over the metrics measured there.
    assert!(a
        .categories
        .iter()
        .any(|c| c.level == 3 && c.category == "exit"));
}

#[test]
fn the_csv_leaves_numbers_empty_and_gives_the_reason() {
    let a = Analysis::new(with_probes());
    let csv = String::from_utf8(export::csv::to_bytes(&a)).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(reader.headers().unwrap().get(21), Some("not_applicable"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let ipi_l3 = rows
        .iter()
        .find(|r| &r[0] == "3" && &r[2] == "exit.ipi")
        .unwrap();
    assert_eq!(&ipi_l3[1], "ok");
    assert!((6..=19).all(|i| ipi_l3[i].is_empty()), "{ipi_l3:?}");
    assert_eq!(&ipi_l3[21], ONE_CPU);
    let measured = rows
        .iter()
        .find(|r| &r[0] == "2" && &r[2] == "exit.ipi")
        .unwrap();
    assert!(
        !measured[7].is_empty() && measured[21].is_empty(),
        "{measured:?}"
    );
}

#[test]
fn charts_render_with_metrics_that_do_not_apply() {
    let dir = common::scratch("render-not-applicable");
    std::fs::write(dir.join("run.json"), with_probes().to_json()).unwrap();
    reports::render_run_dir(&dir).unwrap();
    let svg = std::fs::read_to_string(dir.join("charts/levels-exit.svg")).unwrap();
    assert!(svg.contains("n/a"), "the exit chart does not mark n/a");
    assert!(
        !svg.contains(">error<"),
        "a metric that does not apply drawn as an error"
    );
    let curve = std::fs::read_to_string(dir.join("charts/cost-curve.svg")).unwrap();
    assert!(curve.contains("exit.hypercall/latency (n/a at L0)"));
}

/// `n` copies of `doc` with a little run-to-run spread, the same for both sides.
fn runs(doc: &RunDoc, n: usize, tag: &str) -> RunSet {
    let docs = (0..n)
        .map(|i| {
            let mut d = doc.clone();
            d.run_id = format!("{tag}-{i}");
            let k = 1.0 + 0.002 * (i % 3) as f64;
            for r in d.levels.iter_mut().flat_map(|l| &mut l.results) {
                r.samples.iter_mut().for_each(|s| *s *= k);
            }
            d
        })
        .collect();
    RunSet::new(tag, docs).unwrap()
}

#[test]
fn compare_shows_n_a_and_never_counts_it_missing_or_failing() {
    let base = with_probes();
    let mut cur = base.clone();
    // L2 lost a vCPU in the current runs; L3 gained one.
    cur.levels[2]
        .results
        .retain(|r| r.id.workload != "exit.ipi");
    not_applicable(&mut cur, 2, "exit.ipi", ONE_CPU);
    cur.levels[3]
        .not_applicable
        .retain(|n| n.id.workload != "exit.ipi");
    measure(&mut cur, 3, "exit.ipi", 20000.0);
    let cmp = compare(
        &runs(&base, 3, "a"),
        &runs(&cur, 3, "b"),
        &CompareOptions::default(),
        &Profiles::none(),
    );
    let row = |l: u32, w: &str| {
        cmp.changes
            .iter()
            .find(|c| c.level == l && c.id.workload == w)
            .unwrap_or_else(|| panic!("no row L{l} {w}"))
    };
    let lost = row(2, "exit.ipi");
    assert_eq!(lost.status, Status::NotApplicable);
    assert!(lost.baseline.is_some() && lost.current.is_none());
    assert_eq!(lost.not_applicable, (None, Some(ONE_CPU.to_string())));
    assert!(lost.note.as_deref().unwrap().contains(ONE_CPU));
    let gained = row(3, "exit.ipi");
    assert_eq!(gained.status, Status::NotApplicable);
    assert!(gained.note.as_deref().unwrap().contains("in the baseline"));
    for l in 0..4 {
        assert_eq!(row(l, "exit.pio").status, Status::NotApplicable);
    }
    assert_eq!(row(0, "exit.hypercall").status, Status::NotApplicable);
    assert_eq!(row(1, "exit.hypercall").status, Status::Unchanged);
    assert_eq!(cmp.count(Status::Missing), 0);
    assert_eq!(cmp.count(Status::NotApplicable), 4 + 1 + 2);
    assert!(!cmp.has_regression(false) && !cmp.fails(false, false));

    let text = compare::text::render(&cmp);
    assert!(text.contains(", 7 n/a"), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("L2") && l.contains("exit.ipi"))
        .unwrap();
    assert!(line.contains("n/a") && line.contains(ONE_CPU), "{line}");
    let md = compare::markdown::render(&cmp, false);
    assert!(md.contains("no regression"), "{md}");
    assert!(md.contains("exit.ipi/latency"), "{md}");
    assert!(
        !md.contains("exit.pio"),
        "rows that apply on neither side are only counted: {md}"
    );
}
