//! The agent protocol, version 2: JSON lines on the agent's stdout.
//!
//! ```text
//! {"type":"begin","protocol":2,"agent_version":"…","suite":"smoke","workloads":["cpu.int",…],"info":{…}}
//! {"type":"result","workload":"mem.stream","metric":"triad","unit":"GB/s","higher_is_better":true,"params":{…},"samples":[…]}
//! {"type":"not_applicable","workload":"exit.ipi","metric":"latency","unit":"ns","higher_is_better":false,"reason":"needs two online vCPUs; this level has 1"}
//! {"type":"error","workload":"disk.seq","message":"…"}
//! {"type":"end","elapsed_s":12.3}
//! ```
//!
//! A line that does not parse, or a stream without `end`, is an agent failure for that
//! level, reported with what was received; results already parsed are kept. A record
//! with an unknown `type` is skipped with a warning (newer agents may add types).
//! The controller passes the run's working-set sizes as `--sizes` (see [`crate::sizes`]).
//!
//! **Versions.** Version 2 adds `not_applicable`: a metric the level cannot measure
//! because it lacks what the metric needs (a second vCPU, a hypervisor that answers
//! hypercalls from user space), with the reason. It is an outcome of its own, neither a
//! result nor an error ([`NotApplicable`]); a stream that reports one metric both as a
//! result and as not applicable is a lying agent, and a not-applicable record without a
//! reason is refused. Version 1 (`begin`, `result`, `error`, `end`) is still read exactly
//! as before — in a version 1 stream a `not_applicable` line is an unknown type, skipped
//! with a warning — so an older agent's output stays usable. A version this build does
//! not know is refused: the controller deploys the agent it was built with.

use crate::{HostInfo, NotApplicable, WorkloadError, WorkloadResult};
use serde::{Deserialize, Serialize};

/// The protocol version this build's agent writes, and the newest its parser reads.
pub const PROTOCOL_VERSION: u32 = 2;

/// The oldest protocol version the parser still reads.
pub const OLDEST_PROTOCOL_VERSION: u32 = 1;

/// The byte an agent run with `--heartbeat-s N` writes on stderr every N seconds, so
/// that a controller can tell a slow level from one that stopped answering: a NUL,
/// which no message contains and which controllers drop from the stderr they report.
/// It is outside the protocol stream (stdout), whose lines stay as they were.
pub const HEARTBEAT: u8 = 0;

/// One line of the agent's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// First line: who is speaking and what will follow.
    Begin {
        /// Protocol version, [`PROTOCOL_VERSION`].
        protocol: u32,
        /// The agent's crate version.
        agent_version: String,
        /// Suite name.
        suite: String,
        /// Workload ids that will run, in order.
        workloads: Vec<String>,
        /// Facts about the level.
        info: HostInfo,
    },
    /// One metric of one workload.
    Result(WorkloadResult),
    /// One metric that does not apply at this level, with the reason (version 2).
    NotApplicable(NotApplicable),
    /// A workload that failed; the others still run.
    Error(WorkloadError),
    /// Last line: the suite finished.
    End {
        /// Wall time of the whole suite, seconds.
        elapsed_s: f64,
    },
}

impl Record {
    /// The record as one JSON line (no trailing newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("protocol records always serialize")
    }
}

/// What a (possibly broken) agent stream amounted to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamOutcome {
    /// The `begin` record's fields, when one arrived.
    pub begin: Option<Begin>,
    /// Results parsed, in order of arrival.
    pub results: Vec<WorkloadResult>,
    /// Metrics the agent reported as not applicable at this level, in order of arrival.
    pub not_applicable: Vec<NotApplicable>,
    /// Workload errors the agent reported.
    pub errors: Vec<WorkloadError>,
    /// `elapsed_s` of the `end` record, when one arrived.
    pub end_elapsed_s: Option<f64>,
    /// Records skipped with a warning (unknown `type`).
    pub warnings: Vec<String>,
    /// Why the stream counts as an agent failure, if it does.
    pub failure: Option<String>,
}

/// The fields of a `begin` record.
#[derive(Debug, Clone, PartialEq)]
pub struct Begin {
    /// Protocol version the agent speaks.
    pub protocol: u32,
    /// Agent version.
    pub agent_version: String,
    /// Suite name.
    pub suite: String,
    /// Workloads announced.
    pub workloads: Vec<String>,
    /// Facts about the level.
    pub info: HostInfo,
}

/// Incremental parser: feed lines as they arrive, then [`StreamParser::finish`].
#[derive(Debug, Default)]
pub struct StreamParser {
    out: StreamOutcome,
    lines: usize,
}

/// What one fed line turned out to be, for progress display.
#[derive(Debug, Clone, PartialEq)]
pub enum LineEvent {
    /// Blank line, ignored.
    Blank,
    /// The begin record.
    Begin,
    /// A result for this workload.
    Result(String),
    /// A metric of this workload that does not apply here.
    NotApplicable(String),
    /// An error for this workload.
    Error(String),
    /// The end record.
    End,
    /// An unknown record type, skipped.
    Skipped,
    /// The stream is broken (garbage, or data after `end`); later lines are ignored.
    Broken,
}

