//! The inventory file (docs/inventory.md): existing machines, one `[[level]]` table
//! each, numbered from 1 in file order. Parsed and validated once, before anything
//! connects, so a typo fails in a second with the line that has it rather than after
//! L1's suite has run.

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

/// Why an inventory file was refused: one line with the file, the line and level
/// where there is one, and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The file cannot be read.
    #[error("cannot read inventory {}: {error}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// It is not TOML of the expected shape.
    #[error("inventory {file}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Syntax {
        /// The file, as named.
        file: String,
        /// Where, when the parser knows.
        line: Option<usize>,
        /// The parser's words.
        message: String,
    },
    /// It lists no level.
    #[error(
        "inventory {file}: no [[level]] tables: list at least one level (see docs/inventory.md)"
    )]
    Empty {
        /// The file, as named.
        file: String,
    },
    /// One level's table is wrong.
    #[error("inventory {file} line {line} (level {level}): {problem}")]
    Level {
        /// The file, as named.
        file: String,
        /// The line of its `[[level]]`.
        line: usize,
        /// Its name (given, or `Ln`).
        level: String,
        /// What is wrong.
        problem: LevelProblem,
    },
}

/// What is wrong with one `[[level]]` table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LevelProblem {
    /// A required field is missing or empty.
    #[error("missing field `{0}`")]
    Missing(&'static str),
    /// Two levels share a name.
    #[error("another level already has this name")]
    DuplicateName,
    /// The port is out of range.
    #[error("port {0} is not between 1 and 65535")]
    Port(i64),
    /// Unknown `host_key_policy`.
    #[error("host_key_policy \"{0}\" is not \"strict\" or \"accept-new\"")]
    Policy(String),
    /// `host_key` given with `known_hosts` or `host_key_policy`.
    #[error("host_key pins the key; drop known_hosts and host_key_policy")]
    PinnedAndKnownHosts,
    /// `host_key` is not a public key.
    #[error("host_key is not an OpenSSH public key")]
    HostKey,
    /// `via` names a level listed after this one.
    #[error("via = \"{via}\" names a later level: list {via} before {level}")]
    ViaLater {
        /// The `via` value.
        via: String,
        /// This level's name.
        level: String,
    },
    /// `via` names no level.
    #[error("via = \"{0}\" names no earlier level")]
    ViaUnknown(String),
    /// `workdir` is relative.
    #[error("workdir \"{0}\" is not an absolute path")]
    Workdir(String),
    /// `connect_timeout = 0`.
    #[error("connect_timeout must be at least 1 (seconds)")]
    ZeroTimeout,
}

