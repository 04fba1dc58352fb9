//! Where the numbers came from: recorded in run.json `provenance` so two runs can be
//! checked for comparability and a figure traced to the build that produced it. The
//! backend adds its own part ([`crate::backend::Backend::record_provenance`]).

use crate::agentbin::AgentBinary;
use model::rundoc::{HostFacts, LoadAvg, Provenance};

/// Tool commit (if built from git), agent digest, host facts and the load at start.
pub fn collect(agent: &AgentBinary) -> Provenance {
    let mut sys = sysinfo::System::new();
    sys.refresh_cpu_all();
    sys.refresh_memory();
    let mut p = Provenance {
        tool_commit: option_env!("NESTBENCH_COMMIT").map(str::to_string),
        agent_sha256: Some(agent.sha256.clone()),
        agent_path: Some(agent.path.display().to_string()),
        host: HostFacts {
            cpu: sys.cpus().first().map(|c| c.brand().trim().to_string()),
            vcpus: Some(sys.cpus().len() as u32),
            memory_mib: Some(sys.total_memory() / (1024 * 1024)),
            kernel: sysinfo::System::kernel_version(),
            // The run fills it with the figure its sizes were judged against.
            llc_mib: None,
        },
        ..Provenance::default()
    };
    p.host_load.at_start = load_now();
    p
}

/// The host's load average now, from /proc/loadavg (None where it cannot be read).
pub fn load_now() -> Option<LoadAvg> {
    std::fs::read_to_string("/proc/loadavg").ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_load_of_this_machine_is_read() {
        let l = super::load_now().expect("/proc/loadavg on Linux");
        assert!(l.one >= 0.0 && l.five.is_some());
    }
}
