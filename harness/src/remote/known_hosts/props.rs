//! Property tests of the known_hosts reader on files others wrote: random text, and
//! real lines (plain, `[host]:port`, patterns, markers, hashed) with bytes, lines or
//! fields flipped, removed, inserted or repeated. It must never panic, only match a
//! key the file carries, and whatever the file already holds, a key `record` appends
//! must then be matched (or revoked by a `@revoked` line), or trust on first use would
//! record keys it refuses next time.

use super::*;
use model::testing::{edits, mutate};
use proptest::prelude::*;

const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJCyQuS3/4QccLBYL8lmedEUUue6epaSifjTaJyGaLqp";
const OTHER: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIKI8rwVN+09WuWrozvJ3Z822FiLAOS7hQNG/DGMWQtk0";
/// `ssh-keygen -H` of `10.0.0.1 ssh-ed25519 KEY`.
const HASHED: &str = "|1|qh9lxEJ0ijmbMtAvr7yNjN4MA1U=|11dCnmV746KOeJNM8xTHBgRHQck=";

fn base() -> String {
    format!(
        "# a comment\n10.0.0.1 ssh-ed25519 {KEY}\n[10.0.0.2]:2222 ssh-ed25519 {KEY}\n\
         *.lab,!bad.lab ssh-ed25519 {OTHER}\n@cert-authority *.lab ssh-ed25519 {OTHER}\n\
         @revoked r ssh-ed25519 {OTHER}\n{HASHED} ssh-ed25519 {KEY}\nh?st ssh-ed25519 {OTHER}\n"
    )
}

fn host() -> impl Strategy<Value = (String, u16)> {
    (
        prop::sample::select(vec![
            "10.0.0.1", "10.0.0.2", "x.lab", "bad.lab", "r", "host", "h",
        ]),
        prop::sample::select(vec![22u16, 2222, 1]),
    )
        .prop_map(|(h, p)| (h.to_string(), p))
}

/// A key blob (never empty: a server always presents one): a real one, or a type name
/// (valid or not) and random bytes.
fn blob() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(base64_decode(KEY).unwrap()),
        Just(base64_decode(OTHER).unwrap()),
        ("(?s).{0,12}", prop::collection::vec(any::<u8>(), 0..40)).prop_map(|(t, rest)| {
            let mut b = (t.len() as u32).to_be_bytes().to_vec();
            b.extend(t.as_bytes());
            b.extend(rest);
            b
        }),
        prop::collection::vec(any::<u8>(), 1..40),
    ]
}

/// What `check` and `known_types` promise about any file.
fn keeps_promises(text: &str, host: &str, port: u16, blob: &[u8]) -> Result<(), TestCaseError> {
    let v = check(text, host, port, blob);
    prop_assert_eq!(&v, &check(text, host, port, blob));
    match &v {
        Verdict::Match => prop_assert!(
            text.split_whitespace()
                .any(|w| base64_decode(w).as_deref() == Some(blob)),
            "matched a key the file lacks"
        ),
        Verdict::Revoked => prop_assert!(text.contains("@revoked")),
        Verdict::Mismatch { expected } => {
            prop_assert!(expected.starts_with("SHA256:") && expected.len() == 50)
        }
        Verdict::Unknown => {}
    }
    let types = known_types(text, host, port);
    for (i, t) in types.iter().enumerate() {
        prop_assert!(!t.is_empty() && !t.contains(char::is_whitespace), "{t:?}");
        prop_assert!(!types[..i].contains(t), "{t:?} twice");
    }
    Ok(())
}

#[test]
fn the_base_file_reads_as_written() {
    let key = base64_decode(KEY).unwrap();
    let other = base64_decode(OTHER).unwrap();
    let text = base();
    assert_eq!(check(&text, "10.0.0.1", 22, &key), Verdict::Match);
    assert_eq!(check(&text, "10.0.0.2", 2222, &key), Verdict::Match);
    assert_eq!(check(&text, "x.lab", 22, &other), Verdict::Match);
    assert_eq!(check(&text, "bad.lab", 22, &other), Verdict::Unknown);
    assert_eq!(check(&text, "r", 22, &other), Verdict::Revoked);
    assert_eq!(check(&text, "host", 22, &other), Verdict::Match);
    // The hashed line alone (libssh2 computes its HMAC-SHA1), no ssh-keygen needed.
    let hashed = format!("{HASHED} ssh-ed25519 {KEY}\n");
    assert_eq!(check(&hashed, "10.0.0.1", 22, &key), Verdict::Match);
    assert_eq!(check(&hashed, "10.0.0.9", 22, &key), Verdict::Unknown);
}

/// The glob as it was written before it was made linear: the reference it must agree with.
fn naive_wildcard(pat: &[u8], s: &[u8]) -> bool {
    match (pat.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            naive_wildcard(&pat[1..], s) || (!s.is_empty() && naive_wildcard(pat, &s[1..]))
        }
        (Some(b'?'), Some(_)) => naive_wildcard(&pat[1..], &s[1..]),
        (Some(p), Some(c)) if p.eq_ignore_ascii_case(c) => naive_wildcard(&pat[1..], &s[1..]),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn the_glob_agrees_with_the_recursive_definition(pat in "[ab*?A]{0,8}", name in "[abAB]{0,8}") {
        prop_assert_eq!(
            wildcard(pat.as_bytes(), name.as_bytes()),
            naive_wildcard(pat.as_bytes(), name.as_bytes())
        );
    }

    #[test]
    fn base64_round_trips_and_never_panics(data in prop::collection::vec(any::<u8>(), 0..64), s in "(?s).{0,40}") {
        prop_assert_eq!(base64_decode(&base64_encode(&data)), Some(data));
        if let Some(b) = base64_decode(&s) {
            prop_assert_eq!(base64_decode(&base64_encode(&b)), Some(b));
        }
    }

    #[test]
    fn random_text_keeps_the_promises(text in any::<String>(), (h, p) in host(), b in blob()) {
        keeps_promises(&text, &h, p, &b)?;
    }

    #[test]
    fn mutated_files_keep_the_promises(edits in edits(), (h, p) in host(), b in blob()) {
        keeps_promises(&mutate(&base(), &edits), &h, p, &b)?;
    }

    #[test]
    fn a_recorded_key_is_matched_afterwards(
        edits in prop::collection::vec(edits(), 0..2),
        (h, p) in host(),
        b in blob(),
    ) {
        let before = mutate(&base(), &edits.concat());
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("known_hosts");
        std::fs::write(&f, &before).unwrap();
        record(&f, &h, p, &b).unwrap();
        let after = std::fs::read_to_string(&f).unwrap();
        match check(&after, &h, p, &b) {
            Verdict::Match => {}
            Verdict::Revoked if before.contains("@revoked") => {}
            other => prop_assert!(false, "recorded key reads back as {other:?}:\n{after}"),
        }
        let ty = key_type(&b).unwrap_or("ssh-ed25519");
        prop_assert!(known_types(&after, &h, p).iter().any(|t| t == ty), "{ty:?} not known");
    }
}
