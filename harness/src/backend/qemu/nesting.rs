//! How deep KVM can go on emulated SVM/VMX, and which level gets which deep-level
//! tuning (docs/qemu.md, "L4 boot tuning"): a KVM level three KVM levels above a TCG
//! level livelocks on its own timer unless it runs a slow periodic tick, on a CPU that
//! its parents keep quiet for it (the CPU column). These are decisions, made from the
//! accelerations of the levels below and the depth still to come; [`super::argv`]
//! turns them into command lines and [`super::launch`] into the shell run in a parent.

use super::argv::Accel;

/// How many KVM levels stacked on a TCG level (emulated SVM/VMX) it takes before a
/// guest needs a periodic tick ([`super::argv::PERIODIC_TICK`]). Measured here
/// (docs/qemu.md, "Measured facts"): the third KVM level above TCG (L4 with L1 = TCG) pays ~8–12 ms per
/// exit, more than the 4 ms tick, and with the one-shot timer livelocks re-arming it;
/// L3 boots fine without.
pub const TICK_DEPTH_OVER_TCG: usize = 3;

/// Whether a level accelerated by `this`, above levels accelerated by `below` (L1
/// first), needs a periodic tick: only KVM that is [`TICK_DEPTH_OVER_TCG`] or more
/// levels deep above a TCG level. With hardware nesting (no TCG level) never.
pub fn needs_periodic_tick(below: &[Accel], this: Accel) -> bool {
    kvm_too_deep(below, this)
}

/// Whether `this` = KVM would be [`TICK_DEPTH_OVER_TCG`] or more KVM levels above a
/// TCG level (`below`: the levels under it, L1 first).
pub fn kvm_too_deep(below: &[Accel], this: Accel) -> bool {
    if this != Accel::Kvm {
        return false;
    }
    let kvm_run = 1 + below.iter().rev().take_while(|a| **a == Accel::Kvm).count();
    kvm_run < below.len() + 1 && kvm_run >= TICK_DEPTH_OVER_TCG
}

/// Whether a level accelerated by `this` above `below` (L1 first), with
/// `levels_above` levels still to start above it, belongs to the stack's CPU column:
/// true when the deepest level, if every level above this one ran KVM, would need a
/// periodic tick, and this level runs KVM on top of another KVM level. Measured
/// here (docs/qemu.md, "L4 boot tuning"): such a deep level boots only when
/// nothing else interrupts it, so each column level keeps its CPU 1 for its child's
/// last vCPU (`nohz_full=1`, the child's vCPU thread pinned there). The first KVM
/// level above TCG is left out: a second vCPU there cost the whole stack. With
/// hardware nesting (no TCG level) never.
pub fn in_column(below: &[Accel], this: Accel, levels_above: u32) -> bool {
    // A TCG level's vCPUs are threads of its parent's QEMU, scheduled by the parent
    // (L1's by the host): the column starts above the first KVM level.
    if levels_above == 0 || this != Accel::Kvm {
        return false;
    }
    // The first KVM level above TCG (L2 here) runs on emulated SVM, and with a second
    // vCPU there 5 of 8 four-level runs lost the stack: 3 times its QEMU exited (a
    // silent guest reset), once L1's kernel overflowed its stack in that QEMU's vCPU
    // thread (recursive page faults on its per-CPU area), once L1 stopped answering.
    // With one vCPU, 15 of 15 completed (docs/qemu.md, "Reliability").
    if below.last() == Some(&Accel::Tcg) {
        return false;
    }
    let mut stack = below.to_vec();
    stack.push(this);
    stack.extend(std::iter::repeat_n(Accel::Kvm, levels_above as usize - 1));
    kvm_too_deep(&stack, Accel::Kvm)
}

/// Which of `depth` levels (L1 first) are expected in the CPU column before anything
/// runs, given L1's acceleration `l1` and whether TCG is forced everywhere: a guess
/// that deeper levels run KVM (each parent decides at launch). For the plan lines and
/// the doctor; the launch itself uses [`in_column`] on what each level really got.
pub fn expected_column(l1: Accel, tcg_forced: bool, depth: u32) -> Vec<bool> {
    if tcg_forced {
        return vec![false; depth as usize];
    }
    let accels: Vec<Accel> = (1..=depth)
        .map(|n| if n == 1 { l1 } else { Accel::Kvm })
        .collect();
    (1..=depth)
        .map(|n| {
            let i = n as usize - 1;
            in_column(&accels[..i], accels[i], depth - n)
        })
        .collect()
}

