//! The run's working-set sizes: fixed once per run by the controller (from the
//! smallest level's memory and scratch disk) and passed to the agent, so every level
//! runs the same workload. On the agent's command line they travel as
//! `--sizes stream=64,latency=64,pagefault=64,disk=64` (MiB, any subset; what is not
//! given gets the suite's default, and every result's `params` records what was used).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Working-set sizes in MiB. `None` means "the suite's default".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sizes {
    /// Total bytes of the three STREAM arrays, in MiB.
    pub stream_mib: Option<u64>,
    /// Pointer-chasing buffer of mem.latency, in MiB.
    pub latency_mib: Option<u64>,
    /// Anonymous memory first-touched per mem.pagefault sample, in MiB.
    pub pagefault_mib: Option<u64>,
    /// File size of disk.seq / disk.rand, in MiB.
    pub disk_mib: Option<u64>,
}

/// A `--sizes` value that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad --sizes value {0:?}: expected key=MiB pairs such as stream=64,disk=32 with keys stream, latency, pagefault, disk")]
pub struct SizesParseError(pub String);

impl FromStr for Sizes {
    type Err = SizesParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = Sizes::default();
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| SizesParseError(s.to_string()))?;
            let mib: u64 = v
                .trim()
                .parse()
                .ok()
                .filter(|m| *m > 0)
                .ok_or_else(|| SizesParseError(s.to_string()))?;
            let slot = match k.trim() {
                "stream" => &mut out.stream_mib,
                "latency" => &mut out.latency_mib,
                "pagefault" => &mut out.pagefault_mib,
                "disk" => &mut out.disk_mib,
                _ => return Err(SizesParseError(s.to_string())),
            };
            *slot = Some(mib);
        }
        Ok(out)
    }
}

impl fmt::Display for Sizes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = [
            ("stream", self.stream_mib),
            ("latency", self.latency_mib),
            ("pagefault", self.pagefault_mib),
            ("disk", self.disk_mib),
        ]
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={v}")))
        .collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_text_form() {
        let s: Sizes = "stream=64,disk=32".parse().unwrap();
        assert_eq!(s.stream_mib, Some(64));
        assert_eq!(s.disk_mib, Some(32));
        assert_eq!(s.latency_mib, None);
        assert_eq!(s.to_string().parse::<Sizes>().unwrap(), s);
    }

    #[test]
    fn rejects_unknown_keys_and_zero() {
        assert!("cache=4".parse::<Sizes>().is_err());
        assert!("stream=0".parse::<Sizes>().is_err());
        assert!("stream".parse::<Sizes>().is_err());
    }
}
