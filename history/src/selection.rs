//! Which runs of the history a command means: the one selection syntax that every
//! command taking runs accepts after `history:`.
//!
//! ```text
//! history:KEY=VALUE,KEY=VALUE,…
//! ```
//!
//! | key | value | selects |
//! |---|---|---|
//! | `last=N` | N ≥ 1 | the N most recent of the runs the other keys select |
//! | `tag=K=V` | a `--tag K=V` of the run | runs with that tag (repeatable: all must match) |
//! | `host=FP` | hex, a fingerprint or a prefix | runs on that host (`model::fingerprint::host`) |
//! | `config=FP` | hex, a fingerprint or a prefix | runs of that configuration |
//! | `levels=N` | the run's `--levels` | runs that planned that depth |
//! | `suite=S` | smoke, quick, standard | runs of that suite |
//! | `backend=B` | host, qemu, inventory, … | runs of that backend |
//! | `tool=V` | a nestbench version | runs made by that version |
//! | `status=S` | complete, partial, failed, running | runs that ended so |
//! | `since=T` | RFC 3339 | runs started at T or later |
//! | `before=T` | RFC 3339 | runs started before T |
//!
//! Keys combine with AND; the order of keys does not matter; each key but `tag`
//! appears at most once; a value may not contain `,`. An empty selection
//! (`history:`) selects every run. Runs come oldest first. [`Selection`]'s `Display`
//! writes the canonical form, which parses back to the same selection.

use model::rundoc::RunStatus;
use model::Suite;
use std::fmt;
use std::str::FromStr;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// What a selection argument starts with.
pub const PREFIX: &str = "history:";

/// Every key, in canonical order (also the order of the error message's list).
pub const KEYS: [&str; 11] = [
    "last", "tag", "host", "config", "levels", "suite", "backend", "tool", "status", "since",
    "before",
];

/// A set of runs of the history, by their indexed fields; its text form (after
/// `history:`) is the one syntax in the [module documentation](self). `Default`
/// selects all runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only the N most recent (`last=N`).
    pub last: Option<usize>,
    /// Every one of these tags (`tag=K=V`, repeatable).
    pub tags: Vec<(String, String)>,
    /// Host fingerprint or a prefix of one, lower-case hex (`host=`).
    pub host: Option<String>,
    /// Configuration fingerprint or a prefix of one, lower-case hex (`config=`).
    pub config: Option<String>,
    /// Planned depth (`levels=`).
    pub levels: Option<u32>,
    /// Suite (`suite=`).
    pub suite: Option<Suite>,
    /// Backend name (`backend=`).
    pub backend: Option<String>,
    /// nestbench version (`tool=`).
    pub tool: Option<String>,
    /// Run status (`status=`).
    pub status: Option<RunStatus>,
    /// Started at or after (`since=`).
    pub since: Option<OffsetDateTime>,
    /// Started before (`before=`).
    pub before: Option<OffsetDateTime>,
}

/// A selection that does not parse; the message names the key and what it takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    /// A key this syntax does not have.
    #[error("unknown selection key `{key}`; the keys are {}", KEYS.join(", "))]
    UnknownKey {
        /// The key as written.
        key: String,
    },
    /// `key` without `=value`.
    #[error("selection key `{key}` needs a value: {key}={}", hint(key))]
    MissingValue {
        /// The key.
        key: String,
    },
    /// A value the key does not take.
    #[error("selection {key}={value}: {key} takes {}", hint(key))]
    BadValue {
        /// The key.
        key: String,
        /// The value as written.
        value: String,
    },
    /// A key other than `tag` given twice.
    #[error("selection key `{key}` is given twice; only tag= may repeat")]
    Repeated {
        /// The key.
        key: String,
    },
}

/// What a key takes, in words.
fn hint(key: &str) -> &'static str {
    match key {
        "last" => "a number of runs, at least 1",
        "tag" => "K=V, a tag given to `nestbench run --tag K=V`",
        "host" | "config" => "a fingerprint or a prefix of one (hex digits, up to 16)",
        "levels" => "a number of levels, as given to --levels",
        "suite" => "smoke, quick or standard",
        "backend" | "tool" => "a name without commas",
        "status" => "complete, partial, failed or running",
        "since" | "before" => "an RFC 3339 time, e.g. 2025-01-14T09:30:00Z",
        _ => "a value",
    }
}

impl Selection {
    /// The selection in `arg` when it starts with [`PREFIX`] (`None` for a run
    /// directory or a run.json path).
    pub fn from_arg(arg: &str) -> Option<Result<Selection, SelectionError>> {
        arg.strip_prefix(PREFIX).map(str::parse)
    }

