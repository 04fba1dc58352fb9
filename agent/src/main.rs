//! nestbench-agent: placeholder until the workload suite lands.
fn main() {}
