//! The inventory file (DESIGN §3, docs/inventory.md): existing machines, one
//! `[[level]]` table each, numbered from 1 in file order. Parsed and validated once,
//! before anything connects, so a typo fails in a second with the line that has it
//! rather than after L1's suite has run.

use crate::remote::known_hosts;
use crate::remote::ssh::{HostKeyCheck, SshTarget};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// One validated level of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryLevel {
    /// Where and how to log in.
    pub target: SshTarget,
    /// Index (0-based, into the level list) of the level it is reached through.
    pub via: Option<usize>,
    /// Where the agent and its files go.
    pub workdir: String,
    /// Bound on connecting to this level's own SSH server (each hop of a chain has
    /// its own, and they add up).
    pub connect_timeout: std::time::Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    level: Vec<Spanned<RawLevel>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    name: Option<String>,
    host: Option<String>,
    port: Option<i64>,
    user: Option<String>,
    key: Option<String>,
    known_hosts: Option<String>,
    host_key_policy: Option<String>,
    host_key: Option<String>,
    via: Option<String>,
    workdir: Option<String>,
    connect_timeout: Option<u64>,
}

/// Read and validate `path`. Errors are one line: file, line, level, what to fix.
pub fn load(path: &Path) -> Result<Vec<InventoryLevel>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read inventory {}: {e}", path.display()))?;
    parse(&text, &path.display().to_string(), &home())
}

fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from)
}

/// `~/x` → `$HOME/x`; other paths as written.
fn expand(p: &str, home: &Path) -> PathBuf {
    match p.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None if p == "~" => home.to_path_buf(),
        None => PathBuf::from(p),
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parse and validate inventory `text` (named `file` in messages; `~` is `home`).
/// Errors are one printable line, whatever the file holds.
pub fn parse(text: &str, file: &str, home: &Path) -> Result<Vec<InventoryLevel>, String> {
    parse_lines(text, file, home).map_err(|e| one_line(&e))
}

/// `msg` with its control characters escaped: messages quote the file's own strings,
/// which may hold newlines or terminal escapes.
fn one_line(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    for c in msg.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn parse_lines(text: &str, file: &str, home: &Path) -> Result<Vec<InventoryLevel>, String> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| format!(" line {}", line_of(text, s.start)))
            .unwrap_or_default();
        // toml's syntax errors put what was expected on a line of its own.
        let what: Vec<&str> = e
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        format!("inventory {file}{at}: {}", what.join(": "))
    })?;
    if raw.level.is_empty() {
        return Err(format!(
            "inventory {file}: no [[level]] tables: list at least one level (see docs/inventory.md)"
        ));
    }
    let mut out: Vec<InventoryLevel> = vec![];
    for (i, spanned) in raw.level.iter().enumerate() {
        let line = line_of(text, spanned.span().start);
        let r = spanned.get_ref();
        let name = r.name.clone().unwrap_or_else(|| format!("L{}", i + 1));
        let err = |what: String| format!("inventory {file} line {line} (level {name}): {what}");
        let need = |v: &Option<String>, field: &str| {
            v.clone()
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| err(format!("missing field `{field}`")))
        };
        if out.iter().any(|l| l.target.name == name) {
            return Err(err("another level already has this name".into()));
        }
        let host = need(&r.host, "host")?;
        let user = need(&r.user, "user")?;
        let key = expand(&need(&r.key, "key")?, home);
        let port = match r.port {
            None => 22,
            Some(p) if (1..=65535).contains(&p) => p as u16,
            Some(p) => return Err(err(format!("port {p} is not between 1 and 65535"))),
        };
        let accept_new = match r.host_key_policy.as_deref() {
            None | Some("strict") => false,
            Some("accept-new") => true,
            Some(other) => {
                return Err(err(format!(
                    "host_key_policy \"{other}\" is not \"strict\" or \"accept-new\""
                )))
            }
        };
        let host_key = match &r.host_key {
            Some(_) if r.known_hosts.is_some() || r.host_key_policy.is_some() => {
                return Err(err(
                    "host_key pins the key; drop known_hosts and host_key_policy".into(),
                ))
            }
            Some(k) => {
                // Accept a whole public key line or just its base64 field.
                let blob = k.split_whitespace().find(|w| w.starts_with("AAAA"));
                let valid = blob
                    .and_then(known_hosts::base64_decode)
                    .is_some_and(|b| known_hosts::key_type(&b).is_some());
                match blob {
                    Some(b) if valid => HostKeyCheck::Pinned {
                        key_base64: b.to_string(),
                    },
                    _ => return Err(err("host_key is not an OpenSSH public key".into())),
                }
            }
            None => HostKeyCheck::KnownHosts {
                file: expand(
                    r.known_hosts.as_deref().unwrap_or("~/.ssh/known_hosts"),
                    home,
                ),
                accept_new,
            },
        };
        let via = match &r.via {
            None => None,
            Some(v) => match out.iter().position(|l| &l.target.name == v) {
                Some(idx) => Some(idx),
                None if raw.level[i + 1..]
                    .iter()
                    .any(|l| l.get_ref().name.as_ref() == Some(v)) =>
                {
                    return Err(err(format!(
                        "via = \"{v}\" names a later level: list {v} before {name}"
                    )))
                }
                None => return Err(err(format!("via = \"{v}\" names no earlier level"))),
            },
        };
        let workdir = r.workdir.clone().unwrap_or_else(|| "/tmp".into());
        if !workdir.starts_with('/') {
            return Err(err(format!(
                "workdir \"{workdir}\" is not an absolute path"
            )));
        }
        let connect_timeout = match r.connect_timeout {
            None => 20,
            Some(0) => return Err(err("connect_timeout must be at least 1 (seconds)".into())),
            Some(s) => s,
        };
        out.push(InventoryLevel {
            target: SshTarget {
                name,
                host,
                port,
                user,
                key,
                host_key,
            },
            via,
            workdir,
            connect_timeout: std::time::Duration::from_secs(connect_timeout),
        });
    }
    Ok(out)
}