/// Read and validate `path`.
pub fn load(path: &Path) -> Result<Vec<InventoryLevel>, InventoryError> {
    let text = std::fs::read_to_string(path).map_err(|error| InventoryError::Unreadable {
        path: path.to_path_buf(),
        error,
    })?;
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
pub fn parse(text: &str, file: &str, home: &Path) -> Result<Vec<InventoryLevel>, InventoryError> {
    parse_lines(text, file, home).map_err(InventoryError::printable)
}

/// `s` with its control characters escaped: messages quote the file's own strings,
/// which may hold newlines or terminal escapes.
fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

impl InventoryError {
    /// The same error with every string from the file made printable.
    fn printable(self) -> InventoryError {
        match self {
            InventoryError::Syntax {
                file,
                line,
                message,
            } => InventoryError::Syntax {
                file: printable(&file),
                line,
                message: printable(&message),
            },
            InventoryError::Empty { file } => InventoryError::Empty {
                file: printable(&file),
            },
            InventoryError::Level {
                file,
                line,
                level,
                problem,
            } => InventoryError::Level {
                file: printable(&file),
                line,
                level: printable(&level),
                problem: match problem {
                    LevelProblem::Policy(v) => LevelProblem::Policy(printable(&v)),
                    LevelProblem::ViaLater { via, level } => LevelProblem::ViaLater {
                        via: printable(&via),
                        level: printable(&level),
                    },
                    LevelProblem::ViaUnknown(v) => LevelProblem::ViaUnknown(printable(&v)),
                    LevelProblem::Workdir(v) => LevelProblem::Workdir(printable(&v)),
                    other => other,
                },
            },
            other => other,
        }
    }
}

fn parse_lines(text: &str, file: &str, home: &Path) -> Result<Vec<InventoryLevel>, InventoryError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| InventoryError::Syntax {
        file: file.to_string(),
        line: e.span().map(|s| line_of(text, s.start)),
        // toml's syntax errors put what was expected on a line of its own.
        message: e
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(": "),
    })?;
    if raw.level.is_empty() {
        return Err(InventoryError::Empty {
            file: file.to_string(),
        });
    }
    let mut out: Vec<InventoryLevel> = vec![];
    for (i, spanned) in raw.level.iter().enumerate() {
        let line = line_of(text, spanned.span().start);
        let r = spanned.get_ref();
        let name = r.name.clone().unwrap_or_else(|| format!("L{}", i + 1));
        let err = |problem: LevelProblem| InventoryError::Level {
            file: file.to_string(),
            line,
            level: name.clone(),
            problem,
        };
        let need = |v: &Option<String>, field: &'static str| {
            v.clone()
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| err(LevelProblem::Missing(field)))
        };
        if out.iter().any(|l| l.target.name == name) {
            return Err(err(LevelProblem::DuplicateName));
        }
        let host = need(&r.host, "host")?;
        let user = need(&r.user, "user")?;
        let key = expand(&need(&r.key, "key")?, home);
        let port = match r.port {
            None => 22,
            Some(p) if (1..=65535).contains(&p) => p as u16,
            Some(p) => return Err(err(LevelProblem::Port(p))),
        };
        let accept_new = match r.host_key_policy.as_deref() {
            None | Some("strict") => false,
            Some("accept-new") => true,
            Some(other) => return Err(err(LevelProblem::Policy(other.to_string()))),
        };
        let host_key = match &r.host_key {
            Some(_) if r.known_hosts.is_some() || r.host_key_policy.is_some() => {
                return Err(err(LevelProblem::PinnedAndKnownHosts))
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
                    _ => return Err(err(LevelProblem::HostKey)),
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
                    return Err(err(LevelProblem::ViaLater {
                        via: v.clone(),
                        level: name.clone(),
                    }))
                }
                None => return Err(err(LevelProblem::ViaUnknown(v.clone()))),
            },
        };
        let workdir = r.workdir.clone().unwrap_or_else(|| "/tmp".into());
        if !workdir.starts_with('/') {
            return Err(err(LevelProblem::Workdir(workdir)));
        }
        let connect_timeout = match r.connect_timeout {
            None => 20,
            Some(0) => return Err(err(LevelProblem::ZeroTimeout)),
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

    fn p(text: &str) -> Result<Vec<InventoryLevel>, InventoryError> {
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
            let e = p(text).unwrap_err().to_string();
            assert!(e.contains(want), "{e:?} lacks {want:?}");
            assert!(!e.contains('\n'), "{e:?}");
        }
    }

    #[test]
    fn toml_syntax_errors_and_control_characters_stay_on_one_line() {
        // Found by the inventory_toml fuzz target: toml puts what it expected on a second
        // line (`invalid table header` / `expected ...`), and the file's own strings
        // were quoted with their newlines and control characters.
        let header = p("[[levee = \"B\"\n").unwrap_err().to_string();
        assert!(
            header.starts_with("inventory inv.toml line 1: invalid table header: expected"),
            "{header:?}"
        );
        let workdir = p(
            "[[level]]\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\nworkdir = \"t\\nmp\\u001b\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            workdir.contains("workdir \"t\\nmp\\u{1b}\" is not an absolute path"),
            "{workdir:?}"
        );
        for e in [header, workdir] {
            assert!(!e.chars().any(char::is_control), "{e:?}");
        }
    }
}