impl StreamParser {
    /// A parser with nothing received yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// What has been parsed so far.
    pub fn outcome(&self) -> &StreamOutcome {
        &self.out
    }

    /// Feed one line (without its newline).
    pub fn feed(&mut self, line: &str) -> LineEvent {
        if self.out.failure.is_some() {
            return LineEvent::Broken;
        }
        self.lines += 1;
        let line = line.trim();
        if line.is_empty() {
            return LineEvent::Blank;
        }
        if self.out.end_elapsed_s.is_some() {
            return self.fail(format!(
                "agent printed data after its end record: {}",
                clip(line)
            ));
        }
        let value: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                return self.fail(format!(
                    "agent printed a line that is not protocol JSON (line {}: {e}): {}",
                    self.lines,
                    clip(line)
                ))
            }
        };
        let ty = value
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or("")
            .to_string();
        if !self.knows(&ty) {
            self.out
                .warnings
                .push(format!("skipped agent record of unknown type {ty:?}"));
            return LineEvent::Skipped;
        }
        let record: Record = match serde_json::from_value(value) {
            Ok(r) => r,
            Err(e) => {
                return self.fail(format!(
                    "agent sent a malformed {ty} record (line {}: {e}): {}",
                    self.lines,
                    clip(line)
                ))
            }
        };
        if self.out.begin.is_none() && !matches!(record, Record::Begin { .. }) {
            return self.fail(format!(
                "agent stream did not start with a begin record: {}",
                clip(line)
            ));
        }
        match record {
            Record::Begin {
                protocol,
                agent_version,
                suite,
                workloads,
                info,
            } => {
                if self.out.begin.is_some() {
                    return self.fail("agent sent a second begin record".into());
                }
                if !(OLDEST_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&protocol) {
                    return self.fail(format!(
                        "agent speaks protocol {protocol}, this controller reads {OLDEST_PROTOCOL_VERSION} to {PROTOCOL_VERSION}: deploy the agent built with this nestbench"
                    ));
                }
                self.out.begin = Some(Begin {
                    protocol,
                    agent_version,
                    suite,
                    workloads,
                    info,
                });
                LineEvent::Begin
            }
            Record::Result(r) => {
                if r.samples.is_empty() || r.samples.iter().any(|s| !s.is_finite()) {
                    return self.fail(format!(
                        "agent sent result {} with no or non-finite samples",
                        r.id.key()
                    ));
                }
                if self.out.not_applicable.iter().any(|n| n.id.same(&r.id)) {
                    return self.fail(both(&r.id));
                }
                let w = r.id.workload.clone();
                self.out.results.push(r);
                LineEvent::Result(w)
            }
            Record::NotApplicable(n) => {
                if n.reason.trim().is_empty() {
                    return self.fail(format!(
                        "agent sent not_applicable {} without a reason",
                        n.id.key()
                    ));
                }
                if self.out.results.iter().any(|r| r.id.same(&n.id)) {
                    return self.fail(both(&n.id));
                }
                let w = n.id.workload.clone();
                self.out.not_applicable.push(n);
                LineEvent::NotApplicable(w)
            }
            Record::Error(e) => {
                let w = e.workload.clone();
                self.out.errors.push(e);
                LineEvent::Error(w)
            }
            Record::End { elapsed_s } => {
                self.out.end_elapsed_s = Some(elapsed_s);
                LineEvent::End
            }
        }
    }

    /// Whether `ty` is a record type of the stream's protocol: `not_applicable` exists
    /// from version 2 on (before `begin` it is parsed, and refused for coming first).
    fn knows(&self, ty: &str) -> bool {
        match ty {
            "begin" | "result" | "error" | "end" => true,
            "not_applicable" => self.out.begin.as_ref().is_none_or(|b| b.protocol >= 2),
            _ => false,
        }
    }

    fn fail(&mut self, why: String) -> LineEvent {
        self.out.failure = Some(one_line(&why));
        LineEvent::Broken
    }

    /// Close the stream: a stream without `end` is a failure.
    pub fn finish(mut self) -> StreamOutcome {
        if self.out.failure.is_none() && self.out.end_elapsed_s.is_none() {
            let got = if self.out.begin.is_none() {
                "nothing".to_string()
            } else {
                format!("{} results", self.out.results.len())
            };
            self.out.failure = Some(format!(
                "agent stream ended without an end record after {got}: the agent died or was cut off"
            ));
        }
        self.out
    }
}

/// Parse a whole captured stream.
pub fn parse_stream(text: &str) -> StreamOutcome {
    let mut p = StreamParser::new();
    for line in text.lines() {
        p.feed(line);
    }
    p.finish()
}

/// The failure of a metric reported both measured and not applicable.
fn both(id: &crate::MetricId) -> String {
    format!(
        "agent reported {} both as a result and as not applicable",
        id.key()
    )
}

/// `why` with its control characters escaped: a failure quotes what the agent printed
/// (a garbage line, a workload name), and it must stay one printable line in the
/// progress display, the log and run.json whatever bytes that was.
fn one_line(why: &str) -> String {
    let mut out = String::with_capacity(why.len());
    for c in why.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn clip(s: &str) -> String {
    const MAX: usize = 120;
    if s.len() <= MAX {
        s.to_string()
    } else {
        let mut end = MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    }
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
