//! Whether a level is still there, and what it left behind. Every level runs inside
//! its parent, so one QEMU exiting takes all the levels above it along, and the SSH
//! session that breaks is rarely the lost level's own. While a level boots its parent
//! is asked whether the level's QEMU still runs; after a failure each parent is asked
//! about its child, shallowest first, which names the level really lost with the last
//! words of its QEMU (`-D` log) and its console. Consoles and QEMU logs are copied
//! from the parents into `logs/`.

use super::{guest_qemu_log, ready, QemuBackend, GUEST_RUN};
use crate::backend::{BackendError, BackendErrorKind, ConsoleTail};
use crate::remote::{Remote, RemoteError};
use std::time::Duration;

/// How long a parent gets to say whether its booting child's QEMU still runs.
const ASK_ALIVE: Duration = Duration::from_secs(60);

/// Unanswered [`ASK_ALIVE`] questions in a row after which a parent counts as wedged.
const SILENT_LIMIT: u32 = 3;

/// How long a parent gets to answer the post-mortem question: a level that takes
/// longer is reported as not answering.
const ASK_LIMIT: Duration = Duration::from_secs(30);

/// Separates the console from the QEMU log in a parent's answer.
pub const MARK: &str = "--- nestbench: qemu log";

/// What a parent said about its child's QEMU.
#[derive(Debug, PartialEq, Eq)]
pub enum ChildState {
    /// Its QEMU runs.
    Alive,
    /// Its QEMU is gone; the last console lines and the last lines of QEMU's log.
    Gone {
        /// Tail of the child's console.
        console: String,
        /// Tail of the child's QEMU log (`-D`, the launch's redirect).
        qemu: String,
    },
}

/// The shell command that asks a parent about level `n`'s QEMU.
pub fn ask_command(n: u32) -> String {
    format!(
        "if kill -0 $(cat {GUEST_RUN}/L{n}.pid 2>/dev/null) 2>/dev/null; then echo alive; \
         else echo gone; tail -n 40 {GUEST_RUN}/L{n}.console.log 2>/dev/null; echo; \
         echo '{MARK}'; tail -n 10 {} 2>/dev/null; fi",
        guest_qemu_log(n)
    )
}

/// Parse the parent's answer to [`ask_command`].
pub fn parse_answer(out: &str) -> ChildState {
    let mut lines = out.splitn(2, '\n');
    if lines.next().map(str::trim) == Some("alive") {
        return ChildState::Alive;
    }
    let rest = lines.next().unwrap_or_default();
    let (console, qemu) = rest.split_once(MARK).unwrap_or((rest, ""));
    ChildState::Gone {
        console: ready::tail(console, 10),
        qemu: ready::tail(qemu, 5),
    }
}

/// A level found gone by [`QemuBackend::first_gone`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loss {
    /// The shallowest level that is gone (or whose parent stopped answering).
    pub level: u32,
    /// What happened, with the last lines of its QEMU log.
    pub what: String,
    /// The last lines of its console, when its parent could still read them.
    pub console: String,
}

impl Loss {
    /// Level `n`'s QEMU is gone: `console` and `qemu` are the tails it left.
    pub fn exited(n: u32, console: &str, qemu: &str) -> Loss {
        let mut what = format!("L{n}'s QEMU exited inside L{}", n - 1);
        what.push_str(&if qemu.trim().is_empty() {
            " without a word in its QEMU log (a guest reset or panic under -no-reboot ends QEMU silently)".to_string()
        } else {
            format!("; its QEMU log (logs/L{n}.qemu.log) ends:\n{qemu}")
        });
        Loss {
            level: n,
            what,
            console: console.to_string(),
        }
    }

    /// The whole story: what happened and the console's last lines.
    pub fn full(&self) -> String {
        if self.console.trim().is_empty() {
            return self.what.clone();
        }
        format!(
            "{}\nits console (logs/L{}.console.log) ends:\n{}",
            self.what, self.level, self.console
        )
    }
}

