//! Host-key verification against an OpenSSH `known_hosts` file, done before we
//! authenticate so a key is never offered to an impostor. Parsed here rather than by
//! libssh2's reader, which gives up on the whole file at the first line it does not
//! understand (a `@cert-authority` marker, an `sk-` key type). Hashed host names
//! (`|1|salt|hash`, HMAC-SHA1) are matched through libssh2, which implements that hash.

use sha2::{Digest, Sha256};
use std::path::Path;

/// What the file says about a host and the key it presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A line for this host carries exactly this key.
    Match,
    /// Lines for this host exist but none carries this key; the recorded key's
    /// OpenSSH fingerprint (`SHA256:…`) is given.
    Mismatch {
        /// Fingerprint of the first key on record for the host.
        expected: String,
    },
    /// The key is marked `@revoked`.
    Revoked,
    /// No line names this host.
    Unknown,
}

/// One usable line of a known_hosts file.
struct Entry<'a> {
    marker: Option<&'a str>,
    hosts: &'a str,
    key_type: &'a str,
    key_b64: &'a str,
}

fn entries(text: &str) -> impl Iterator<Item = Entry<'_>> {
    text.lines().filter_map(|line| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let mut f = line.split_whitespace();
        let first = f.next()?;
        let (marker, hosts) = if first.starts_with('@') {
            (Some(first), f.next()?)
        } else {
            (None, first)
        };
        Some(Entry {
            marker,
            hosts,
            key_type: f.next()?,
            key_b64: f.next()?,
        })
    })
}

/// The name OpenSSH writes for `host` on `port`: bare for 22, `[host]:port` otherwise.
pub fn host_pattern(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// Does the host field of a line name `name` (already in `host_pattern` form)?
fn names(hosts: &str, name: &str, key_type: &str, key_b64: &str) -> bool {
    if hosts.starts_with("|1|") {
        return hashed_names(hosts, name, key_type, key_b64);
    }
    let mut hit = false;
    for pat in hosts.split(',') {
        let (neg, pat) = match pat.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, pat),
        };
        if wildcard(pat.as_bytes(), name.as_bytes()) {
            if neg {
                return false;
            }
            hit = true;
        }
    }
    hit
}

/// Match a hashed host field through libssh2 (HMAC-SHA1 of the name with the salt).
fn hashed_names(hosts: &str, name: &str, key_type: &str, key_b64: &str) -> bool {
    // ssh2's check panics on a NUL (it cannot pass it to C); no name holds one.
    if name.contains('\0') {
        return false;
    }
    let Ok(sess) = ssh2::Session::new() else {
        return false;
    };
    let Ok(mut kh) = sess.known_hosts() else {
        return false;
    };
    if kh
        .read_str(
            &format!("{hosts} {key_type} {key_b64}"),
            ssh2::KnownHostFileKind::OpenSSH,
        )
        .is_err()
    {
        return false;
    }
    let Some(blob) = base64_decode(key_b64) else {
        return false;
    };
    // The name is hashed as written (`[h]:p` for other ports); any verdict but
    // NotFound means the name matched.
    matches!(
        kh.check(name, &blob),
        ssh2::CheckResult::Match | ssh2::CheckResult::Mismatch
    )
}