    /// Whether a run with these fields is selected (everything but `last`, which
    /// depends on the other runs). The SQL query applies the same rules.
    pub fn admits(&self, run: &crate::RunSummary) -> bool {
        let prefix = |want: &Option<String>, have: &str| {
            want.as_ref().is_none_or(|w| have.starts_with(w.as_str()))
        };
        let eq = |want: &Option<String>, have: &str| want.as_ref().is_none_or(|w| w == have);
        self.tags
            .iter()
            .all(|(k, v)| run.tags.get(k).is_some_and(|x| x == v))
            && prefix(&self.host, &run.host_fp)
            && prefix(&self.config, &run.config_fp)
            && self.levels.is_none_or(|l| l == run.levels)
            && self.suite.is_none_or(|s| s.name() == run.suite)
            && eq(&self.backend, &run.backend)
            && eq(&self.tool, &run.tool_version)
            && self.status.is_none_or(|s| s == run.status)
            && self
                .since
                .is_none_or(|t| run.started_unix >= t.unix_timestamp())
            && self
                .before
                .is_none_or(|t| run.started_unix < t.unix_timestamp())
    }
}

/// A run status from its run.json word.
pub(crate) fn status_from_word(w: &str) -> Option<RunStatus> {
    [
        RunStatus::Running,
        RunStatus::Complete,
        RunStatus::Partial,
        RunStatus::Failed,
    ]
    .into_iter()
    .find(|s| s.word() == w)
}

fn fingerprint(v: &str) -> Option<String> {
    let ok = !v.is_empty() && v.len() <= 16 && v.chars().all(|c| c.is_ascii_hexdigit());
    ok.then(|| v.to_ascii_lowercase())
}

fn time_of(v: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(v, &Rfc3339).ok()
}

impl FromStr for Selection {
    type Err = SelectionError;

    /// Parse the text after `history:`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut sel = Selection::default();
        let mut seen: Vec<&str> = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (key, value) = match item.split_once('=') {
                Some((k, v)) => (k.trim(), v.trim()),
                None if KEYS.contains(&item) => {
                    return Err(SelectionError::MissingValue { key: item.into() })
                }
                None => return Err(SelectionError::UnknownKey { key: item.into() }),
            };
            let Some(&key) = KEYS.iter().find(|k| **k == key) else {
                return Err(SelectionError::UnknownKey { key: key.into() });
            };
            if value.is_empty() {
                return Err(SelectionError::MissingValue { key: key.into() });
            }
            if key != "tag" && seen.contains(&key) {
                return Err(SelectionError::Repeated { key: key.into() });
            }
            seen.push(key);
            let bad = || SelectionError::BadValue {
                key: key.into(),
                value: value.into(),
            };
            match key {
                "last" => sel.last = Some(value.parse().ok().filter(|n| *n > 0).ok_or_else(bad)?),
                "tag" => {
                    let (k, v) = value.split_once('=').ok_or_else(bad)?;
                    if k.is_empty() {
                        return Err(bad());
                    }
                    sel.tags.push((k.into(), v.into()));
                }
                "host" => sel.host = Some(fingerprint(value).ok_or_else(bad)?),
                "config" => sel.config = Some(fingerprint(value).ok_or_else(bad)?),
                "levels" => sel.levels = Some(value.parse().map_err(|_| bad())?),
                "suite" => sel.suite = Some(value.parse().map_err(|_| bad())?),
                "backend" => sel.backend = Some(value.into()),
                "tool" => sel.tool = Some(value.into()),
                "status" => sel.status = Some(status_from_word(value).ok_or_else(bad)?),
                "since" => sel.since = Some(time_of(value).ok_or_else(bad)?),
                "before" => sel.before = Some(time_of(value).ok_or_else(bad)?),
                _ => unreachable!("every key in KEYS is handled"),
            }
        }
        Ok(sel)
    }
}

impl fmt::Display for Selection {
    /// The canonical text after `history:` (keys in [`KEYS`] order).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items: Vec<String> = Vec::new();
        let time = |t: &OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
        if let Some(n) = self.last {
            items.push(format!("last={n}"));
        }
        items.extend(self.tags.iter().map(|(k, v)| format!("tag={k}={v}")));
        let mut push = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                items.push(format!("{k}={v}"));
            }
        };
        push("host", self.host.clone());
        push("config", self.config.clone());
        push("levels", self.levels.map(|l| l.to_string()));
        push("suite", self.suite.map(|s| s.name().to_string()));
        push("backend", self.backend.clone());
        push("tool", self.tool.clone());
        push("status", self.status.map(|s| s.word().to_string()));
        push("since", self.since.as_ref().map(time));
        push("before", self.before.as_ref().map(time));
        f.write_str(&items.join(","))
    }
}

#[cfg(test)]
#[path = "selection_tests.rs"]
mod tests;
