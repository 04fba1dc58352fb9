//! Bringing a lost part of the stack back up (`--relaunch`, the run loop's rule 8,
//! docs/qemu.md "Reliability"). What the lost levels left is kept first: every
//! console and QEMU log still readable is copied into `logs/` and renamed
//! `Ln.console.lostK.log` / `Ln.qemu.lostK.log` (K: the how-manieth relaunch), since
//! the new QEMUs write the same files again. Then what is left of the lost level
//! goes: for L1 the whole stack (its QEMU, directory, keys; the new stack gets fresh
//! keys), for a deeper level its QEMU inside its parent, killed (a wedged one does not
//! exit by itself; SIGKILL also ends a stopped one) together with the net.tcp peer
//! its launch started there, and every session to it or inside it. The levels from
//! the lost one up to the level to be measured again are then launched as before —
//! same ports, keys and scratch file systems (the journal of a lost level's ext4 is
//! replayed when it mounts again), but without a net.tcp peer in their parents — and
//! are not measured again.

use super::error::QemuError;
use super::{QemuBackend, GUEST_RUN};
use crate::backend::BackendError;
use crate::remote::Remote;
use std::time::Duration;

/// How long the parent may take to see the lost level's QEMU gone.
const KILL_LIMIT: Duration = Duration::from_secs(60);

/// The shell command that ends level `n`'s QEMU and its net.tcp peer in its parent
/// and waits until the QEMU is gone (a zombie counts as gone): prints `gone`, or
/// exits 1 after 10 s.
pub fn kill_command(n: u32) -> String {
    format!(
        "p=$(cat {GUEST_RUN}/L{n}.pid 2>/dev/null); q=$(cat {GUEST_RUN}/L{n}.peer.pid 2>/dev/null); \
         [ -n \"$q\" ] && kill -9 $q 2>/dev/null; [ -n \"$p\" ] && kill -9 $p 2>/dev/null; i=0; \
         while [ -n \"$p\" ] && s=$(sed 's/^.*) //;s/ .*//' /proc/$p/stat 2>/dev/null) && [ \"$s\" != Z ]; do \
         i=$((i+1)); [ $i -gt 100 ] && {{ echo \"L{n}'s QEMU ($p) is still there\"; exit 1; }}; sleep 0.1; done; \
         rm -f {GUEST_RUN}/L{n}.pid {GUEST_RUN}/L{n}.peer.pid; echo gone"
    )
}

impl QemuBackend {
    /// [`crate::backend::Backend::relaunch`] for the QEMU stack.
    pub(super) fn relaunch_levels(
        &mut self,
        from: u32,
        to: u32,
        say: &mut dyn FnMut(&str),
    ) -> Result<(), BackendError> {
        self.relaunches += 1;
        say("keep the lost levels' logs");
        self.keep_lost_logs(from, to);
        say(&format!("remove what is left of L{from}"));
        if from == 1 {
            if let Some(mut stack) = self.stack.take() {
                stack.ctl.clear();
                stack.l1.take();
            }
        } else {
            self.kill_in_parent(from)?;
        }
        self.relaunching = true;
        let mut up = Ok(());
        for n in from..to {
            say(&format!("L{n}: bring up"));
            let mut tagged = |s: &str| say(&format!("L{n}: {s}"));
            // Its figures stand; only its sessions are needed (the backend keeps the
            // control one for starting its child).
            if let Err(e) = self.bring_up(n, &mut tagged) {
                up = Err(e);
                break;
            }
        }
        self.relaunching = false;
        up
    }

    /// Copy the lost level's console and QEMU log into logs/ from its parent, which
    /// answers (the levels inside it had theirs copied when they failed, if their
    /// parent still answered then: asking a wedged one would take its limit each),
    /// and rename those of levels `from`..=`to` out of the way of the new levels'.
    fn keep_lost_logs(&mut self, from: u32, to: u32) {
        self.console(from);
        let logs = self.run_dir.join("logs");
        for n in from..=to {
            for kind in ["console", "qemu"] {
                let now = logs.join(format!("L{n}.{kind}.log"));
                let kept = logs.join(format!("L{n}.{kind}.lost{}.log", self.relaunches));
                let _ = std::fs::rename(now, kept);
            }
        }
    }

    /// End level `n`'s QEMU inside its parent and forget every session at or inside
    /// it.
    fn kill_in_parent(&mut self, n: u32) -> Result<(), BackendError> {
        let stack = self.stack_mut(n)?;
        // ctl[i] is level i+1's: keep those of the levels below n.
        stack.ctl.truncate(n as usize - 1);
        stack.up = stack.up.min(n - 1);
        let parent = stack
            .ctl
            .get_mut(n as usize - 2)
            .ok_or_else(|| BackendError::new(n, QemuError::ParentNotUp { parent: n - 1 }))?;
        let out = parent
            .exec(&kill_command(n), KILL_LIMIT)
            .map_err(|e| BackendError::new(n, e))?;
        if out.stdout.trim_end().ends_with("gone") {
            Ok(())
        } else {
            let output = out.stdout.trim().to_string();
            Err(BackendError::new(
                n,
                QemuError::NotRemoved { level: n, output },
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kill command under sh, with a real process standing in for the QEMU.
    #[test]
    fn the_kill_command_ends_the_process_and_removes_its_pid_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let mut child = std::process::Command::new("sleep")
            .arg("300")
            .spawn()
            .unwrap();
        let mut peer = std::process::Command::new("sleep")
            .arg("300")
            .spawn()
            .unwrap();
        std::fs::write(dir.path().join("L3.pid"), child.id().to_string()).unwrap();
        std::fs::write(dir.path().join("L3.peer.pid"), peer.id().to_string()).unwrap();
        let cmd = kill_command(3).replace(GUEST_RUN, &d);
        // The waiting loop sees the zombie (this test is its parent) as gone.
        let o = std::process::Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "gone", "{o:?}");
        assert!(child.wait().unwrap().code().is_none(), "killed by a signal");
        assert!(peer.wait().unwrap().code().is_none(), "the peer too");
        assert!(!dir.path().join("L3.pid").exists());
        assert!(!dir.path().join("L3.peer.pid").exists());
        // Nothing left to kill: still gone, no error.
        let o = std::process::Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "gone");
    }
}
