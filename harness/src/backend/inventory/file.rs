//! The inventory file (docs/inventory.md): existing machines, one `[[level]]` table
//! each, numbered from 1 in file order, and optionally an `[l0]` table: a remote
//! machine measured as L0 instead of the one running nestbench (for Hyper-V, the
//! host's root partition). Parsed and validated once, before anything connects, so a
//! typo fails in a second with the line that has it rather than after L1's suite has
//! run.

use crate::remote::known_hosts;
use crate::remote::ssh::{HostKeyCheck, SshTarget};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A validated inventory: the remote L0, if any, and the levels below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// The `[l0]` table; `None`: L0 is the machine running nestbench.
    pub l0: Option<InventoryLevel>,
    /// The `[[level]]` tables, L1 first.
    pub levels: Vec<InventoryLevel>,
}

/// A machine a level is reached through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The remote L0 of `[l0]`.
    L0,
    /// A level, by its index (0-based) in [`Inventory::levels`].
    Level(usize),
}

/// One validated level of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryLevel {
    /// Where and how to log in.
    pub target: SshTarget,
    /// The machine it is reached through.
    pub via: Option<Via>,
    /// Where the agent and its files go; `None`: `/tmp`, or the account's temporary
    /// directory on Windows (known once the level answers).
    pub workdir: Option<String>,
    /// Bound on connecting to this level's own SSH server (each hop of a chain has
    /// its own, and they add up).
    pub connect_timeout: std::time::Duration,
}

impl Inventory {
    /// The machine `via` names.
    pub fn machine(&self, via: Via) -> &InventoryLevel {
        match via {
            Via::L0 => self.l0.as_ref().expect("validated: via L0 only with [l0]"),
            Via::Level(i) => &self.levels[i],
        }
    }

    /// The jump hosts of level `idx`, outermost first.
    pub fn chain(&self, idx: usize) -> Vec<Via> {
        let mut out = vec![];
        let mut cur = self.levels[idx].via;
        while let Some(v) = cur {
            out.push(v);
            cur = match v {
                Via::L0 => None,
                Via::Level(i) => self.levels[i].via,
            };
        }
        out.reverse();
        out
    }
}

/// Whether `dir` is absolute on a POSIX machine (`/scratch`) or on Windows
/// (`C:\nestbench`, `D:/x`).
pub fn is_absolute(dir: &str) -> bool {
    let b = dir.as_bytes();
    dir.starts_with('/')
        || (b.len() >= 3
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && matches!(b[2], b'\\' | b'/'))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    l0: Option<Spanned<RawLevel>>,
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
        "inventory {file}: no [[level]] tables and no [l0]: list at least one machine (see docs/inventory.md)"
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
    /// `via` in `[l0]`.
    #[error("[l0] is reached directly from the machine running nestbench: drop via")]
    ViaInL0,
    /// `connect_timeout = 0`.
    #[error("connect_timeout must be at least 1 (seconds)")]
    ZeroTimeout,
}

/// Read and validate `path`.
pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
    let text = std::fs::read_to_string(path).map_err(|error| InventoryError::Unreadable {
        path: path.to_path_buf(),
        error,
    })?;
    parse(&text, &path.display().to_string(), &home())
}

/// `$HOME` (`/root` when unset).
pub(crate) fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from)
}

/// `~/x` → `$HOME/x`; other paths as written.
pub(crate) fn expand(p: &str, home: &Path) -> PathBuf {
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
pub fn parse(text: &str, file: &str, home: &Path) -> Result<Inventory, InventoryError> {
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

fn parse_lines(text: &str, file: &str, home: &Path) -> Result<Inventory, InventoryError> {
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
    if raw.level.is_empty() && raw.l0.is_none() {
        return Err(InventoryError::Empty {
            file: file.to_string(),
        });
    }
    let at = |spanned: &Spanned<RawLevel>, name: &str| {
        let line = line_of(text, spanned.span().start);
        let name = name.to_string();
        move |problem: LevelProblem| InventoryError::Level {
            file: file.to_string(),
            line,
            level: name.clone(),
            problem,
        }
    };
    let l0 = match &raw.l0 {
        None => None,
        Some(spanned) => {
            let r = spanned.get_ref();
            let name = r.name.clone().unwrap_or_else(|| "L0".into());
            let err = at(spanned, &name);
            if r.via.is_some() {
                return Err(err(LevelProblem::ViaInL0));
            }
            Some(level_of(r, name, None, home, &err)?)
        }
    };
    let mut out: Vec<InventoryLevel> = vec![];
    for (i, spanned) in raw.level.iter().enumerate() {
        let r = spanned.get_ref();
        let name = r.name.clone().unwrap_or_else(|| format!("L{}", i + 1));
        let err = at(spanned, &name);
        let l0_name = l0.as_ref().map(|l| l.target.name.as_str());
        if out.iter().any(|l| l.target.name == name) || l0_name == Some(name.as_str()) {
            return Err(err(LevelProblem::DuplicateName));
        }
        let via = match &r.via {
            None => None,
            Some(v) if l0_name == Some(v.as_str()) => Some(Via::L0),
            Some(v) => match out.iter().position(|l| &l.target.name == v) {
                Some(idx) => Some(Via::Level(idx)),
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
        out.push(level_of(r, name, via, home, &err)?);
    }
    Ok(Inventory { l0, levels: out })
}

/// One table's fields, checked (`via` already resolved).
fn level_of(
    r: &RawLevel,
    name: String,
    via: Option<Via>,
    home: &Path,
    err: &dyn Fn(LevelProblem) -> InventoryError,
) -> Result<InventoryLevel, InventoryError> {
    let need = |v: &Option<String>, field: &'static str| {
        v.clone()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| err(LevelProblem::Missing(field)))
    };
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
    if let Some(w) = r.workdir.as_ref().filter(|w| !is_absolute(w)) {
        return Err(err(LevelProblem::Workdir(w.clone())));
    }
    let connect_timeout = match r.connect_timeout {
        None => 20,
        Some(0) => return Err(err(LevelProblem::ZeroTimeout)),
        Some(s) => s,
    };
    Ok(InventoryLevel {
        target: SshTarget {
            name,
            host,
            port,
            user,
            key,
            host_key,
        },
        via,
        workdir: r.workdir.clone(),
        connect_timeout: std::time::Duration::from_secs(connect_timeout),
    })
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests;
