//! `render_run_dir` on realistic fixtures: snapshots of the CSV and Markdown, charts
//! that exist and decode, an HTML file without external references, run.json untouched.

mod common;

use common::{assert_snapshot, run_dir};
use model::rundoc::LevelStatus;
use reports::analysis::Analysis;
use reports::export;

#[test]
fn csv_and_markdown_snapshots() {
    for name in ["complete", "partial"] {
        let a = Analysis::new(common::doc(&format!("{name}.json")));
        let csv = String::from_utf8(export::csv::to_bytes(&a)).unwrap();
        assert_snapshot(&format!("{name}.csv"), &csv);
        assert_snapshot(
            &format!("{name}.md"),
            &export::markdown::render(&export::document::build(&a)),
        );
    }
}

#[test]
fn csv_has_one_row_per_level_workload_metric() {
    let a = Analysis::new(common::doc("complete.json"));
    let csv = String::from_utf8(export::csv::to_bytes(&a)).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(reader.headers().unwrap().len(), 22);
    assert_eq!(reader.records().count(), 4 * 21);
}

#[test]
fn failed_level_reads_failed_not_zero() {
    let a = Analysis::new(common::doc("partial.json"));
    let rows: Vec<_> = a.rows.iter().filter(|r| r.level == 3).collect();
    assert_eq!(rows.len(), 21);
    assert!(rows
        .iter()
        .all(|r| r.level_status == LevelStatus::Failed && r.summary.is_none()));
    let md = export::markdown::render(&export::document::build(&a));
    assert!(md.contains("| failed |"), "{md}");
    let csv = String::from_utf8(export::csv::to_bytes(&a)).unwrap();
    assert!(
        csv.lines()
            .any(|l| l.starts_with("3,failed,cpu.int,ops,Mops/s,true,,,")),
        "{csv}"
    );
    // The workload that failed at L2 reads "error", and is named in the summary.
    assert!(md.contains("L2 disk.fsync failed"), "{md}");
}

#[test]
fn cache_resident_and_truncated_figures_are_marked_and_explained() {
    let mut doc = common::doc("complete.json");
    for l in &mut doc.levels {
        for r in l
            .results
            .iter_mut()
            .filter(|r| r.id.workload == "mem.stream")
        {
            r.params.insert("cache_resident".into(), true.into());
            r.params.insert("llc_mib".into(), 32.into());
        }
        if l.level == 3 {
            for r in l.results.iter_mut().filter(|r| r.id.workload == "disk.seq") {
                r.params.insert("setup_truncated".into(), true.into());
                r.params.insert("prepared_mib".into(), 18.0.into());
            }
        }
    }
    let md = export::markdown::render(&export::document::build(&Analysis::new(doc)));
    let triad = md
        .lines()
        .find(|l| l.starts_with("| mem.stream/triad"))
        .unwrap();
    assert_eq!(triad.matches('‡').count(), 4, "{triad}");
    let latency = md
        .lines()
        .find(|l| l.starts_with("| mem.latency/"))
        .unwrap();
    assert!(!latency.contains('‡'), "{latency}");
    assert!(md.contains("‡ cache-resident: array or buffer smaller than 4× the last-level cache (32 MiB), so this is cache bandwidth"), "{md}");
    let write = md
        .lines()
        .find(|l| l.starts_with("| disk.seq/write"))
        .unwrap();
    assert_eq!(write.matches('†').count(), 1, "{write}");
    assert!(md.contains("† setup budget ran out"), "{md}");
    // Nothing flagged, no footnote.
    let plain = export::markdown::render(&export::document::build(&Analysis::new(common::doc(
        "complete.json",
    ))));
    assert!(!plain.contains('‡') && !plain.contains('†'));
}

#[test]
fn summary_lines_say_what_l0_is_and_what_is_worst() {
    let complete = export::markdown::render(&export::document::build(&Analysis::new(common::doc(
        "complete.json",
    ))));
    let head: Vec<&str> = complete.lines().skip(2).take(5).collect();
    assert!(head[0].starts_with("- **L0:** bare metal"), "{head:?}");
    assert!(head[1].contains("L3 of L0–L3"), "{head:?}");
    assert!(head[2].contains("exit at L3"), "{head:?}");
    assert!(head[3].ends_with("none"), "{head:?}");
    assert!(
        head[4].contains("L3 disk.rand/read_p99") && head[4].contains("tuned: L2"),
        "{head:?}"
    );
    let partial = export::markdown::render(&export::document::build(&Analysis::new(common::doc(
        "partial.json",
    ))));
    assert!(
        partial.contains("itself a virtual machine under KVM"),
        "{partial}"
    );
    assert!(
        partial.contains("L3 failed: L3 did not answer"),
        "{partial}"
    );
}

