//! What `run --dry-run --backend hyperv` prints: nothing is contacted, so it lists the
//! operations each level goes through, in order, from the same step list a run uses.

use super::ops;
use crate::config::HypervOptions;

/// What `run --dry-run --backend hyperv` prints: the operations in the order a run
/// makes them, without contacting the host (the plan needs its free memory, so it is
/// made when the run starts).
pub fn dry_run_lines(levels: u32, h: &HypervOptions) -> Vec<String> {
    let mut out = vec![format!(
        "\nbackend hyperv ({}:{}), {levels} levels; the memory plan is made from the host's free memory when the run starts",
        h.host, h.port
    )];
    for n in 1..=levels {
        let on = if n == 1 {
            "the host".to_string()
        } else {
            format!("L{}", n - 1)
        };
        let (image, user) = match (&h.leaf_vhdx, n == levels) {
            (Some(leaf), true) => (leaf, &h.leaf_user),
            _ => (&h.base_vhdx, &h.guest_user),
        };
        out.push(format!("\nL{n} (on {on}):"));
        if n > 1 {
            out.push(format!(
                "  hyperv_copy_file: {image} copied hop by hop into L{}",
                n - 1
            ));
        }
        out.push(format!("  hyperv_create_vm: a differencing disk on {image}, Generation 2, switch {}, the config disk", h.switch.of(n)));
        let steps: Vec<&str> = ops::nesting_steps(2, 2048).iter().map(|s| s.op()).collect();
        out.push(format!("  hyperv_apply: {}", steps.join(", ")));
        out.push("  hyperv_start_vm".into());
        out.push(format!(
            "  hyperv_vm_address: polled for {} s",
            h.boot_timeout.as_secs()
        ));
        out.push(format!(
            "  connect: {user}@ADDRESS with the stack's key, host key pinned"
        ));
    }
    out.push("\nteardown, deepest first: hyperv_remove_vm (Stop-VM -TurnOff -Force, Remove-VM), remove_files (the disks the run made)".into());
    out
}
