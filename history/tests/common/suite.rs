//! The test bodies every engine runs, through the public API only: the same calls on a
//! SQLite file and on a PostgreSQL server must give the same answers.
//! [`shared_suite!`](crate::shared_suite) turns them into one `#[test]` each.

use super::{fixture_docs, one_line, real_run_dir, v1_fixtures, varied_runs};
use history::{open, Location, OffsetDateTime, ProfileRow, Recorded, RunSummary, Selection};
use model::fingerprint;
use model::Level;
use std::collections::BTreeMap;

/// One `#[test]` per body; `$make(name)` returns `Option<(guard, Location)>` (`None`:
/// skipped), the guard kept alive for the test.
#[macro_export]
macro_rules! shared_suite {
    ($make:path) => {
        $crate::shared_suite!(@each $make,
            record_then_select_gives_back_the_same_runs,
            every_selection_key_selects_what_admits_says,
            prune_keeps_the_newest_and_drops_tags_and_medians,
            profiles_are_upserted_per_host_config_level_metric,
            import_is_idempotent_and_skips_what_does_not_parse,
            reopening_migrates_nothing_and_keeps_the_data,
            concurrent_opens_of_a_new_database_migrate_once);
    };
    (@each $make:path, $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                let Some((_guard, location)) = $make(stringify!($name)) else {
                    return;
                };
                common::suite::$name(&location);
            }
        )*
    };
}

/// Records every fixture; reads each back equal, with its fingerprints, tags and
/// medians; a second record is `AlreadyThere`.
pub fn record_then_select_gives_back_the_same_runs(loc: &Location) {
    let mut h = open(loc).unwrap();
    let mut docs = fixture_docs();
    docs[0].config.tags = BTreeMap::from([("qemu".into(), "abc123".into())]);
    for d in &docs {
        assert_eq!(
            h.record(d, None).unwrap(),
            Recorded::Inserted,
            "{}",
            d.run_id
        );
    }
    for d in &docs {
        assert_eq!(h.record(d, None).unwrap(), Recorded::AlreadyThere);
    }
    let mut want = docs.clone();
    want.sort_by(|a, b| (&a.started_at, &a.run_id).cmp(&(&b.started_at, &b.run_id)));
    let got = h.select(&Selection::default()).unwrap();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(&g.doc, w, "{} reads back as recorded", w.run_id);
        assert_eq!(g.summary.host_fp, fingerprint::host(w));
        assert_eq!(g.summary.config_fp, fingerprint::config(w));
        assert_eq!(g.summary.tags, w.config.tags);
        assert_eq!(g.summary.status, w.status);
        assert_eq!(g.summary.levels, w.config.levels);
    }
    let listed = h.list(&Selection::default()).unwrap();
    let summaries: Vec<RunSummary> = got.iter().map(|g| g.summary.clone()).collect();
    assert_eq!(listed, summaries);

    let medians = h.medians(&Selection::default()).unwrap();
    let r0 = &want[0].levels[0].results[0];
    let m = medians
        .iter()
        .find(|m| m.run_id == want[0].run_id && m.level == Level(0) && m.id.same(&r0.id))
        .expect("a median row for the first result");
    let mut s = r0.samples.clone();
    s.sort_by(f64::total_cmp);
    let mid = if s.len() % 2 == 1 {
        s[s.len() / 2]
    } else {
        (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0
    };
    assert_eq!((m.median, m.samples), (mid, s.len()));
    let results: usize = want
        .iter()
        .flat_map(|d| &d.levels)
        .map(|l| l.results.len())
        .sum();
    assert_eq!(medians.len(), results);
}

/// Which runs `sel` should give, from the summaries of all runs: what `admits`,
/// oldest first, the last N.
fn expected(all: &[RunSummary], sel: &Selection) -> Vec<String> {
    let mut v: Vec<&RunSummary> = all.iter().filter(|r| sel.admits(r)).collect();
    v.sort_by(|a, b| (a.started_unix, &a.run_id).cmp(&(b.started_unix, &b.run_id)));
    let skip = sel.last.map_or(0, |n| v.len().saturating_sub(n));
    v[skip..].iter().map(|r| r.run_id.clone()).collect()
}

