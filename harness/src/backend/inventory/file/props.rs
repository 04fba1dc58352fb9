//! Property tests of the inventory reader: a file written from any valid set of
//! levels reads back as exactly those levels, and random text or a valid file with
//! bytes, lines or fields flipped, removed, inserted or repeated either reads as levels
//! that keep docs/inventory.md's rules or is refused in one line naming the file.

use super::*;
use model::testing::{edits, is_one_line, mutate};
use proptest::prelude::*;

const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJCyQuS3/4QccLBYL8lmedEUUue6epaSifjTaJyGaLqp";
const HOME: &str = "/home/u";

/// One level as generated: the TOML fields given (`None`: left out).
#[derive(Debug, Clone)]
struct Spec {
    name: Option<String>,
    host: String,
    port: Option<u16>,
    user: String,
    key: String,
    keys: KeySpec,
    via: Option<usize>,
    workdir: Option<String>,
    connect_timeout: Option<u64>,
}

#[derive(Debug, Clone)]
enum KeySpec {
    KnownHosts {
        file: Option<String>,
        policy: Option<&'static str>,
    },
    Pinned {
        whole_line: bool,
    },
}

/// A TOML basic string holding `s` exactly.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Text of a field value that is not blank (any characters, newlines included).
fn value() -> impl Strategy<Value = String> {
    "(?s).{1,12}".prop_filter("blank", |s| !s.trim().is_empty())
}

fn spec() -> impl Strategy<Value = Spec> {
    let keys = prop_oneof![
        (
            prop::option::of("/[a-z/]{1,10}|~/[a-z/]{1,10}"),
            prop::option::of(prop::sample::select(vec!["strict", "accept-new"])),
        )
            .prop_map(|(file, policy)| KeySpec::KnownHosts { file, policy }),
        any::<bool>().prop_map(|whole_line| KeySpec::Pinned { whole_line }),
    ];
    (
        (
            prop::option::of("[a-z]{1,6}"),
            value(),
            prop::option::of(1u16..=u16::MAX),
            value(),
        ),
        (
            "/[a-z_/.]{1,10}|~/[a-z_/.]{0,10}|~",
            keys,
            any::<prop::sample::Index>(),
        ),
        (
            prop::option::of("/(?s).{0,10}"),
            prop::option::of(1u64..100_000),
        ),
        any::<bool>(),
    )
        .prop_map(
            |((name, host, port, user), (key, keys, via), (workdir, connect_timeout), has_via)| {
                Spec {
                    name,
                    host,
                    port,
                    user,
                    key,
                    keys,
                    // Fixed up to an earlier level in `file()`.
                    via: has_via.then(|| via.index(usize::MAX)),
                    workdir,
                    connect_timeout,
                }
            },
        )
}

/// Valid levels: names unique (generated names get their index), `via` earlier.
fn specs() -> impl Strategy<Value = Vec<Spec>> {
    prop::collection::vec(spec(), 1..5).prop_map(|mut v| {
        for (i, s) in v.iter_mut().enumerate() {
            if let Some(n) = &mut s.name {
                n.push_str(&i.to_string());
            }
            s.via = s.via.filter(|_| i > 0).map(|r| r % i);
        }
        v
    })
}

fn name_of(specs: &[Spec], i: usize) -> String {
    specs[i]
        .name
        .clone()
        .unwrap_or_else(|| format!("L{}", i + 1))
}

fn file(specs: &[Spec]) -> String {
    let mut out = String::new();
    for s in specs {
        out.push_str("[[level]]\n");
        let mut field = |k: &str, v: String| out.push_str(&format!("{k} = {v}\n"));
        if let Some(n) = &s.name {
            field("name", quoted(n));
        }
        field("host", quoted(&s.host));
        if let Some(p) = s.port {
            field("port", p.to_string());
        }
        field("user", quoted(&s.user));
        field("key", quoted(&s.key));
        match &s.keys {
            KeySpec::KnownHosts { file, policy } => {
                if let Some(f) = file {
                    field("known_hosts", quoted(f));
                }
                if let Some(p) = policy {
                    field("host_key_policy", quoted(p));
                }
            }
            KeySpec::Pinned { whole_line } => {
                let k = if *whole_line {
                    format!("ssh-ed25519 {KEY} me@there")
                } else {
                    KEY.to_string()
                };
                field("host_key", quoted(&k));
            }
        }
        if let Some(v) = s.via {
            field("via", quoted(&name_of(specs, v)));
        }
        if let Some(w) = &s.workdir {
            field("workdir", quoted(w));
        }
        if let Some(t) = s.connect_timeout {
            field("connect_timeout", t.to_string());
        }
        out.push('\n');
    }
    out
}

