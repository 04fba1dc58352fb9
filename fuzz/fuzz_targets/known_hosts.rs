//! Arbitrary text as a known_hosts file for `nestbench::remote::known_hosts`: `check`
//! and `known_types` for hosts named in the text (and a few fixed ones), and
//! `base64_decode` on every field. They must never panic or hang, agree with
//! themselves (hashed lines go through libssh2), only match a key the file carries,
//! and a line in the form `record` appends must then be matched (or be revoked by a
//! `@revoked` line): trust on first use must not record a key it then refuses.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nestbench::remote::known_hosts::{
    base64_decode, base64_encode, check, fingerprint, host_pattern, key_type, known_types, Verdict,
};

/// A real ed25519 public key blob (base64).
const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJCyQuS3/4QccLBYL8lmedEUUue6epaSifjTaJyGaLqp";

/// `host`/`port` pairs to ask about: fixed ones, and the first name of a few lines.
fn hosts(text: &str) -> Vec<(String, u16)> {
    let mut out = vec![("10.0.0.1".to_string(), 22), ("10.0.0.3".to_string(), 2200)];
    for line in text.lines().take(4) {
        let mut f = line.split_whitespace();
        let Some(mut first) = f.next() else { continue };
        if first.starts_with('@') {
            let Some(next) = f.next() else { continue };
            first = next;
        }
        let name = first
            .split(',')
            .next()
            .unwrap_or("")
            .trim_start_matches('!');
        let (host, port) = match name.strip_prefix('[').and_then(|r| r.split_once("]:")) {
            Some((h, p)) => (h, p.parse().unwrap_or(22)),
            None => (name, 22),
        };
        if !host.is_empty() && !host.starts_with(['#', '|', '@', '!']) && !host.contains(',') {
            out.push((host.to_string(), port));
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut blobs = vec![base64_decode(KEY).unwrap()];
    for w in text.split_whitespace().take(64) {
        if let Some(b) = base64_decode(w) {
            assert_eq!(base64_decode(&base64_encode(&b)).as_ref(), Some(&b));
            let _ = key_type(&b);
            assert!(fingerprint(&b).starts_with("SHA256:"));
            if !b.is_empty() && blobs.len() < 3 {
                blobs.push(b);
            }
        }
    }
    let carried = |blob: &[u8]| {
        text.split_whitespace()
            .any(|w| base64_decode(w).as_deref() == Some(blob))
    };
    for (host, port) in hosts(&text) {
        let types = known_types(&text, &host, port);
        for (i, t) in types.iter().enumerate() {
            assert!(!t.is_empty() && !t.contains(char::is_whitespace), "{t:?}");
            assert!(!types[..i].contains(t), "known_types repeats {t:?}");
        }
        for blob in &blobs {
            let v = check(&text, &host, port, blob);
            assert_eq!(
                v,
                check(&text, &host, port, blob),
                "check is not deterministic"
            );
            match &v {
                Verdict::Match => assert!(carried(blob), "matched a key the file lacks"),
                Verdict::Revoked => assert!(text.contains("@revoked")),
                Verdict::Mismatch { expected } => {
                    assert!(expected.starts_with("SHA256:") && expected.len() == 50)
                }
                Verdict::Unknown => {}
            }
            // The line `record` would append for this host and key.
            let ty = key_type(blob).unwrap_or("ssh-ed25519");
            let line = format!("{} {ty} {}", host_pattern(&host, port), base64_encode(blob));
            let recorded = format!("{text}\n{line}\n");
            match check(&recorded, &host, port, blob) {
                Verdict::Match => {}
                Verdict::Revoked if text.contains("@revoked") => {}
                other => panic!("recorded line {line:?} reads back as {other:?}"),
            }
            assert!(
                known_types(&recorded, &host, port).iter().any(|t| t == ty),
                "recorded key type {ty:?} is not known for {host}:{port}"
            );
        }
    }
});
