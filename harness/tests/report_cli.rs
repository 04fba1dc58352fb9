//! `nestbench report` with one input (today's report in the run directory) and with
//! several (a configuration comparison in --out), on generated runs that each differ
//! from the base in one configuration field: the files, the labels, the one-line usage
//! errors, history inputs; and `compare --format html`.

use reports::fixtures::{self, Spec};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nestbench(history: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nestbench"))
        .env("NESTBENCH_HISTORY", history.join("history.sqlite"))
        .args(args)
        .output()
        .unwrap()
}

fn variant(field: &str) -> Spec {
    fixtures::variants()
        .into_iter()
        .find(|(f, _)| *f == field)
        .unwrap()
        .1
}

/// A directory of `n` run directories of `spec`.
fn set(dir: &Path, spec: &Spec, n: usize) -> PathBuf {
    for doc in fixtures::runs(spec, n) {
        let d = dir.join(&doc.run_id);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("run.json"), doc.to_json()).unwrap();
    }
    dir.to_path_buf()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn two_configurations_side_by_side() {
    let t = tempfile::tempdir().unwrap();
    let a = set(&t.path().join("qemu-7"), &Spec::default(), 3);
    let b = set(&t.path().join("qemu-8"), &variant("qemu"), 3);
    let out = t.path().join("out");
    let o = nestbench(
        t.path(),
        &[
            "report",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    let listed = String::from_utf8_lossy(&o.stdout);
    assert!(
        listed.lines().any(|l| l.ends_with("report.html")),
        "{listed}"
    );
    for f in [
        "report.md",
        "report.html",
        "charts/configs-cpu.svg",
        "charts/configs-exit.png",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("- **What differs:** QEMU"), "{md}");
    assert!(md.contains("QEMU 8.2.2 ÷ first"), "{md}");
    assert!(
        md.contains("median of run medians, interval across runs"),
        "{md}"
    );
    // Labels as given win.
    let out2 = t.path().join("out2");
    let o = nestbench(
        t.path(),
        &[
            "report",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--label",
            "old",
            "--label",
            "new",
            "--out",
            out2.to_str().unwrap(),
            "--quiet",
        ],
    );
    assert!(o.status.success() && o.stdout.is_empty(), "{}", err(&o));
    let md = std::fs::read_to_string(out2.join("report.md")).unwrap();
    assert!(md.contains("new ÷ first") && md.contains("| old |"), "{md}");
}

#[test]
fn usage_errors_are_one_line_and_exit_2() {
    let t = tempfile::tempdir().unwrap();
    let a = set(&t.path().join("a"), &Spec::default(), 1);
    let b = set(&t.path().join("b"), &variant("kernel"), 1);
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let one_run = a.to_string() + "/" + &fixtures::runs(&Spec::default(), 1)[0].run_id;
    let cases: [(Vec<&str>, &str); 4] = [
        (vec!["report", a, b], "need --out DIR"),
        (
            vec!["report", a, b, "--label", "x", "--out", "o"],
            "--label given 1 times for 2 inputs",
        ),
        (
            vec!["report", &one_run, "--out", "o"],
            "--out and --label are for two or more inputs",
        ),
        (
            vec!["report", "history:last=1"],
            "report of one input takes a run directory",
        ),
    ];
    for (args, want) in cases {
        let o = nestbench(t.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", err(&o));
        let e = err(&o);
        assert_eq!(e.trim_end().lines().count(), 1, "{args:?}: {e}");
        assert!(e.contains(want), "{args:?}: {e}");
    }
    assert!(
        !t.path().join("o").exists(),
        "nothing written on a usage error"
    );
    // One run directory: today's report, in place.
    let o = nestbench(t.path(), &["report", &one_run]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(Path::new(&one_run).join("report.html").is_file());
}

#[test]
fn history_selections_are_inputs_too() {
    let t = tempfile::tempdir().unwrap();
    for (tag, spec) in [("a", Spec::default()), ("b", variant("tuning"))] {
        let dir = t.path().join(tag);
        for mut doc in fixtures::runs(
            &Spec {
                run_id: format!("run-{tag}"),
                ..spec
            },
            2,
        ) {
            doc.config.tags.insert("side".into(), tag.into());
            let d = dir.join(&doc.run_id);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("run.json"), doc.to_json()).unwrap();
        }
        let o = nestbench(t.path(), &["history", "import", dir.to_str().unwrap()]);
        assert!(o.status.success(), "{}", err(&o));
    }
    let out = t.path().join("out");
    let o = nestbench(
        t.path(),
        &[
            "report",
            "history:tag=side=a",
            "history:tag=side=b",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("- **What differs:** tuning, tag side"), "{md}");
    assert!(md.contains("tuning mitigations=off"), "{md}");
}

#[test]
fn compare_renders_a_page_with_the_same_exit_code() {
    let t = tempfile::tempdir().unwrap();
    let a = set(&t.path().join("a"), &Spec::default(), 3);
    let b = set(&t.path().join("b"), &variant("qemu"), 3);
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let text = nestbench(t.path(), &["compare", a, b, "--no-history"]);
    let html = nestbench(
        t.path(),
        &["compare", a, b, "--no-history", "--format", "html"],
    );
    assert_eq!(text.status.code(), html.status.code());
    let page = String::from_utf8(html.stdout).unwrap();
    assert!(
        page.starts_with("<!DOCTYPE html>"),
        "{}",
        &page[..100.min(page.len())]
    );
    for s in [
        "id=\"improved\"",
        "id=\"detectable-effects\"",
        "<svg",
        "<title>",
        "class=\"verdict",
    ] {
        assert!(page.contains(s), "the compare page lacks {s}");
    }
}
