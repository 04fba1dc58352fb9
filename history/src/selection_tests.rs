//! The selection syntax: every key, the errors, and the canonical round trip.

use super::*;
use proptest::prelude::*;

fn parse(s: &str) -> Selection {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn every_key_parses() {
    let s = parse(
        "last=5,tag=qemu=abc123,tag=kernel=6.1,suite=smoke,host=AB12,levels=4,backend=qemu,\
         tool=0.1.0,config=00ff,status=complete,since=2025-01-14T09:30:00Z,before=2025-02-01T00:00:00+01:00",
    );
    assert_eq!(s.last, Some(5));
    assert_eq!(
        s.tags,
        [
            ("qemu".into(), "abc123".into()),
            ("kernel".into(), "6.1".into())
        ]
    );
    assert_eq!(s.suite, Some(Suite::Smoke));
    assert_eq!(s.host.as_deref(), Some("ab12"));
    assert_eq!(s.config.as_deref(), Some("00ff"));
    assert_eq!(s.levels, Some(4));
    assert_eq!(s.backend.as_deref(), Some("qemu"));
    assert_eq!(s.tool.as_deref(), Some("0.1.0"));
    assert_eq!(s.status, Some(RunStatus::Complete));
    assert_eq!(s.since.unwrap().unix_timestamp(), 1_736_847_000);
    assert_eq!(s.before.unwrap().unix_timestamp(), 1_738_364_400);
    assert_eq!(parse(&s.to_string()), s);
    assert_eq!(parse(""), Selection::default());
    assert_eq!(parse(" last=2 , suite=quick "), parse("suite=quick,last=2"));
    // A tag value may itself contain `=`.
    assert_eq!(parse("tag=opt=a=b").tags, [("opt".into(), "a=b".into())]);
}

#[test]
fn errors_name_the_key_and_list_the_valid_ones() {
    let err = |s: &str| s.parse::<Selection>().unwrap_err().to_string();
    let e = err("lats=5");
    assert!(
        e.contains("`lats`") && e.contains("last, tag, host, config"),
        "{e}"
    );
    assert!(err("last=0").contains("last takes a number of runs"));
    assert!(err("last").contains("needs a value: last="));
    assert!(err("suite=").contains("needs a value"));
    assert!(err("suite=long").contains("smoke, quick or standard"));
    assert!(err("host=xyz").contains("hex digits"));
    assert!(err("tag=novalue").contains("K=V"));
    assert!(err("tag==v").contains("K=V"));
    assert!(err("since=yesterday").contains("RFC 3339"));
    assert!(err("status=done").contains("complete, partial"));
    assert!(err("suite=smoke,suite=quick").contains("given twice"));
    assert!(!err("lats=5").contains('\n'));
}

#[test]
fn arguments_are_selections_only_with_the_prefix() {
    assert_eq!(
        Selection::from_arg("history:last=1").unwrap().unwrap().last,
        Some(1)
    );
    assert!(Selection::from_arg("./runs/20250114").is_none());
    assert!(Selection::from_arg("history:bogus=1").unwrap().is_err());
}

fn word() -> impl Strategy<Value = String> {
    "[a-z0-9._-]{1,8}"
}

fn selection() -> impl Strategy<Value = Selection> {
    let time = (0i64..4_000_000_000).prop_map(|t| OffsetDateTime::from_unix_timestamp(t).unwrap());
    (
        (
            proptest::option::of(1usize..1000),
            proptest::collection::vec((word(), "[a-z0-9=._-]{0,8}"), 0..3),
            proptest::option::of("[0-9a-f]{1,16}"),
            proptest::option::of("[0-9a-f]{1,16}"),
            proptest::option::of(0u32..9),
            proptest::option::of(proptest::sample::select(Suite::ALL.to_vec())),
        ),
        (
            proptest::option::of(word()),
            proptest::option::of(word()),
            proptest::option::of(proptest::sample::select(vec![
                RunStatus::Running,
                RunStatus::Complete,
                RunStatus::Partial,
                RunStatus::Failed,
            ])),
            proptest::option::of(time.clone()),
            proptest::option::of(time),
        ),
    )
        .prop_map(
            |(
                (last, tags, host, config, levels, suite),
                (backend, tool, status, since, before),
            )| {
                Selection {
                    last,
                    tags,
                    host,
                    config,
                    levels,
                    suite,
                    backend,
                    tool,
                    status,
                    since,
                    before,
                }
            },
        )
}

proptest! {
    #[test]
    fn display_parses_back_to_the_same_selection(s in selection()) {
        let text = s.to_string();
        prop_assert_eq!(parse(&text), s, "{}", text);
    }
}
