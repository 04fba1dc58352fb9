//! Every kind of HTML report opened in a real browser — a run's report, a compare page,
//! a configuration comparison of six inputs (each differing from the first in one
//! configuration field) and one of three inputs that measured L0 alone (its charts lay
//! out a single level), made by the real binary from generated runs — headless
//! Chromium at 1280 px (`browser/cdp.rs`). On each page:
//! the sections are there, the page loads nothing (no resource entry), every in-page
//! link has its target, nothing is wider than the page (the document, and each table
//! in its box), a click on a header sorts its table both ways, a point of a chart shows
//! its value on hover (the `<title>`s are there, and the tooltip follows the pointer),
//! a folded environment opens, no two text labels of any chart overlap (measured with
//! getBBox on the rendered SVG), and a screenshot is not blank. The screenshots stay in
//! `target/tmp/browser/` to be looked at.
//!
//! Needs Chromium (`scripts/setup --test` installs Debian's `chromium`): without it the
//! test fails under CI and skips, saying so, elsewhere (harness/src/testreq.rs).

#[path = "browser/cdp.rs"]
mod cdp;
#[path = "browser/page.rs"]
mod page;
#[path = "../src/testreq.rs"]
#[allow(dead_code)]
mod testreq;

use cdp::Browser;
use page::{colours, COLUMN, INSPECT};
use reports::fixtures::{self, Spec};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn nestbench(history: &Path, args: &[&str]) -> std::process::Output {
    let o = Command::new(env!("CARGO_BIN_EXE_nestbench"))
        .env("NESTBENCH_HISTORY", history.join("history.sqlite"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success() || o.status.code() == Some(3),
        "nestbench {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn variant(field: &str) -> Spec {
    fixtures::variants()
        .into_iter()
        .find(|(f, _)| *f == field)
        .unwrap()
        .1
}

fn set(dir: &Path, spec: &Spec, n: usize) -> String {
    for doc in fixtures::runs(spec, n) {
        let d = dir.join(&doc.run_id);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("run.json"), doc.to_json()).unwrap();
    }
    dir.to_str().unwrap().to_string()
}

/// The four pages, written by the binary into `dir`: (kind, file, sections it must have).
fn pages(dir: &Path) -> Vec<(&'static str, PathBuf, Vec<&'static str>)> {
    let run = dir.join("run");
    std::fs::create_dir_all(&run).unwrap();
    let mut doc = fixtures::run(&Spec::default());
    doc.run_id = "browser-run".into();
    std::fs::write(run.join("run.json"), doc.to_json()).unwrap();
    nestbench(dir, &["report", run.to_str().unwrap()]);

    let base = set(&dir.join("base"), &Spec::default(), 3);
    let qemu = set(&dir.join("qemu"), &variant("qemu"), 3);
    let kernel = set(&dir.join("kernel"), &variant("kernel"), 3);
    let o = nestbench(
        dir,
        &["compare", &base, &qemu, "--no-history", "--format", "html"],
    );
    let compare = dir.join("compare.html");
    std::fs::write(&compare, &o.stdout).unwrap();

    // Six configurations: the base and one variant of each configuration field.
    let mut inputs = vec!["report".to_string(), base.clone(), qemu.clone(), kernel];
    for field in ["tuning", "qemu_args", "host"] {
        inputs.push(set(&dir.join(field), &variant(field), 2));
    }
    let out = dir.join("configs");
    inputs.extend(["--out".to_string(), out.to_str().unwrap().to_string()]);
    nestbench(dir, &inputs.iter().map(String::as_str).collect::<Vec<_>>());

    // Three configurations of L0 alone (`--levels 0`): one level on every chart.
    let mut inputs = vec!["report".to_string()];
    for field in ["base", "qemu", "host"] {
        let spec = Spec {
            levels: 0,
            ..variant(field)
        };
        inputs.push(set(&dir.join(format!("l0-{field}")), &spec, 2));
    }
    let one = dir.join("configs-l0");
    inputs.extend(["--out".to_string(), one.to_str().unwrap().to_string()]);
    nestbench(dir, &inputs.iter().map(String::as_str).collect::<Vec<_>>());
    let configs_sections = vec![
        "summary",
        "inputs",
        "against-the-first-input",
        "results-by-category-cpu",
        "levels",
        "metrics",
    ];
    vec![
        (
            "run",
            run.join("report.html"),
            vec![
                "summary",
                "results-by-category",
                "results-by-category-exit",
                "cost-of-nesting",
                "levels",
                "not-applicable",
                "metrics",
            ],
        ),
        (
            "compare",
            compare,
            vec![
                "summary",
                "improved",
                "not-applicable",
                "detectable-effects",
                "chart",
                "metrics",
            ],
        ),
        ("configs", out.join("report.html"), configs_sections.clone()),
        ("configs-l0", one.join("report.html"), configs_sections),
    ]
}

/// The centre of the first element `selector` matches, scrolled into view.
fn centre(b: &mut Browser, s: &str, selector: &str) -> (f64, f64) {
    let js = format!(
        "(() => {{ const e = document.querySelector({sel:?}); if (!e) return null; e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()",
        sel = selector
    );
    let v = b.eval(s, &js);
    let p = v
        .as_array()
        .unwrap_or_else(|| panic!("nothing matches {selector}"));
    (p[0].as_f64().unwrap(), p[1].as_f64().unwrap())
}

fn sorts(b: &mut Browser, s: &str, table: &str, col: usize) {
    let header = format!("{table} thead th:nth-child({})", col + 1);
    for want in ["ascending", "descending"] {
        let (x, y) = centre(b, s, &header);
        b.click(s, x, y);
        let aria = b.eval(
            s,
            &format!("document.querySelector({header:?}).getAttribute('aria-sort')"),
        );
        assert_eq!(aria, Value::from(want), "{table} column {col}");
        let v = b.eval(s, &format!("{COLUMN}({table:?}, {col})"));
        let v: Vec<f64> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert!(v.len() >= 3, "{table}: {v:?}");
        let ordered = v.windows(2).all(|w| {
            if want == "ascending" {
                w[0] <= w[1]
            } else {
                w[0] >= w[1]
            }
        });
        assert!(
            ordered,
            "{table} column {col} not {want} after a click: {v:?}"
        );
    }
}

/// Hovering a chart point shows in the tooltip the text of the point under the pointer.
fn hover_shows_value(b: &mut Browser, s: &str) {
    let (x, y) = centre(b, s, "figure circle.hover");
    b.hover(s, x, y);
    let v = b.eval(
        s,
        &format!(
            "(() => {{ const t = document.getElementById('tip'); const under = document.elementFromPoint({x}, {y}); return [t.hidden, t.textContent, under && under.getAttribute('data-tip')]; }})()"
        ),
    );
    assert_eq!(v[0], Value::from(false), "the tooltip did not show: {v}");
    assert_eq!(
        v[1], v[2],
        "the tooltip does not say the value of the point under the pointer: {v}"
    );
    let tip = v[1].as_str().unwrap();
    assert!(
        tip.contains("% interval") && (tip.contains("n = ") || tip.contains(" runs")),
        "the tooltip lacks the interval or the sample count: {v}"
    );
}

#[test]
fn every_report_kind_works_in_a_real_browser() {
    let found = testreq::installed(&cdp::binary().to_string_lossy());
    if !testreq::require(
        "chromium",
        found,
        "apt-get install --no-install-recommends chromium, or run scripts/setup --test",
    ) {
        return;
    }
    let start = Instant::now();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let work = tempfile::tempdir().unwrap();
    let pages = pages(work.path());
    let made = start.elapsed();
    let mut b = Browser::start(&shots.join("chromium.log"));
    let profile = b.profile();
    for (kind, file, sections) in &pages {
        let url = format!("file://{}", file.display());
        let s = b.open(&url, 1280, 1000);
        let v = b.eval(&s, INSPECT);
        for want in sections {
            assert!(
                v["sections"].as_array().unwrap().iter().any(|x| x == want),
                "{kind}: no section {want}: {}",
                v["sections"]
            );
        }
        assert_eq!(v["resources"], 0, "{kind}: the page loaded something");
        assert_eq!(v["scripts"], 0, "{kind}: an external script");
        assert_eq!(
            v["broken"].as_array().unwrap().len(),
            0,
            "{kind}: links without a target: {}",
            v["broken"]
        );
        assert!(
            v["scrollWidth"].as_u64() <= v["clientWidth"].as_u64(),
            "{kind}: wider than 1280 px: {} > {}",
            v["scrollWidth"],
            v["clientWidth"]
        );
        assert_eq!(
            v["wide"].as_array().unwrap().len(),
            0,
            "{kind}: tables wider than the page: {}",
            v["wide"]
        );
        assert!(v["figures"].as_u64().unwrap() >= 1, "{kind}: no chart");
        assert!(
            v["titles"].as_u64().unwrap() >= 20,
            "{kind}: hover titles: {}",
            v["titles"]
        );
        assert!(
            v["labels"].as_u64().unwrap() >= 20,
            "{kind}: text labels: {}",
            v["labels"]
        );
        assert_eq!(
            v["overlaps"].as_array().unwrap().len(),
            0,
            "{kind}: chart labels overlap: {:#}",
            v["overlaps"]
        );
        match *kind {
            "run" => sorts(&mut b, &s, "#results-by-category-cpu table", 3),
            "compare" => sorts(&mut b, &s, "#improved table", 5),
            _ => sorts(&mut b, &s, "#results-by-category-mem table", 3),
        }
        hover_shows_value(&mut b, &s);
        // A level's environment (a long cell's text on the compare page) opens on a click.
        let folded = if *kind == "compare" {
            "details.cell"
        } else {
            "details.env"
        };
        let (x, y) = centre(&mut b, &s, &format!("{folded} summary"));
        b.click(&s, x, y);
        let open = b.eval(&s, &format!("document.querySelector('{folded}').open"));
        assert_eq!(open, Value::from(true), "{kind}: {folded} did not open");
        b.eval(&s, "window.scrollTo(0, 0)");
        let top = b.screenshot(&s, false);
        let (n, ink) = colours(&top);
        assert!(
            n > 40 && ink > 0.03,
            "{kind}: the screenshot looks blank ({n} colours, {:.1} % ink)",
            ink * 100.0
        );
        std::fs::write(shots.join(format!("{kind}-top.png")), &top).unwrap();
        std::fs::write(
            shots.join(format!("{kind}-full.png")),
            b.screenshot(&s, true),
        )
        .unwrap();
    }
    drop(b);
    assert!(
        cdp::processes_naming(&profile).is_empty(),
        "chromium processes survived"
    );
    assert!(!profile.exists(), "the profile directory survived");
    eprintln!(
        "browser test: reports made in {:.1} s, checked in Chromium in {:.1} s; screenshots in {}",
        made.as_secs_f64(),
        (start.elapsed() - made).as_secs_f64(),
        shots.display()
    );
}

#[test]
fn chromium_and_its_profile_are_gone_after_a_panic() {
    let found = testreq::installed(&cdp::binary().to_string_lossy());
    if !testreq::require(
        "chromium",
        found,
        "apt-get install --no-install-recommends chromium, or run scripts/setup --test",
    ) {
        return;
    }
    let log = tempfile::NamedTempFile::new().unwrap();
    let profile = std::sync::Mutex::new(PathBuf::new());
    let r = std::panic::catch_unwind(|| {
        let mut b = Browser::start(log.path());
        *profile.lock().unwrap() = b.profile();
        let s = b.open("about:blank", 800, 600);
        assert_eq!(b.eval(&s, "1 + 1"), Value::from(2));
        panic!("a check failed while the browser was up");
    });
    assert!(r.is_err());
    let profile = profile.into_inner().unwrap();
    assert!(!profile.as_os_str().is_empty());
    assert!(
        cdp::processes_naming(&profile).is_empty(),
        "chromium survived a panic"
    );
    assert!(!profile.exists(), "the profile survived a panic");
}