impl QemuBackend {
    /// Copy level `n`'s console and QEMU log from its parent into logs/ (L1 writes
    /// there directly), in one round trip, and return the console.
    pub(super) fn console(&mut self, n: u32) -> String {
        let log = self.run_dir.join(format!("logs/L{n}.console.log"));
        if n > 1 {
            if let Some(parent) = self
                .stack
                .as_mut()
                .and_then(|s| s.ctl.get_mut(n as usize - 2))
            {
                let cmd = format!(
                    "cat {GUEST_RUN}/L{n}.console.log; echo; echo '{MARK}'; cat {}",
                    guest_qemu_log(n)
                );
                // Interrupted: the user is waiting for the teardown, and a wedged
                // parent would hold it for the whole limit per level.
                let limit = if crate::cleanup::interrupted() { 5 } else { 30 };
                if let Ok(out) = parent.exec(&cmd, Duration::from_secs(limit)) {
                    let (console, qemu) = out
                        .stdout
                        .rsplit_once(&format!("\n{MARK}\n"))
                        .unwrap_or((out.stdout.as_str(), ""));
                    let _ = std::fs::write(&log, console);
                    let qlog = self.run_dir.join(format!("logs/L{n}.qemu.log"));
                    let _ = std::fs::write(qlog, qemu);
                }
            }
        }
        String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_default()).into_owned()
    }

    /// Level `n` failed for `kind`: the error, with its console's last lines.
    pub(super) fn fail(&mut self, n: u32, kind: impl Into<BackendErrorKind>) -> BackendError {
        let lines = ready::tail(&self.console(n), 10);
        BackendError::new(n, kind).with_console(ConsoleTail {
            log: format!("logs/L{n}.console.log"),
            lines,
        })
    }

    /// Why level `n`'s QEMU is gone, or None while it runs. `silent` counts the
    /// parent's unanswered questions in a row: a slow answer is not a dead level, but
    /// [`SILENT_LIMIT`] of them mean the parent (or a level below it) is wedged, and
    /// waiting out the boot timeout helps no one.
    pub(super) fn level_died(&mut self, n: u32, silent: &mut u32) -> Option<String> {
        let stack = self.stack.as_mut()?;
        if n == 1 {
            let (child, _) = stack.l1.as_mut()?;
            return match child.try_wait() {
                Ok(Some(st)) => Some(format!("L1's QEMU exited ({st}); see logs/L1.qemu.log")),
                _ => None,
            };
        }
        let parent = stack.ctl.get_mut(n as usize - 2)?;
        let cmd = format!("kill -0 $(cat {GUEST_RUN}/L{n}.pid) 2>/dev/null && echo alive");
        let fallback = match parent.exec(&cmd, ASK_ALIVE) {
            Ok(o) if o.stdout.contains("alive") => {
                *silent = 0;
                return None;
            }
            Err(RemoteError::Timeout { .. }) => {
                *silent += 1;
                if *silent < SILENT_LIMIT {
                    return None;
                }
                format!(
                    "L{} stopped answering while L{n} booted ({SILENT_LIMIT} commands there in a row took over {} s each)",
                    n - 1,
                    ASK_ALIVE.as_secs()
                )
            }
            Ok(_) => format!("L{n}'s QEMU exited inside L{}", n - 1),
            Err(e) => format!(
                "the SSH session to L{} broke while L{n} booted ({e}); see the consoles in logs/",
                n - 1
            ),
        };
        // Gone, wedged, or the session to the parent broke: the parent or a level
        // below it may have gone away (seen here: L2's QEMU exiting inside L1 while
        // L4 ran). Name the level that was really lost.
        Some(match self.first_gone(n) {
            Some(loss) if loss.level == n => loss.what,
            Some(loss) => format!("L{n} was lost with L{}: {}", loss.level, loss.full()),
            None => fallback,
        })
    }

    /// The last lines of L1's console, which QEMU writes on the host.
    fn l1_console(&self) -> String {
        let log = self.run_dir.join("logs/L1.console.log");
        ready::tail(&std::fs::read_to_string(log).unwrap_or_default(), 10)
    }

    /// Which of levels 1..=`through` went away first, with what it left behind; None
    /// while all of them run. Every level's QEMU is asked about through its parent's
    /// control session, shallowest first; a parent that does not answer is named, and
    /// so is `through` itself when it has a control session and does not answer it.
    pub(super) fn first_gone(&mut self, through: u32) -> Option<Loss> {
        let stack = self.stack.as_mut()?;
        if let Some((child, _)) = stack.l1.as_mut() {
            if let Ok(Some(st)) = child.try_wait() {
                let log = self.run_dir.join("logs/L1.qemu.log");
                let qemu = ready::tail(&std::fs::read_to_string(log).unwrap_or_default(), 5);
                let what = format!("L1's QEMU exited ({st}); logs/L1.qemu.log ends:\n{qemu}");
                return Some(Loss {
                    level: 1,
                    what,
                    console: self.l1_console(),
                });
            }
        }
        for n in 2..=through {
            let parent = stack.ctl.get_mut(n as usize - 2)?;
            match parent.exec(&ask_command(n), ASK_LIMIT) {
                Ok(o) => match parse_answer(&o.stdout) {
                    ChildState::Alive => continue,
                    ChildState::Gone { console, qemu } => {
                        // Keep what the parent still has; teardown copies it again.
                        let logs = self.run_dir.join("logs");
                        let _ = std::fs::write(logs.join(format!("L{n}.qemu.log")), &qemu);
                        return Some(Loss::exited(n, &console, &qemu));
                    }
                },
                Err(e) => {
                    let what = match e {
                        RemoteError::Timeout { .. } => format!(
                            "L{} does not answer (a command there took over {} s) though its QEMU runs",
                            n - 1,
                            ASK_LIMIT.as_secs()
                        ),
                        e => format!("the SSH session to L{} broke ({e}) though its QEMU runs", n - 1),
                    };
                    // L1's console is on the host: it says whether L1's kernel died
                    // (seen here: a stack overflow in L2's QEMU, then a panic).
                    let console = if n == 2 {
                        self.l1_console()
                    } else {
                        String::new()
                    };
                    return Some(Loss {
                        level: n - 1,
                        what,
                        console,
                    });
                }
            }
        }
        // Every QEMU runs: does `through` itself still answer? (Its control session
        // exists once it is up and unless it is the deepest level.) A level whose
        // kernel hangs sends nothing, and its agent's session only went silent.
        let own = stack.ctl.get_mut(through as usize - 1)?;
        match own.exec("true", ASK_LIMIT) {
            Ok(_) => None,
            Err(e) => Some(Loss {
                level: through,
                what: match e {
                    RemoteError::Timeout { .. } => format!(
                        "L{through} does not answer (a command there took over {} s) though its QEMU runs",
                        ASK_LIMIT.as_secs()
                    ),
                    e => format!("the SSH session to L{through} broke ({e}) though its QEMU runs"),
                },
                console: String::new(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_child_is_alive() {
        assert_eq!(parse_answer("alive\n"), ChildState::Alive);
    }

    #[test]
    fn a_gone_child_brings_its_last_words() {
        let out = format!(
            "gone\nboot line\nKernel panic - not syncing: Fatal exception\n\n{MARK}\n\
             qemu-system-x86_64: terminating on signal 15 from pid 7\n"
        );
        let ChildState::Gone { console, qemu } = parse_answer(&out) else {
            panic!("gone expected")
        };
        assert!(console.ends_with("Kernel panic - not syncing: Fatal exception"));
        assert_eq!(
            qemu,
            "qemu-system-x86_64: terminating on signal 15 from pid 7"
        );
        let m = Loss::exited(2, &console, &qemu).full();
        assert!(
            m.starts_with("L2's QEMU exited inside L1; its QEMU log"),
            "{m}"
        );
        assert!(m.contains("Kernel panic"), "{m}");
    }

    #[test]
    fn a_silent_exit_says_what_that_usually_means() {
        let m = Loss::exited(3, "", "").full();
        assert!(
            m.contains("L3's QEMU exited inside L2 without a word"),
            "{m}"
        );
        assert!(!m.contains("console"), "{m}");
    }

    #[test]
    fn the_question_runs_under_sh() {
        let dir = tempfile::tempdir().unwrap();
        let cmd = ask_command(2).replace(GUEST_RUN, &dir.path().display().to_string());
        let run = |cmd: &str| {
            let o = std::process::Command::new("sh")
                .arg("-c")
                .arg(cmd)
                .output()
                .unwrap();
            String::from_utf8(o.stdout).unwrap()
        };
        // No pid file: gone, with the console's and the log's last lines.
        std::fs::write(dir.path().join("L2.console.log"), "a\nb\n").unwrap();
        std::fs::write(dir.path().join("L2.qemu.log"), "qemu: bye\n").unwrap();
        assert_eq!(
            parse_answer(&run(&cmd)),
            ChildState::Gone {
                console: "a\nb".into(),
                qemu: "qemu: bye".into()
            }
        );
        // A pid that runs: alive.
        let pid = std::process::id().to_string();
        std::fs::write(dir.path().join("L2.pid"), pid).unwrap();
        assert_eq!(parse_answer(&run(&cmd)), ChildState::Alive);
    }
}