/// The CPU a column level keeps for its child.
pub const CHILD_CPU: u32 = 1;

/// The deep-level tuning decided for one level; all false with hardware nesting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeepTuning {
    /// Run the guest kernel on a periodic tick ([`needs_periodic_tick`]), its LAPIC
    /// timer limited by its parent to [`MIN_TICK_PERIOD_US`].
    pub periodic_tick: bool,
    /// This level is part of the CPU column ([`in_column`]): its [`CHILD_CPU`] runs
    /// only its child's last vCPU, free of this kernel's own tick (`nohz_full`).
    pub child_cpu: bool,
    /// Boot with one CPU online (a nested column level: [`CHILD_CPU`] comes online
    /// only when the child starts, [`ONLINE_CHILD_CPU`]), so the level is measured on
    /// one CPU like every other nested level.
    pub boot_one_cpu: bool,
    /// Its parent is a column level: pin this level's vCPU threads there (the last
    /// one to the parent's [`CHILD_CPU`], the others to CPU 0).
    pub pinned: bool,
}

/// What the nesting policy gives one level: its vCPUs and its deep-level tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelNesting {
    /// vCPUs to start it with (the plan's, or one more for a column level's child).
    pub vcpus: u32,
    /// The deep-level tuning.
    pub tuning: DeepTuning,
}

/// The nesting policy for a level accelerated by `this` above `below` (L1 first, the
/// accelerations the levels really got), with `levels_above` levels still to start
/// above it, planned with `planned_vcpus`.
pub fn for_level(
    below: &[Accel],
    this: Accel,
    levels_above: u32,
    planned_vcpus: u32,
) -> LevelNesting {
    let child_cpu = in_column(below, this, levels_above);
    // It runs on its parent's CPU column when the parent is a column level.
    let pinned = below
        .split_last()
        .is_some_and(|(parent, grand)| in_column(grand, *parent, levels_above + 1));
    LevelNesting {
        vcpus: if child_cpu {
            planned_vcpus.max(CHILD_CPU + 1)
        } else {
            planned_vcpus
        },
        tuning: DeepTuning {
            periodic_tick: needs_periodic_tick(below, this),
            child_cpu,
            // A nested level planned with one vCPU keeps the second offline until its
            // child starts; L1 is measured with the CPUs it was planned with.
            boot_one_cpu: child_cpu && planned_vcpus == 1,
            pinned,
        },
    }
}

/// The shortest period (µs) a periodic-tick guest's LAPIC timer gets from its
/// parent's KVM (`kvm.min_timer_period_us`, set in the parent before the child
/// starts; KVM's default is 200). 20 ms = 50 Hz instead of 250 Hz: at L4 here every
/// tick is an exit of ~10 ms, so the tick alone would take the whole CPU. The guest's
/// jiffies then advance slower than its clock (timekeeping follows kvm-clock), which
/// stretches jiffy-based timeouts; recorded in `env.tuning`.
pub const MIN_TICK_PERIOD_US: u32 = 20_000;

/// Shell, run in the parent before it starts a periodic-tick child.
pub fn limit_child_tick() -> String {
    format!(
        "echo {MIN_TICK_PERIOD_US} > /sys/module/kvm/parameters/min_timer_period_us 2>/dev/null; "
    )
}

/// Shell, run in a column level before it starts its child: bring [`CHILD_CPU`]
/// online (a nested column level boots with `maxcpus=1`) and keep timers where they
/// are armed (with `nohz_full`, hrtimers armed on CPU 1 — the child's emulated LAPIC
/// timer among them — would fire on CPU 0 and reach the child as an IPI).
pub const ONLINE_CHILD_CPU: &str = "f=/sys/devices/system/cpu/cpu1/online; \
     [ ! -e $f ] || [ \"$(cat $f)\" = 1 ] || echo 1 > $f; \
     echo 0 > /proc/sys/kernel/timer_migration 2>/dev/null; ";