/// Refused in one line naming the file, or levels that keep the documented rules.
fn refused_in_one_line_or_valid(text: &str) -> Result<(), TestCaseError> {
    match parse(text, "inv.toml", Path::new(HOME)) {
        Err(e) => {
            let e = e.to_string();
            prop_assert!(is_one_line(&e), "{e:?}");
            prop_assert!(e.starts_with("inventory inv.toml"), "{e:?}");
        }
        Ok(inv) => {
            let levels = &inv.levels;
            prop_assert!(!levels.is_empty() || inv.l0.is_some());
            prop_assert!(inv.l0.as_ref().is_none_or(|l0| l0.via.is_none()));
            for (i, l) in levels.iter().enumerate() {
                prop_assert!(levels[..i].iter().all(|o| o.target.name != l.target.name));
                prop_assert!(!l.target.host.trim().is_empty() && !l.target.user.trim().is_empty());
                prop_assert!(l.target.port >= 1 && l.workdir.as_deref().is_none_or(is_absolute));
                prop_assert!(l.connect_timeout.as_secs() >= 1);
                prop_assert!(!matches!(l.via, Some(Via::Level(v)) if v >= i));
                prop_assert!(!matches!(l.via, Some(Via::L0)) || inv.l0.is_some());
                if let HostKeyCheck::Pinned { key_base64 } = &l.target.host_key {
                    let b = known_hosts::base64_decode(key_base64);
                    prop_assert!(b.is_some_and(|b| known_hosts::key_type(&b).is_some()));
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn valid_files_read_as_written(specs in specs()) {
        let text = file(&specs);
        let inv = parse(&text, "inv.toml", Path::new(HOME));
        prop_assert!(inv.is_ok(), "{:?}\n{text}", inv.err());
        let levels = inv.unwrap().levels;
        prop_assert_eq!(levels.len(), specs.len());
        for (i, (l, s)) in levels.iter().zip(&specs).enumerate() {
            let t = &l.target;
            prop_assert_eq!(&t.name, &name_of(&specs, i));
            prop_assert_eq!((&t.host, &t.user), (&s.host, &s.user));
            prop_assert_eq!(t.port, s.port.unwrap_or(22));
            prop_assert_eq!(&t.key, &expand(&s.key, Path::new(HOME)));
            let want = match &s.keys {
                KeySpec::Pinned { .. } => HostKeyCheck::Pinned { key_base64: KEY.into() },
                KeySpec::KnownHosts { file, policy } => HostKeyCheck::KnownHosts {
                    file: expand(file.as_deref().unwrap_or("~/.ssh/known_hosts"), Path::new(HOME)),
                    accept_new: *policy == Some("accept-new"),
                },
            };
            prop_assert_eq!(&t.host_key, &want);
            prop_assert_eq!(l.via, s.via.map(Via::Level));
            prop_assert_eq!(&l.workdir, &s.workdir);
            prop_assert_eq!(l.connect_timeout.as_secs(), s.connect_timeout.unwrap_or(20));
        }
    }

    #[test]
    fn random_text_is_refused_in_one_line(text in any::<String>()) {
        refused_in_one_line_or_valid(&text)?;
    }

    #[test]
    fn random_tables_are_refused_in_one_line_or_valid(lines in prop::collection::vec(
        r#"\[\[level\]\]|\[l0\]|(name|host|port|user|key|via|workdir|known_hosts|host_key|host_key_policy|connect_timeout|prot) = ("[a-zA-Z0-9/~ .-]{0,8}"|-?[0-9]{1,6}|true|\[\])"#,
        0..16,
    )) {
        refused_in_one_line_or_valid(&lines.join("\n"))?;
    }

    #[test]
    fn mutated_files_are_refused_in_one_line_or_valid(specs in specs(), edits in edits()) {
        refused_in_one_line_or_valid(&mutate(&file(&specs), &edits))?;
    }
}
