//! A nesting level: 0 is the host (or, for a remote L0, the machine measured as the
//! reference), 1 runs inside it, and so on. In run.json it is a plain number; in text
//! it is always written `L{n}`, by this type's `Display` and nowhere else.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Nesting depth of a level, 0 for the reference level (the host).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Level(pub u32);

impl Level {
    /// The reference level every fraction is taken against.
    pub const HOST: Level = Level(0);

    /// The depth as a number.
    pub fn depth(self) -> u32 {
        self.0
    }

    /// The level this one runs inside (None for L0).
    pub fn parent(self) -> Option<Level> {
        self.0.checked_sub(1).map(Level)
    }

    /// The level started inside this one.
    pub fn child(self) -> Level {
        Level(self.0 + 1)
    }

    /// Whether this is the reference level L0.
    pub fn is_host(self) -> bool {
        self.0 == 0
    }

    /// L0, L1, …, L`depth`.
    pub fn up_to(depth: u32) -> impl Iterator<Item = Level> {
        (0..=depth).map(Level)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "L{}", self.0)
    }
}

impl PartialEq<u32> for Level {
    fn eq(&self, other: &u32) -> bool {
        self.0 == *other
    }
}

impl PartialOrd<u32> for Level {
    fn partial_cmp(&self, other: &u32) -> Option<std::cmp::Ordering> {
        self.0.partial_cmp(other)
    }
}

impl From<u32> for Level {
    fn from(n: u32) -> Self {
        Level(n)
    }
}

/// Text that is neither `L{n}` nor `{n}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a level: write L0, L1, … or 0, 1, …")]
pub struct BadLevel(pub String);

impl FromStr for Level {
    type Err = BadLevel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let digits = t.strip_prefix(['L', 'l']).unwrap_or(t);
        digits
            .parse()
            .map(Level)
            .map_err(|_| BadLevel(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips_and_json_is_a_number() {
        assert_eq!(Level(3).to_string(), "L3");
        assert_eq!("L3".parse::<Level>().unwrap(), Level(3));
        assert_eq!("2".parse::<Level>().unwrap(), Level(2));
        assert!("Lx".parse::<Level>().is_err());
        assert_eq!(serde_json::to_string(&Level(4)).unwrap(), "4");
        assert_eq!(Level(0).parent(), None);
        assert_eq!(Level(2).parent(), Some(Level(1)));
    }
}