/// Each key, alone and combined, selects in SQL what `Selection::admits` says.
pub fn every_selection_key_selects_what_admits_says(loc: &Location) {
    let mut h = open(loc).unwrap();
    let docs = varied_runs(8);
    for d in &docs {
        h.record(d, None).unwrap();
    }
    let all = h.list(&Selection::default()).unwrap();
    assert_eq!(all.len(), 8);
    let other_host = all.last().unwrap().host_fp.clone();
    let config0 = all[0].config_fp.clone();
    let texts = [
        "last=3".to_string(),
        "tag=qemu=abc".into(),
        "tag=qemu=abc,tag=ci=yes".into(),
        "tag=qemu=nope".into(),
        format!("host={}", &other_host[..5]),
        format!("host={other_host}"),
        format!("config={config0}"),
        "levels=2".into(),
        "suite=quick".into(),
        "backend=qemu".into(),
        "tool=0.1.1".into(),
        "status=partial".into(),
        "since=2025-01-04T00:00:00Z".into(),
        "before=2025-01-04T00:00:00Z".into(),
        "since=2025-01-02T00:00:00Z,before=2025-01-07T00:00:00Z,suite=smoke,last=2".into(),
        "tag=qemu=def,last=2".into(),
    ];
    for text in texts {
        let sel: Selection = text.parse().unwrap();
        let got: Vec<String> = h
            .select(&sel)
            .unwrap()
            .into_iter()
            .map(|r| r.summary.run_id)
            .collect();
        assert_eq!(got, expected(&all, &sel), "history:{text}");
        let medians = h.medians(&sel).unwrap();
        assert!(medians.iter().all(|m| got.contains(&m.run_id)), "{text}");
    }
    // The concrete meanings, spelled out once.
    let ids = |text: &str| -> Vec<String> { expected(&all, &text.parse().unwrap()) };
    assert_eq!(ids("last=2"), ["run-06", "run-07"]);
    assert_eq!(ids("tag=qemu=abc,last=2"), ["run-04", "run-06"]);
    assert_eq!(ids(&format!("host={other_host}")), ["run-06", "run-07"]);
    assert_eq!(ids("levels=2"), ["run-02", "run-05"]);
}

