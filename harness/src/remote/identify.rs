//! Who answered: on first contact with a level the controller finds out whether it is
//! a POSIX machine or Windows, and which shell runs its commands, before sending
//! anything that only one of them understands.
//!
//! The probe is one command line that cmd.exe, PowerShell and a POSIX shell all
//! accept, each printing something different ([`PROBE`]):
//!
//! | shell | `echo nbprobe %OS% $env:OS; uname -sr` prints |
//! |---|---|
//! | sh | `nbprobe %OS% :OS`, then `uname -sr` (`Linux 6.1.0-18-amd64`) |
//! | cmd.exe | `nbprobe Windows_NT $env:OS; uname -sr` (`;` is no separator there) |
//! | PowerShell | `nbprobe`, `%OS%`, `Windows_NT` one per line, then `uname` fails on stderr |
//!
//! cmd.exe expands `%OS%`, PowerShell `$env:OS`, sh neither (`$env` is unset), so the
//! first line alone tells the three apart; a POSIX shell on Windows (Cygwin, MSYS)
//! shows in `uname`. [`parse_probe`] is a pure function of the captured output, tested
//! on what each shell prints. A Windows machine is then asked for its facts through
//! PowerShell ([`crate::powershell`]), which every Windows shell can start.

use super::{Remote, RemoteError};
use crate::powershell::{self, scripts};
use std::time::Duration;

/// The probe command line (see the module header).
pub const PROBE: &str = "echo nbprobe %OS% $env:OS; uname -sr";

/// The operating system family of a level: which agent it gets and which language it
/// is spoken to in (POSIX sh, or PowerShell). A POSIX machine that is not Linux is
/// `Linux` here too: the static agent is what it would be offered.
pub use model::catalog::Os;

/// The shell that runs a level's commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    /// A POSIX shell.
    Sh,
    /// cmd.exe (Windows OpenSSH's default).
    Cmd,
    /// Windows PowerShell or PowerShell 7 as the account's default shell.
    PowerShell,
}

impl Shell {
    /// `sh`, `cmd` or `powershell`, as run.json records it.
    pub fn as_str(self) -> &'static str {
        match self {
            Shell::Sh => "sh",
            Shell::Cmd => "cmd",
            Shell::PowerShell => "powershell",
        }
    }
}

/// What the probe showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probed {
    /// OS family.
    pub os: Os,
    /// The shell that answered.
    pub shell: Shell,
    /// `uname -sr` where a POSIX shell answered it.
    pub uname: Option<String>,
}

/// Tell the shell and OS from the probe's stdout; `Err` says what came back instead.
pub fn parse_probe(stdout: &str) -> Result<Probed, String> {
    let lines: Vec<&str> = stdout
        .lines()
        .map(|l| l.trim_end_matches('\r').trim())
        .filter(|l| !l.is_empty())
        .collect();
    let Some(at) = lines.iter().position(|l| l.starts_with("nbprobe")) else {
        let first = lines.first().copied().unwrap_or("nothing");
        return Err(format!(
            "the OS probe printed {:?} instead of its marker",
            first.chars().take(80).collect::<String>()
        ));
    };
    let words: Vec<&str> = lines[at].split_whitespace().collect();
    let rest = &lines[at + 1..];
    match words.as_slice() {
        ["nbprobe", "%OS%", ":OS", ..] => {
            let uname = rest.first().map(|s| s.to_string());
            let windows = uname.as_deref().is_some_and(|u| {
                let u = u.to_ascii_uppercase();
                ["CYGWIN", "MINGW", "MSYS"].iter().any(|w| u.starts_with(w))
            });
            Ok(Probed {
                os: if windows { Os::Windows } else { Os::Linux },
                shell: Shell::Sh,
                uname,
            })
        }
        ["nbprobe", os, ..] if os.eq_ignore_ascii_case("Windows_NT") => Ok(Probed {
            os: Os::Windows,
            shell: Shell::Cmd,
            uname: None,
        }),
        ["nbprobe"] if rest.len() >= 2 && rest[0] == "%OS%" => Ok(Probed {
            os: Os::Windows,
            shell: Shell::PowerShell,
            uname: None,
        }),
        _ => Err(format!(
            "the OS probe printed {:?}, which no known shell prints",
            lines[at].chars().take(80).collect::<String>()
        )),
    }
}

/// A Windows machine's facts (`ps/os_facts.ps1`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct WindowsFacts {
    /// `Microsoft Windows Server 2022 Datacenter`.
    #[serde(default)]
    pub caption: String,
    /// The OS build (20348).
    #[serde(default)]
    pub build: u32,
    /// The account's temporary directory, the default workdir.
    #[serde(default)]
    pub temp: String,
    /// Whether the Hyper-V role is installed (its management service exists): the OS
    /// then runs in the root partition.
    #[serde(default)]
    pub hyperv_host: bool,
}

/// Everything first contact found out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// What the probe showed.
    pub probed: Probed,
    /// A Windows machine's facts.
    pub windows: Option<WindowsFacts>,
}