/// The jump hosts of level `idx`, outermost first.
pub fn chain(levels: &[InventoryLevel], idx: usize) -> Vec<usize> {
    let mut out = vec![];
    let mut cur = levels[idx].via;
    while let Some(v) = cur {
        out.push(v);
        cur = levels[v].via;
    }
    out.reverse();
    out
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Vec<InventoryLevel>, String> {
        parse(text, "inv.toml", Path::new("/home/u"))
    }

    const GOOD: &str = r#"
[[level]]
name = "L1"
host = "192.0.2.10"
user = "root"
key = "~/.ssh/id_ed25519"
host_key_policy = "accept-new"

[[level]]
name = "L2"
host = "10.0.0.2"
port = 2202
via = "L1"
user = "root"
key = "/k"
known_hosts = "/kh"
workdir = "/scratch"

[[level]]
host = "10.0.0.3"
via = "L2"
user = "u"
key = "/k"
host_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJCyQuS3/4QccLBYL8lmedEUUue6epaSifjTaJyGaLqp c"
"#;

    #[test]
    fn reads_levels_with_defaults_and_chains() {
        let l = p(GOOD).unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!(l[0].target.port, 22);
        assert_eq!(l[0].target.key, Path::new("/home/u/.ssh/id_ed25519"));
        assert_eq!(
            l[0].target.host_key,
            HostKeyCheck::KnownHosts {
                file: "/home/u/.ssh/known_hosts".into(),
                accept_new: true
            }
        );
        assert_eq!(
            (l[0].workdir.as_str(), l[1].workdir.as_str()),
            ("/tmp", "/scratch")
        );
        assert_eq!((l[1].target.port, l[1].via), (2202, Some(0)));
        assert_eq!(l[2].target.name, "L3");
        assert!(matches!(l[2].target.host_key, HostKeyCheck::Pinned { .. }));
        assert_eq!(chain(&l, 2), [0, 1]);
        assert!(chain(&l, 0).is_empty());
    }

    #[test]
    fn refuses_bad_files_with_line_and_level() {
        let cases = [
            ("[[level]]\nname = \"A\"\nuser = \"r\"\nkey = \"/k\"\n", "line 1 (level A): missing field `host`"),
            ("[[level]]\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\nport = 70000\n", "line 1 (level L1): port 70000"),
            (
                "[[level]]\nname = \"A\"\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\nvia = \"B\"\n\n[[level]]\nname = \"B\"\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\n",
                "line 1 (level A): via = \"B\" names a later level",
            ),
            ("[[level]]\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\nvia = \"Z\"\n", "names no earlier level"),
            ("[[level]]\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\nhost_key_policy = \"yes\"\n", "is not \"strict\""),
            ("[[level]]\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\nprot = 22\n", "line 5: unknown field `prot`"),
            ("[[level]]\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\nworkdir = \"tmp\"\n", "not an absolute path"),
            ("# nothing\n", "no [[level]] tables"),
        ];
        for (text, want) in cases {
            let e = p(text).unwrap_err();
            assert!(e.contains(want), "{e:?} lacks {want:?}");
            assert!(!e.contains('\n'), "{e:?}");
        }
    }

    #[test]
    fn toml_syntax_errors_and_control_characters_stay_on_one_line() {
        // Found by the inventory_toml fuzz target: toml puts what it expected on a second
        // line (`invalid table header` / `expected ...`), and the file's own strings
        // were quoted with their newlines and control characters.
        let header = p("[[levee = \"B\"\n").unwrap_err();
        assert!(
            header.starts_with("inventory inv.toml line 1: invalid table header: expected"),
            "{header:?}"
        );
        let workdir = p(
            "[[level]]\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\nworkdir = \"t\\nmp\\u001b\"\n",
        )
        .unwrap_err();
        assert!(
            workdir.contains("workdir \"t\\nmp\\u{1b}\" is not an absolute path"),
            "{workdir:?}"
        );
        for e in [header, workdir] {
            assert!(!e.chars().any(char::is_control), "{e:?}");
        }
    }
}
