//! How a level is run, in one type: [`Accel`] is what a level *was* run with (recorded
//! in run.json `env.accel`), [`AccelChoice`] is what the user *asked* for (`--accel`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// How a level is executed by its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Accel {
    /// The reference level itself: no hypervisor of nestbench's below it.
    Native,
    /// Hardware-assisted (KVM, or KVM on an emulated SVM/VMX CPU).
    Kvm,
    /// QEMU's binary translator.
    Tcg,
    /// A level nestbench did not start (inventory): its parent's hypervisor is not known.
    Unknown,
}

impl Accel {
    /// The lower-case word used in run.json, plans and charts.
    pub fn as_str(self) -> &'static str {
        match self {
            Accel::Native => "native",
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
            Accel::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Accel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `--accel` asks for the levels nestbench starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccelChoice {
    /// KVM where the parent shows svm/vmx and /dev/kvm works, else TCG.
    #[default]
    Auto,
    /// KVM at every level (a level that cannot host a KVM child stops the stack there).
    Kvm,
    /// TCG at every level.
    Tcg,
}

impl AccelChoice {
    /// The word used on the command line and in run.json.
    pub fn as_str(self) -> &'static str {
        match self {
            AccelChoice::Auto => "auto",
            AccelChoice::Kvm => "kvm",
            AccelChoice::Tcg => "tcg",
        }
    }
}

impl fmt::Display for AccelChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_words_are_the_display_words() {
        for a in [Accel::Native, Accel::Kvm, Accel::Tcg, Accel::Unknown] {
            assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
        }
        for a in [AccelChoice::Auto, AccelChoice::Kvm, AccelChoice::Tcg] {
            assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
        }
    }
}