/// Glob match with `*` and `?`, case-insensitive like OpenSSH host patterns. Only the
/// last `*` is ever backtracked to, so a line of many stars costs at most
/// `pattern × name` steps (trying every split of the name for each star took hours).
fn wildcard(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0, 0);
    // After the last star seen: where the pattern resumes, and where in the name the
    // star's match currently ends.
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        match pat.get(p) {
            Some(b'*') => {
                p += 1;
                star = Some((p, i));
            }
            Some(&c) if c == b'?' || c.eq_ignore_ascii_case(&s[i]) => {
                p += 1;
                i += 1;
            }
            _ => match star {
                Some((resume, end)) => {
                    p = resume;
                    i = end + 1;
                    star = Some((resume, end + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

/// Check the key `blob` presented by `host:port` against known_hosts `text`.
pub fn check(text: &str, host: &str, port: u16, blob: &[u8]) -> Verdict {
    let name = host_pattern(host, port);
    let mut expected = None;
    for e in entries(text) {
        if e.marker == Some("@cert-authority") || !names(e.hosts, &name, e.key_type, e.key_b64) {
            continue;
        }
        let Some(known) = base64_decode(e.key_b64) else {
            continue;
        };
        if e.marker == Some("@revoked") {
            if known == blob {
                return Verdict::Revoked;
            }
            continue;
        }
        if known == blob {
            return Verdict::Match;
        }
        expected.get_or_insert_with(|| fingerprint(&known));
    }
    match expected {
        Some(expected) => Verdict::Mismatch { expected },
        None => Verdict::Unknown,
    }
}

/// Key types on record for `host:port`, to ask the server for one of those first
/// (as OpenSSH does) so a host with an RSA line is not refused for showing ed25519.
pub fn known_types(text: &str, host: &str, port: u16) -> Vec<String> {
    let name = host_pattern(host, port);
    let mut out: Vec<String> = vec![];
    for e in entries(text) {
        if e.marker.is_none()
            && names(e.hosts, &name, e.key_type, e.key_b64)
            && !out.iter().any(|t| t == e.key_type)
        {
            out.push(e.key_type.to_string());
        }
    }
    out
}

/// Append a line for `host:port` with key `blob` to `file` (created, with its
/// directory, when missing).
pub fn record(file: &Path, host: &str, port: u16, blob: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)?;
    // Start on a fresh line even if the file lacks a final newline.
    let len = f.metadata()?.len();
    let sep = if len > 0 && !std::fs::read(file)?.ends_with(b"\n") {
        "\n"
    } else {
        ""
    };
    writeln!(
        f,
        "{sep}{} {} {}",
        host_pattern(host, port),
        key_type(blob).unwrap_or("ssh-ed25519"),
        base64_encode(blob)
    )
}

/// The algorithm name at the start of an SSH public key blob (`ssh-ed25519`, …);
/// `None` unless it is a name as RFC 4251 §6 defines one (1 to 64 printable ASCII
/// characters, no comma or space), since [`record`] writes it as a field of a line.
pub fn key_type(blob: &[u8]) -> Option<&str> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    let name = blob.get(4..4 + len)?;
    let printable = name.iter().all(|&b| b.is_ascii_graphic() && b != b',');
    if !(1..=64).contains(&len) || !printable {
        return None;
    }
    std::str::from_utf8(name).ok()
}

/// OpenSSH's fingerprint of a key blob: `SHA256:` + unpadded base64 of its SHA-256.
pub fn fingerprint(blob: &[u8]) -> String {
    let b64 = base64_encode(&Sha256::digest(blob));
    format!("SHA256:{}", b64.trim_end_matches('='))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64, padding optional; `None` on any other character.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let v = B64.iter().position(|&b| b == c)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    // A real ed25519 public key and its fingerprint as printed by `ssh-keygen -lf`.
    const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJCyQuS3/4QccLBYL8lmedEUUue6epaSifjTaJyGaLqp";
    const OTHER: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIKI8rwVN+09WuWrozvJ3Z822FiLAOS7hQNG/DGMWQtk0";

    fn blob(b64: &str) -> Vec<u8> {
        base64_decode(b64).unwrap()
    }

    #[test]
    fn base64_round_trips() {
        for n in 0..40u8 {
            let v: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(base64_decode(&base64_encode(&v)).unwrap(), v);
        }
        assert_eq!(base64_encode(b"foob"), "Zm9vYg==");
        assert!(base64_decode("a$b").is_none());
    }

    #[test]
    fn reads_key_type_and_fingerprint() {
        let b = blob(KEY);
        assert_eq!(key_type(&b), Some("ssh-ed25519"));
        assert_eq!(
            fingerprint(&b),
            "SHA256:lyq9WrxXn+A9faxgFk0j+I/U/YQBiRRMg19mzd0bPHY"
        );
        assert_ne!(fingerprint(&b), fingerprint(&blob(OTHER)));
    }

    #[test]
    fn matches_plain_ported_and_patterned_names() {
        let text = format!(
            "# comment\n\n10.0.0.1 ssh-ed25519 {KEY}\n[10.0.0.2]:2222 ssh-ed25519 {KEY}\n\
             *.lab,!bad.lab ssh-ed25519 {KEY}\n@cert-authority * ssh-ed25519 {OTHER}\n"
        );
        let b = blob(KEY);
        assert_eq!(check(&text, "10.0.0.1", 22, &b), Verdict::Match);
        assert_eq!(check(&text, "10.0.0.1", 2222, &b), Verdict::Unknown);
        assert_eq!(check(&text, "10.0.0.2", 2222, &b), Verdict::Match);
        assert_eq!(check(&text, "10.0.0.2", 22, &b), Verdict::Unknown);
        assert_eq!(check(&text, "x.LAB", 22, &b), Verdict::Match);
        assert_eq!(check(&text, "bad.lab", 22, &b), Verdict::Unknown);
        assert_eq!(known_types(&text, "10.0.0.1", 22), ["ssh-ed25519"]);
    }

    #[test]
    fn reports_mismatch_with_recorded_fingerprint_and_revocation() {
        let text = format!("h ssh-ed25519 {KEY}\n@revoked r ssh-ed25519 {OTHER}\n");
        assert_eq!(
            check(&text, "h", 22, &blob(OTHER)),
            Verdict::Mismatch {
                expected: fingerprint(&blob(KEY))
            }
        );
        assert_eq!(check(&text, "r", 22, &blob(OTHER)), Verdict::Revoked);
    }

    #[test]
    fn records_new_keys_on_a_fresh_line() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("sub/known_hosts");
        record(&f, "h", 2200, &blob(KEY)).unwrap();
        std::fs::write(&f, std::fs::read_to_string(&f).unwrap().trim_end()).unwrap();
        record(&f, "g", 22, &blob(OTHER)).unwrap();
        let text = std::fs::read_to_string(&f).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert_eq!(check(&text, "h", 2200, &blob(KEY)), Verdict::Match);
        assert_eq!(check(&text, "g", 22, &blob(OTHER)), Verdict::Match);
    }

    #[test]
    fn key_with_an_empty_type_name_is_recorded_in_a_line_that_reads_back() {
        // Found by the known_hosts fuzz target: for a blob whose type name is empty,
        // `record` wrote `host  AAAA…`, a line `check` cannot read, so an accept-new
        // host stayed unknown and gained a line at every contact. Names that are not
        // RFC 4251 names (empty, spaces, control characters) are not taken as types.
        let b = blob("AAAAAOS7hC3NzaC1lZDI1NTE5AAAAIKI8rwVN+09WuWrozvJ3Z822FiLAOS7hQNG/DGWQMtk");
        assert_eq!(key_type(&b), None);
        assert_eq!(key_type(b"\0\0\0\x03a b"), None);
        assert_eq!(key_type(b"\0\0\0\x03a\nb"), None);
        assert_eq!(key_type(b"\0\0\0\x03abc"), Some("abc"));
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("known_hosts");
        record(&f, "h", 22, &b).unwrap();
        let text = std::fs::read_to_string(&f).unwrap();
        assert_eq!(check(&text, "h", 22, &b), Verdict::Match, "{text}");
        assert_eq!(known_types(&text, "h", 22), ["ssh-ed25519"]);
    }

    #[test]
    fn host_name_with_a_nul_byte_is_unknown_to_hashed_lines() {
        // Found by the known_hosts fuzz target: a name with a NUL made ssh2's hashed
        // check panic (`CString::new(..).unwrap()`) instead of not matching.
        let text = format!(
            "|1|qh9lxEJ0ijmbMtAvr7yNjN4MA1U=|11dCnmV746KOeJNM8xTHBgRHQck= ssh-ed25519 {KEY}\n"
        );
        assert_eq!(check(&text, "10.0.0.1", 22, &blob(KEY)), Verdict::Match);
        assert_eq!(check(&text, "10.0\0.0.1", 22, &blob(KEY)), Verdict::Unknown);
        assert!(known_types(&text, "a\0b", 2200).is_empty());
    }

    #[test]
    fn patterns_with_many_stars_match_in_linear_time() {
        // Found reading the matcher while writing the known_hosts fuzz target, and
        // confirmed by timing it: the recursive glob tried every split of the name for
        // every `*`, so `**********x` against a 20-character host took over a second
        // and 40 stars would hang the connection before authentication.
        let line = format!("{}x ssh-ed25519 {KEY}\n", "*".repeat(4000));
        let t = std::time::Instant::now();
        assert_eq!(
            check(&line, "10.0.0.1.example.org", 22, &blob(KEY)),
            Verdict::Unknown
        );
        assert_eq!(
            check(&line, "10.0.0.1.example.orx", 22, &blob(KEY)),
            Verdict::Match
        );
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            t.elapsed()
        );
        for (pat, name, hit) in [
            ("*", "", true),
            ("", "", true),
            ("", "a", false),
            ("a*", "a", true),
            ("*a", "ba", true),
            ("*a", "ab", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("?", "", false),
            ("??*", "ab", true),
            ("*.LAB", "x.lab", true),
            ("10.0.0.?", "10.0.0.12", false),
        ] {
            assert_eq!(
                wildcard(pat.as_bytes(), name.as_bytes()),
                hit,
                "{pat:?} {name:?}"
            );
        }
    }

    #[test]
    fn matches_hashed_names() {
        // `ssh-keygen -H` output for "[10.0.0.3]:2200" with this key.
        let Some(hashed) = hashed_fixture() else {
            return;
        };
        assert_eq!(check(&hashed, "10.0.0.3", 2200, &blob(KEY)), Verdict::Match);
        assert_eq!(
            check(&hashed, "10.0.0.4", 2200, &blob(KEY)),
            Verdict::Unknown
        );
    }

    /// Hash a line with the real ssh-keygen; `None` (the test skips) where it is not
    /// installed, outside CI.
    fn hashed_fixture() -> Option<String> {
        if !crate::testreq::require_tool("ssh-keygen", "openssh-client") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("kh");
        std::fs::write(&f, format!("[10.0.0.3]:2200 ssh-ed25519 {KEY}\n")).unwrap();
        let o = std::process::Command::new("ssh-keygen")
            .arg("-H")
            .arg("-f")
            .arg(&f)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "ssh-keygen -H failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(text.starts_with("|1|"), "{text}");
        Some(text)
    }
}