#[test]
fn a_hyperv_root_partition_at_l0_is_not_called_bare_metal() {
    let mut doc = common::doc("complete.json");
    doc.levels[0].env.platform = Some(model::rundoc::Platform {
        os: "windows".into(),
        hyperv_root: true,
        ..Default::default()
    });
    let md = export::markdown::render(&export::document::build(&Analysis::new(doc)));
    let l0 = md.lines().find(|l| l.starts_with("- **L0:**")).unwrap();
    assert!(
        l0.contains("the root partition of a Hyper-V host") && l0.contains("not bare metal"),
        "{l0}"
    );
}

fn is_png(bytes: &[u8]) -> Option<(u32, u32)> {
    const MAGIC: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    if bytes.len() < 24 || bytes[..8] != MAGIC || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Some((be(&bytes[16..20]), be(&bytes[20..24])))
}

#[test]
fn render_writes_everything_and_leaves_run_json_alone() {
    for name in ["complete", "partial"] {
        let dir = run_dir(&format!("{name}.json"), &format!("render-{name}"));
        let before = std::fs::read(dir.join("run.json")).unwrap();
        let summary = reports::render_run_dir(&dir).unwrap();
        assert_eq!(
            std::fs::read(dir.join("run.json")).unwrap(),
            before,
            "run.json must not change"
        );
        for f in ["results.csv", "report.md", "report.html"] {
            assert!(dir.join(f).is_file(), "{f} missing");
        }
        for chart in [
            "levels-cpu",
            "levels-mem",
            "levels-disk",
            "levels-exit",
            "cost-curve",
        ] {
            let svg = std::fs::read_to_string(dir.join(format!("charts/{chart}.svg"))).unwrap();
            assert!(
                svg.contains("<svg") && svg.len() > 5_000,
                "{chart}.svg too small: {}",
                svg.len()
            );
            let png = std::fs::read(dir.join(format!("charts/{chart}.png"))).unwrap();
            let (w, h) = is_png(&png).unwrap_or_else(|| panic!("{chart}.png is not a PNG"));
            assert!(
                w >= 600 && h >= 300 && png.len() > 20_000,
                "{chart}.png is {w}x{h}, {} bytes",
                png.len()
            );
        }
        let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
        assert_no_external_references(&html);
        assert_eq!(html.matches("<svg").count(), 5);
        assert!(summary.files.len() >= 13);
        if name == "partial" {
            assert_eq!(summary.not_ok_levels, vec![3]);
            assert_eq!(summary.deepest_ok, Some(model::Level(2)));
        }
    }
}

/// Self-contained: no URL, no linked style sheet, no external script (the one inline
/// script is allowed), no image or font to fetch.
pub fn assert_no_external_references(html: &str) {
    let lower = html.to_lowercase();
    for bad in [
        "http://",
        "https://",
        "<link",
        "<script src",
        "src=",
        "@import",
        "url(",
        "<iframe",
    ] {
        assert!(!lower.contains(bad), "report.html contains {bad:?}");
    }
    assert_eq!(lower.matches("<script").count(), 1, "one inline script");
}

#[test]
fn missing_run_json_is_a_read_error_naming_the_path() {
    let dir = common::scratch("render-empty");
    let err = reports::render_run_dir(&dir).unwrap_err();
    assert!(err.is_input_error());
    assert!(err.to_string().contains("run.json"), "{err}");
}

#[test]
fn degenerate_runs_render_without_panicking() {
    // Only L0, and a run where even L0 failed (no levels measured at all).
    let mut l0_only = common::doc("complete.json");
    l0_only.levels.truncate(1);
    let mut nothing = common::doc("partial.json");
    nothing.levels.iter_mut().for_each(|l| {
        l.status = LevelStatus::Failed;
        l.results.clear();
    });
    for (tag, doc) in [("l0-only", l0_only), ("nothing", nothing)] {
        let dir = common::scratch(&format!("render-{tag}"));
        std::fs::write(dir.join("run.json"), doc.to_json()).unwrap();
        let summary = reports::render_run_dir(&dir).unwrap();
        assert!(dir.join("charts/cost-curve.png").is_file(), "{tag}");
        let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
        assert!(md.contains("- **Worst category:** none"), "{tag}: {md}");
        assert!(summary.files.iter().any(|f| f.ends_with("report.html")));
    }
}
