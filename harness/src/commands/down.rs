//! `nestbench down RUN_DIR`: remove a stack that `run --keep` left up — kill L1's QEMU
//! (every deeper level dies with it) and remove the stack's directory (keys, scratch);
//! for a kept Hyper-V stack (`hyperv-stack.json`), remove its VMs deepest first and the
//! disks the run made (`backend::hyperv::stack::down`).

use crate::backend::qemu::state::{self, StackState};
use crate::exit::{CmdResult, Failure, Outcome};
use crate::progress::note;
use std::path::Path;
use std::time::Duration;

/// Entry point of `nestbench down`.
pub fn down(run_dir: &Path) -> CmdResult {
    if crate::backend::hyperv::stack::is_kept(run_dir) {
        crate::backend::hyperv::stack::down(run_dir, &mut |s| note(s))
            .map_err(|e| Failure::error(format!("{e:#}")))?;
        note(&format!("Hyper-V stack of {} removed", run_dir.display()));
        return Ok(Outcome::Ok);
    }
    let st = StackState::read(run_dir).map_err(|e| Failure::error(format!("{e:#}")))?;
    if state::is_qemu(st.pid) {
        crate::cleanup::terminate(st.pid, Duration::from_secs(5));
        note(&format!("stopped L1's QEMU (pid {})", st.pid));
    } else {
        note(&format!(
            "L1's QEMU (pid {}) is not running any more",
            st.pid
        ));
    }
    if st
        .dir
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("nestbench-stack-"))
    {
        let _ = std::fs::remove_dir_all(&st.dir);
    }
    std::fs::remove_file(run_dir.join(state::FILE))
        .map_err(|e| Failure::error(format!("cannot remove {}: {e}", state::FILE)))?;
    note(&format!("stack of {} removed", run_dir.display()));
    Ok(Outcome::Ok)
}