/// `prune` drops what every given rule says, with the runs' tags and medians.
pub fn prune_keeps_the_newest_and_drops_tags_and_medians(loc: &Location) {
    let mut h = open(loc).unwrap();
    let docs = varied_runs(6);
    for d in &docs {
        h.record(d, None).unwrap();
    }
    let ids = |h: &mut history::History| -> Vec<String> {
        h.list(&Selection::default())
            .unwrap()
            .into_iter()
            .map(|r| r.run_id)
            .collect()
    };
    assert_eq!(h.prune(None, None).unwrap(), 0);
    let day = |d: u8| {
        OffsetDateTime::parse(
            &format!("2025-01-{d:02}T00:00:00Z"),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    // Beyond the last 4 AND started before Jan 2: only run-00.
    assert_eq!(h.prune(Some(4), Some(day(2))).unwrap(), 1);
    assert_eq!(
        ids(&mut h),
        ["run-01", "run-02", "run-03", "run-04", "run-05"]
    );
    assert_eq!(h.prune(Some(3), None).unwrap(), 2);
    assert_eq!(ids(&mut h), ["run-03", "run-04", "run-05"]);
    assert_eq!(h.prune(None, Some(day(5))).unwrap(), 1);
    assert_eq!(ids(&mut h), ["run-04", "run-05"]);
    let medians = h.medians(&Selection::default()).unwrap();
    assert!(medians
        .iter()
        .all(|m| m.run_id == "run-04" || m.run_id == "run-05"));
    // Nothing of a dropped run is left behind: it records again with its tags.
    assert_eq!(h.record(&docs[0], None).unwrap(), Recorded::Inserted);
    let back = h.select(&"tag=ci=yes".parse().unwrap()).unwrap();
    assert_eq!(back[0].summary.run_id, "run-00");
    assert_eq!(back[0].summary.tags, docs[0].config.tags);
}

/// Profiles are stored, replaced on the same key, and returned per host and config.
pub fn profiles_are_upserted_per_host_config_level_metric(loc: &Location) {
    let mut h = open(loc).unwrap();
    let p = |level: u32, metric: &str, sigma: f64, runs: usize| ProfileRow {
        host_fp: "00aa".into(),
        config_fp: "11bb".into(),
        level: Level(level),
        workload: "cpu.int".into(),
        metric: metric.into(),
        log_sigma: sigma,
        runs,
        updated_at: "2025-01-14T09:30:00Z".into(),
        tail_nu: None,
        tail_scale: None,
    };
    // A heavy tail stored, then replaced by a profile without one, and one kept.
    let tailed = |level, metric, sigma, runs| ProfileRow {
        tail_nu: Some(1.5),
        tail_scale: Some(sigma / 3.0),
        ..p(level, metric, sigma, runs)
    };
    h.put_profile(&tailed(1, "ops", 0.05, 5)).unwrap();
    h.put_profile(&tailed(0, "ops", 0.01, 5)).unwrap();
    h.put_profile(&p(1, "ops", 0.04, 9)).unwrap();
    let other = ProfileRow {
        host_fp: "ffff".into(),
        ..p(0, "ops", 0.3, 2)
    };
    h.put_profile(&other).unwrap();
    assert_eq!(
        h.profiles("00aa", "11bb").unwrap(),
        [tailed(0, "ops", 0.01, 5), p(1, "ops", 0.04, 9)]
    );
    assert_eq!(h.profiles("ffff", "11bb").unwrap(), [other]);
    assert!(h.profiles("00aa", "nope").unwrap().is_empty());
}

/// Import: the version 1 fixtures as files, a tree of run directories with a broken
/// run.json in it (skipped and reported), the real run directory; again: all there.
pub fn import_is_idempotent_and_skips_what_does_not_parse(loc: &Location) {
    let mut h = open(loc).unwrap();
    let tree = tempfile::tempdir().unwrap();
    for (i, f) in v1_fixtures().iter().enumerate() {
        let d = tree.path().join(format!("run{i}"));
        std::fs::create_dir(&d).unwrap();
        std::fs::copy(f, d.join("run.json")).unwrap();
    }
    let broken = tree.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    std::fs::write(broken.join("run.json"), b"{ not json").unwrap();
    std::fs::create_dir(tree.path().join("not-a-run")).unwrap();

    let first = h.import_dir(tree.path()).unwrap();
    assert_eq!(first.inserted.len(), 2, "{first:?}");
    assert_eq!(first.skipped.len(), 1, "{first:?}");
    assert_eq!(first.skipped[0].0, broken.join("run.json"));
    assert!(one_line(&first.skipped[0].1), "{}", first.skipped[0].1);
    let again = h.import_dir(tree.path()).unwrap();
    assert!(again.inserted.is_empty());
    assert_eq!(again.already_there, first.inserted);
    for f in v1_fixtures() {
        assert!(
            h.import_dir(&f).unwrap().inserted.is_empty(),
            "{}",
            f.display()
        );
    }

    let real = h.import_dir(&real_run_dir()).unwrap();
    assert_eq!(real.inserted.len(), 1);
    let run = h.select(&"backend=host".parse().unwrap()).unwrap();
    assert_eq!(run.len(), 1);
    assert_eq!(
        run[0].doc,
        super::read_doc(&real_run_dir().join("run.json"))
    );
    let source = run[0].summary.source_dir.as_ref().unwrap();
    assert!(
        source.is_absolute() && source.ends_with("tests/fixtures/run-l0"),
        "{}",
        source.display()
    );
    assert!(h.import_dir(&real_run_dir()).unwrap().inserted.is_empty());

    let empty = tempfile::tempdir().unwrap();
    let err = h.import_dir(empty.path()).unwrap_err().to_string();
    assert!(err.contains("has no run.json") && one_line(&err), "{err}");
}

/// A second open of a migrated database changes nothing and sees the data.
pub fn reopening_migrates_nothing_and_keeps_the_data(loc: &Location) {
    let docs = fixture_docs();
    {
        let mut h = open(loc).unwrap();
        assert_eq!(h.schema_version().unwrap(), history::SCHEMA_VERSION);
        h.record(&docs[0], None).unwrap();
    }
    let mut h = open(loc).unwrap();
    assert_eq!(h.schema_version().unwrap(), history::SCHEMA_VERSION);
    assert_eq!(h.list(&Selection::default()).unwrap().len(), 1);
    assert_eq!(h.record(&docs[0], None).unwrap(), Recorded::AlreadyThere);
}

/// Four processes' worth of opens racing on a new database: all succeed (a second
/// migration would fail on the existing tables), and records from each are kept.
pub fn concurrent_opens_of_a_new_database_migrate_once(loc: &Location) {
    let docs = varied_runs(4);
    std::thread::scope(|s| {
        for d in &docs {
            s.spawn(move || {
                let mut h = open(loc).unwrap();
                h.record(d, None).unwrap();
            });
        }
    });
    let mut h = open(loc).unwrap();
    assert_eq!(h.list(&Selection::default()).unwrap().len(), 4);
}
