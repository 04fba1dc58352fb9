//! run.json, schema_version 2: the source of truth of a run directory.
//!
//! The controller rewrites it after every change of state so a later failure loses
//! nothing; `reports` reads it and derives every summary (medians, intervals,
//! relative-to-L0), which are never stored here.
//!
//! **Compatibility rules.** Readers ignore fields they do not know, and every field
//! added after version 2 is optional (`#[serde(default)]`, omitted when empty), so a
//! later feature — history tags, a new metric's parameters, a remote or Windows L0,
//! Hyper-V settings — adds fields without a version 3. Enumerations that may grow
//! (backend kinds, level outcomes) are read leniently: an unknown value is kept as
//! text or dropped, never an error. The version is bumped only when an existing field
//! changes meaning. Version 1 files (untyped `config`/`provenance` maps) are upgraded
//! on reading ([`v1`]), so `report` and `compare` keep working on old runs.

mod config;
mod level;
mod provenance;
pub mod v1;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

pub use config::{BackendKind, HypervConfig, InventoryConfig, QemuConfig, RunConfigRecord};
pub use level::{
    Hosting, HypervLevel, LevelEnv, LevelOutcome, LevelRecord, LevelStatus, Platform, Retry,
    SkipReason, Timings,
};
pub use provenance::{
    HostFacts, HostLoad, ImageRecord, InventoryLevelRecord, InventoryRecord, LoadAvg, Provenance,
    QemuRecord,
};

use crate::Level;
use serde::{Deserialize, Serialize};

/// The schema version this build writes and the newest it can read.
pub const SCHEMA_VERSION: u32 = 2;

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDoc {
    /// [`SCHEMA_VERSION`] at the time of writing.
    pub schema_version: u32,
    /// Unique id, also the default run directory name.
    pub run_id: String,
    /// nestbench version that made the run.
    pub tool_version: String,
    /// RFC 3339 start time.
    pub started_at: String,
    /// RFC 3339 finish time, `None` while running.
    pub finished_at: Option<String>,
    /// Overall status.
    pub status: RunStatus,
    /// The validated configuration the run used.
    pub config: RunConfigRecord,
    /// L0 first, then L1, L2, …
    pub levels: Vec<LevelRecord>,
    /// Where the numbers came from: tool commit, agent digest, host, image, …
    #[serde(default)]
    pub provenance: Provenance,
}

/// Status of the run as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Still going (or the controller was killed hard).
    Running,
    /// Every level ok.
    Complete,
    /// Some levels failed or were skipped.
    Partial,
    /// L0 could not be measured.
    Failed,
}

impl RunStatus {
    /// The word used in run.json and messages.
    pub fn word(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Complete => "complete",
            RunStatus::Partial => "partial",
            RunStatus::Failed => "failed",
        }
    }
}

/// Why a run.json could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RunDocError {
    /// Not JSON, or not a run.json.
    #[error("{path} is not a valid nestbench run.json ({}); point at a run directory or its run.json", one_line(.source))]
    Corrupt {
        /// The file.
        path: String,
        /// Parser error.
        source: serde_json::Error,
    },
    /// A version 1 file that lacks what version 2 needs.
    #[error("{path} is a version 1 run.json that cannot be upgraded: {why}; regenerate it with this nestbench")]
    BadV1 {
        /// The file.
        path: String,
        /// What is missing or wrong.
        why: v1::UpgradeError,
    },
    /// Written by a newer nestbench.
    #[error("{path} has schema_version {found}, newer than this nestbench understands ({SCHEMA_VERSION}); upgrade nestbench")]
    TooNew {
        /// The file.
        path: String,
        /// Version found.
        found: u64,
    },
}

impl RunDoc {
    /// Parse run.json text of any readable version; `path` is only used in messages.
    pub fn from_json(text: &str, path: &str) -> Result<RunDoc, RunDocError> {
        let corrupt = |source| RunDocError::Corrupt {
            path: path.into(),
            source,
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(corrupt)?;
        match value.get("schema_version").and_then(|v| v.as_u64()) {
            Some(v) if v > SCHEMA_VERSION as u64 => Err(RunDocError::TooNew {
                path: path.into(),
                found: v,
            }),
            Some(1) => {
                v1::upgrade(serde_json::from_value(value).map_err(corrupt)?).map_err(|why| {
                    RunDocError::BadV1 {
                        path: path.into(),
                        why,
                    }
                })
            }
            _ => serde_json::from_value(value).map_err(corrupt),
        }
    }

    /// Pretty JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("run documents always serialize")
    }

    /// The record of `level`, if the run has one.
    pub fn level(&self, level: Level) -> Option<&LevelRecord> {
        self.levels.iter().find(|l| l.level == level)
    }

    /// The deepest level the run has a record of.
    pub fn deepest(&self) -> Level {
        self.levels
            .iter()
            .map(|l| l.level)
            .max()
            .unwrap_or_default()
    }
}

/// A parser error as one printable line: serde quotes an unknown enum value as it was
/// written (`unknown variant `…``), and a file's string may hold any control character.
fn one_line(e: &serde_json::Error) -> String {
    let mut out = String::new();
    for c in e.to_string().chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Deserialize an optional value leniently: anything that does not parse as `T` (a
/// value written by a newer nestbench) reads as `None` instead of failing the document.
pub(crate) fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.and_then(|v| serde_json::from_value(v).ok()))
}