#[cfg(test)]
mod tests {
    use super::*;
    use Accel::{Kvm, Tcg};

    #[test]
    fn periodic_tick_only_deep_above_tcg() {
        // This machine: L1 tcg, L2.. kvm: only L4 and deeper.
        assert!(!needs_periodic_tick(&[Tcg], Kvm));
        assert!(!needs_periodic_tick(&[Tcg, Kvm], Kvm));
        assert!(needs_periodic_tick(&[Tcg, Kvm, Kvm], Kvm));
        assert!(needs_periodic_tick(&[Tcg, Kvm, Kvm, Kvm], Kvm));
        assert!(!needs_periodic_tick(&[Tcg, Kvm, Kvm], Tcg));
        // Hardware nesting: KVM everywhere, never.
        assert!(!needs_periodic_tick(&[Kvm, Kvm, Kvm], Kvm));
        assert!(!needs_periodic_tick(&[Kvm, Kvm, Kvm, Kvm, Kvm], Kvm));
    }

    #[test]
    fn the_column_runs_from_l1_to_the_parent_of_a_too_deep_kvm_level() {
        // This machine, 4 levels: L3 keeps CPU 1 for its child; L1 (tcg) does not, nor
        // L2 (KVM on emulated SVM: a second vCPU there lost the stack).
        assert!(!in_column(&[], Tcg, 3));
        assert!(!in_column(&[Tcg], Kvm, 2));
        assert!(in_column(&[Tcg, Kvm], Kvm, 1));
        assert!(
            !in_column(&[Tcg, Kvm, Kvm], Kvm, 0),
            "the leaf keeps nothing"
        );
        // 3 levels: L3 boots without the periodic tick, no column.
        assert!(!in_column(&[], Tcg, 2));
        assert!(!in_column(&[Tcg], Kvm, 1));
        // A TCG level above L1 restarts the count.
        assert!(!in_column(&[Tcg, Kvm], Tcg, 1));
        // Hardware nesting: never.
        assert!(!in_column(&[], Kvm, 4));
        assert!(!in_column(&[Kvm, Kvm], Kvm, 2));
    }

    #[test]
    fn the_expected_column_of_four_levels_over_tcg_is_l3() {
        assert_eq!(expected_column(Tcg, false, 4), [false, false, true, false]);
        assert_eq!(expected_column(Tcg, false, 3), [false; 3]);
        assert_eq!(expected_column(Tcg, true, 4), [false; 4]);
        assert_eq!(expected_column(Kvm, false, 5), [false; 5]);
    }

    #[test]
    fn each_level_of_four_over_tcg_gets_its_part() {
        // L1 tcg and L2 (first KVM above TCG): nothing.
        assert_eq!(for_level(&[], Tcg, 3, 2).tuning, DeepTuning::default());
        assert_eq!(for_level(&[Tcg], Kvm, 2, 1).tuning, DeepTuning::default());
        // L3: keeps CPU 1 for L4, boots with one CPU online, has two vCPUs.
        let l3 = for_level(&[Tcg, Kvm], Kvm, 1, 1);
        assert_eq!(l3.vcpus, 2);
        assert!(l3.tuning.child_cpu && l3.tuning.boot_one_cpu);
        assert!(!l3.tuning.periodic_tick && !l3.tuning.pinned);
        // L4: periodic tick, pinned to L3's CPU 1, its one vCPU.
        let l4 = for_level(&[Tcg, Kvm, Kvm], Kvm, 0, 1);
        assert_eq!(l4.vcpus, 1);
        assert!(l4.tuning.periodic_tick && l4.tuning.pinned && !l4.tuning.child_cpu);
        // Hardware nesting: none at any depth.
        assert_eq!(
            for_level(&[Kvm, Kvm, Kvm], Kvm, 1, 1).tuning,
            DeepTuning::default()
        );
        // L4 under TCG (a parent without svm/vmx): no tick, still on L3's column.
        let l4 = for_level(&[Tcg, Kvm, Kvm], Tcg, 0, 1);
        assert!(!l4.tuning.periodic_tick && l4.tuning.pinned);
    }
}
