//! CPU affinity for the kernels that place threads on chosen CPUs: exit.ctxswitch keeps
//! two threads on one CPU, exit.ipi puts them on two. Both restore the agent's own
//! affinity afterwards, so the next workload runs where the agent was allowed to.

/// The calling thread's CPU affinity.
pub(crate) fn affinity() -> Option<libc::cpu_set_t> {
    // SAFETY: sched_getaffinity fills the zeroed set for the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        (libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0)
            .then_some(set)
    }
}

/// Applies `set` to the calling thread; returns whether that worked.
pub(crate) fn set_affinity(set: &libc::cpu_set_t) -> bool {
    // SAFETY: applies a valid set to the calling thread.
    unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) == 0 }
}

/// Pins the calling thread to `cpu`; returns whether that worked.
pub(crate) fn pin(cpu: usize) -> bool {
    // SAFETY: builds a set holding one CPU.
    let set = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        set
    };
    set_affinity(&set)
}

/// The CPUs in `set`, in ascending order.
pub(crate) fn cpus_in(set: &libc::cpu_set_t) -> Vec<usize> {
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: CPU_ISSET reads the set within its size.
        .filter(|&c| unsafe { libc::CPU_ISSET(c, set) })
        .collect()
}

/// How many CPUs the kernel has online (at least 1).
pub(crate) fn online_cpus() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).unwrap_or(1).max(1)
}