impl Identity {
    /// The record run.json keeps (`env.platform`).
    pub fn platform(&self) -> model::rundoc::Platform {
        let (os, release, hyperv_root) = match (&self.windows, self.probed.os) {
            (Some(w), _) => (
                "windows",
                Some(format!("{}, build {}", w.caption, w.build)),
                w.hyperv_host,
            ),
            (None, Os::Windows) => ("windows", self.probed.uname.clone(), false),
            (None, Os::Linux) => {
                let linux = self
                    .probed
                    .uname
                    .as_deref()
                    .is_none_or(|u| u.starts_with("Linux"));
                (
                    if linux { "linux" } else { "posix" },
                    self.probed.uname.clone(),
                    false,
                )
            }
        };
        model::rundoc::Platform {
            os: os.into(),
            release,
            shell: Some(self.probed.shell.as_str().into()),
            hyperv_root,
        }
    }
}

/// Probe `remote` and, for Windows, ask PowerShell for its facts (two round trips on
/// Windows, one elsewhere). The facts script is short enough to always go inline.
pub fn identify(remote: &mut dyn Remote, timeout: Duration) -> Result<Identity, RemoteError> {
    let out = remote.exec(PROBE, timeout)?;
    let probed = parse_probe(&out.stdout).map_err(|reason| RemoteError::Io {
        endpoint: remote.endpoint(),
        reason,
    })?;
    let windows = match probed.os {
        Os::Linux => None,
        Os::Windows => {
            let mut stdout = String::new();
            let st = powershell::run(
                remote,
                &scripts::OS_FACTS,
                &serde_json::json!({}),
                ".",
                timeout,
                &mut |l| {
                    stdout.push_str(l);
                    stdout.push('\n');
                },
            )?;
            let facts = powershell::reply(&stdout)
                .and_then(|v| serde_json::from_value::<WindowsFacts>(v).ok())
                .filter(|_| st.code == Some(0));
            Some(facts.ok_or_else(|| RemoteError::Io {
                endpoint: remote.endpoint(),
                reason: format!(
                    "Windows answered, but PowerShell did not tell its facts (exit {:?}): {}",
                    st.code,
                    st.stderr.trim().lines().last().unwrap_or("no message")
                ),
            })?)
        }
    };
    Ok(Identity { probed, windows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shell_is_told_from_what_it_printed() {
        let sh = parse_probe("nbprobe %OS% :OS\nLinux 6.1.0-18-amd64\n").unwrap();
        assert_eq!((sh.os, sh.shell), (Os::Linux, Shell::Sh));
        assert_eq!(sh.uname.as_deref(), Some("Linux 6.1.0-18-amd64"));
        let cmd = parse_probe("nbprobe Windows_NT $env:OS; uname -sr\r\n").unwrap();
        assert_eq!((cmd.os, cmd.shell), (Os::Windows, Shell::Cmd));
        let ps = parse_probe("nbprobe\r\n%OS%\r\nWindows_NT\r\n").unwrap();
        assert_eq!((ps.os, ps.shell), (Os::Windows, Shell::PowerShell));
        // Git for Windows on PATH: PowerShell runs its uname too, still Windows.
        let ps_uname = parse_probe("nbprobe\n%OS%\nWindows_NT\nMINGW64_NT-10.0-20348 3.4.10\n");
        assert_eq!(ps_uname.unwrap().shell, Shell::PowerShell);
        let cygwin = parse_probe("nbprobe %OS% :OS\nCYGWIN_NT-10.0-20348 3.5.3\n").unwrap();
        assert_eq!((cygwin.os, cygwin.shell), (Os::Windows, Shell::Sh));
        // A login banner or motd before the marker is skipped.
        let motd = parse_probe("Welcome!\nnbprobe %OS% :OS\nLinux 5.10\n").unwrap();
        assert_eq!(motd.os, Os::Linux);
    }

    #[test]
    fn output_of_no_known_shell_is_refused_with_what_came() {
        for out in ["", "hello\n", "nbprobe something else\n", "nbprobe\n"] {
            let e = parse_probe(out).unwrap_err();
            assert!(e.starts_with("the OS probe printed"), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn run_json_records_what_was_found() {
        let win = Identity {
            probed: parse_probe("nbprobe Windows_NT $env:OS; uname -sr").unwrap(),
            windows: Some(WindowsFacts {
                caption: "Microsoft Windows Server 2022 Datacenter".into(),
                build: 20348,
                temp: "C:\\Users\\nb\\AppData\\Local\\Temp".into(),
                hyperv_host: true,
            }),
        };
        let p = win.platform();
        assert_eq!(
            (p.os.as_str(), p.shell.as_deref()),
            ("windows", Some("cmd"))
        );
        assert_eq!(
            p.release.as_deref(),
            Some("Microsoft Windows Server 2022 Datacenter, build 20348")
        );
        assert!(p.hyperv_root);
        let linux = Identity {
            probed: parse_probe("nbprobe %OS% :OS\nLinux 6.1.0\n").unwrap(),
            windows: None,
        };
        let p = linux.platform();
        assert_eq!((p.os.as_str(), p.hyperv_root), ("linux", false));
    }
}
