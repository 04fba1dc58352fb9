//! `--switch` of `run --backend hyperv`: one virtual switch for every level
//! (`--switch NAME`, default `Default Switch`), and a level's own where one is given
//! (`--switch L2=NAME`, repeatable) — inside a Windows level the switch for the level
//! below is that level's own, and need not be named as the host's.

use crate::exit::Failure;
use std::collections::BTreeMap;

/// The switch every level's adapter is connected to when `--switch` names none.
pub const DEFAULT_SWITCH: &str = "Default Switch";

/// The virtual switch of each level's adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switches {
    /// The switch of every level without its own (`--switch NAME`).
    pub all: String,
    /// The levels given their own (`--switch Ln=NAME`), by level number.
    pub levels: BTreeMap<u32, String>,
}

impl Switches {
    /// One switch for every level.
    pub fn every_level(name: &str) -> Switches {
        Switches {
            all: name.into(),
            levels: BTreeMap::new(),
        }
    }

    /// The switch of level `n`'s adapter.
    pub fn of(&self, n: u32) -> &str {
        self.levels.get(&n).unwrap_or(&self.all)
    }

    /// In words: `External`, or `External (L2: Internal)` with a level's own.
    pub fn describe(&self) -> String {
        if self.levels.is_empty() {
            return self.all.clone();
        }
        let own: Vec<String> = self
            .levels
            .iter()
            .map(|(n, s)| format!("L{n}: {s}"))
            .collect();
        format!("{} ({})", self.all, own.join(", "))
    }

    /// The `--switch` values given for a stack of `depth` levels: at most one plain
    /// NAME, and `Ln=NAME` once per level, for L1 to L`depth`.
    pub fn parse(raw: &[String], depth: u32) -> Result<Switches, Failure> {
        let mut all: Option<&str> = None;
        let mut levels = BTreeMap::new();
        for v in raw {
            match level_of(v) {
                Some((n, name)) => {
                    if n == 0 || n > depth {
                        return Err(Failure::usage(format!(
                            "--switch {v}: the stack's levels with a switch are L1 to L{depth}"
                        )));
                    }
                    if name.trim().is_empty() {
                        return Err(Failure::usage(format!(
                            "--switch {v}: give L{n}=NAME, a virtual switch's name"
                        )));
                    }
                    if levels.insert(n, name.to_string()).is_some() {
                        return Err(Failure::usage(format!(
                            "--switch L{n}=… given twice: give each level's switch once"
                        )));
                    }
                }
                None if v.trim().is_empty() => {
                    return Err(Failure::usage("--switch needs a virtual switch's name"))
                }
                None => {
                    if let Some(first) = all.replace(v) {
                        return Err(Failure::usage(format!(
                            "--switch {first} and --switch {v}: give one switch for every level, and Ln=NAME for a level's own"
                        )));
                    }
                }
            }
        }
        Ok(Switches {
            all: all.unwrap_or(DEFAULT_SWITCH).to_string(),
            levels,
        })
    }
}

/// `Ln=NAME` as (n, NAME); `None` for a plain name.
fn level_of(v: &str) -> Option<(u32, &str)> {
    let (level, name) = v.strip_prefix('L')?.split_once('=')?;
    let digits = !level.is_empty() && level.bytes().all(|b| b.is_ascii_digit());
    Some((level.parse().ok().filter(|_| digits)?, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[&str], depth: u32) -> Result<Switches, String> {
        let raw: Vec<String> = raw.iter().map(|s| s.to_string()).collect();
        Switches::parse(&raw, depth).map_err(|e| e.message)
    }

    #[test]
    fn one_switch_for_all_and_a_level_s_own_override_it() {
        let s = parse(&[], 3).unwrap();
        assert_eq!((s.of(1), s.of(3)), (DEFAULT_SWITCH, DEFAULT_SWITCH));
        let s = parse(&["L2=Internal", "External", "L3=NAT"], 3).unwrap();
        assert_eq!((s.of(1), s.of(2), s.of(3)), ("External", "Internal", "NAT"));
        assert_eq!(s.describe(), "External (L2: Internal, L3: NAT)");
        // A level's own alone: the others keep the default.
        let s = parse(&["L1=External"], 2).unwrap();
        assert_eq!((s.of(1), s.of(2)), ("External", DEFAULT_SWITCH));
        // Not a level: a plain name (switch names may hold '=').
        let s = parse(&["Lab=1"], 2).unwrap();
        assert_eq!(s.of(2), "Lab=1");
    }

    #[test]
    fn levels_outside_the_stack_repeats_and_empty_names_are_refused() {
        for (raw, says) in [
            (&["L0=X"][..], "L1 to L2"),
            (&["L3=X"][..], "L1 to L2"),
            (&["L2="][..], "L2=NAME"),
            (&["L2=A", "L2=B"][..], "given twice"),
            (&["A", "B"][..], "give one switch for every level"),
            (&[" "][..], "needs a virtual switch's name"),
        ] {
            let e = parse(raw, 2).expect_err(&format!("{raw:?} accepted"));
            assert!(e.contains(says), "{raw:?}: {e}");
        }
    }
}
