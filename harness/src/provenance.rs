//! Where the numbers came from: recorded in run.json `provenance` so two runs can be
//! checked for comparability and a figure traced to the build that produced it.

use crate::agentbin::AgentBinary;
use serde_json::{Map, Value};

/// Tool commit (if built from git), agent digest, host load and host facts.
pub fn collect(agent: &AgentBinary) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "tool_commit".into(),
        option_env!("NESTBENCH_COMMIT").unwrap_or("unknown").into(),
    );
    m.insert("agent_sha256".into(), agent.sha256.clone().into());
    m.insert("agent_path".into(), agent.path.display().to_string().into());
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let first: Vec<&str> = load.split_whitespace().take(3).collect();
        m.insert("host_load_at_start".into(), first.join(" ").into());
    }
    let mut sys = sysinfo::System::new();
    sys.refresh_cpu_all();
    sys.refresh_memory();
    if let Some(cpu) = sys.cpus().first() {
        m.insert("host_cpu".into(), cpu.brand().trim().into());
    }
    m.insert("host_vcpus".into(), sys.cpus().len().into());
    m.insert(
        "host_memory_mib".into(),
        (sys.total_memory() / (1024 * 1024)).into(),
    );
    if let Some(k) = sysinfo::System::kernel_version() {
        m.insert("host_kernel".into(), k.into());
    }
    m
}
