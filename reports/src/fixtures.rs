//! Generated runs, for the tests of every chart and report kind and for looking at
//! them: an L0–L4 QEMU stack like this project's machines make (L0 itself a guest of
//! KVM, L1 under TCG, L2–L4 under KVM on an emulated SVM CPU, deep-level tuning at L3
//! and L4), every metric of the catalog with seeded samples, the exit probes' usual
//! not-applicable records — and [`variants`] of it that each differ from the base in
//! one configuration field (QEMU, guest kernel, tuning, QEMU arguments, host), with an
//! effect on the figures that field plausibly has.
//!
//! The L0 figures are those of a real L0 run here; the slowdowns per level follow the
//! layer each metric exercises (docs/qemu.md, "Measured facts"), and exit.cpuid under
//! TCG is 285 times *faster* than at L0, as measured: TCG emulates CPUID inline, while
//! L0, a guest itself, exits to its hypervisor. Built only with the `fixtures` feature.

use crate::stats::rng::SplitMix64;
use model::catalog::{Layer, WORKLOADS};
use model::rundoc::RunDoc;
use serde_json::{json, Value};

/// What a generated run is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Run id.
    pub run_id: String,
    /// RFC 3339 start.
    pub started_at: String,
    /// Deepest level (L0..=levels).
    pub levels: u32,
    /// `qemu-system-x86_64 --version` of every level's QEMU.
    pub qemu_version: String,
    /// Every guest's kernel release.
    pub guest_kernel: String,
    /// The host's CPU model.
    pub host_cpu: String,
    /// Extra tuning flags at every nested level (on top of the deep levels' own).
    pub extra_tuning: Vec<String>,
    /// `--qemu-arg` values.
    pub qemu_args: Vec<String>,
    /// A level that could not be reached (the deeper ones are skipped).
    pub failed: Option<u32>,
    /// Samples per result.
    pub samples: usize,
    /// Seed of the samples.
    pub seed: u64,
}

/// The base QEMU version.
pub const BASE_QEMU: &str = "QEMU emulator version 7.2.11 (Debian 1:7.2+dfsg-7+deb12u12)";
/// The base guest kernel.
pub const BASE_KERNEL: &str = "6.1.0-25-cloud-amd64";
/// The base host CPU.
pub const BASE_CPU: &str = "AMD EPYC 7B13 64-Core Processor";

impl Default for Spec {
    fn default() -> Spec {
        Spec {
            run_id: "20260301T090000Z-base".into(),
            started_at: "2026-03-01T09:00:00Z".into(),
            levels: 4,
            qemu_version: BASE_QEMU.into(),
            guest_kernel: BASE_KERNEL.into(),
            host_cpu: BASE_CPU.into(),
            extra_tuning: vec![],
            qemu_args: vec![],
            failed: None,
            samples: 7,
            seed: 1,
        }
    }
}

/// The base and one variant per configuration field, each differing from the base in
/// that field only: `(field, spec)`.
pub fn variants() -> Vec<(&'static str, Spec)> {
    let base = Spec::default();
    let with = |tag: &str, seed: u64, f: &dyn Fn(&mut Spec)| {
        let mut s = base.clone();
        s.run_id = format!("20260301T090000Z-{tag}");
        s.seed = seed;
        f(&mut s);
        s
    };
    vec![
        ("base", base.clone()),
        (
            "qemu",
            with("qemu", 2, &|s| {
                s.qemu_version = "QEMU emulator version 8.2.2 (Debian 1:8.2.2+ds-0ubuntu1)".into()
            }),
        ),
        (
            "kernel",
            with("kernel", 3, &|s| {
                s.guest_kernel = "6.12.9-cloud-amd64".into()
            }),
        ),
        (
            "tuning",
            with("tuning", 4, &|s| {
                s.extra_tuning = vec!["mitigations=off".into()]
            }),
        ),
        (
            "qemu_args",
            with("qemu-args", 5, &|s| {
                s.qemu_args = vec!["1:-overcommit".into(), "1:cpu-pm=on".into()]
            }),
        ),
        (
            "host",
            with("host", 6, &|s| {
                s.host_cpu = "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz".into()
            }),
        ),
    ]
}

/// L0's median of a metric (a real L0 run's), 100 for one this table lacks.
fn l0(key: &str) -> f64 {
    match key {
        "cpu.int/ops" => 1155.0,
        "cpu.fp/flops" => 18.0,
        "cpu.mt/ops" => 2301.0,
        "cpu.mt/scaling" => 1.99,
        "mem.stream/copy" => 56.1,
        "mem.stream/scale" => 56.8,
        "mem.stream/add" => 57.3,
        "mem.stream/triad" => 57.6,
        "mem.latency/latency" => 98.3,
        "mem.pagefault/rate" => 1_186_000.0,
        "disk.seq/write" => 2744.0,
        "disk.seq/read" => 1722.0,
        "disk.rand/read_iops" => 13316.0,
        "disk.rand/write_iops" => 13761.0,
        "disk.rand/read_p99" => 327.7,
        "disk.fsync/latency" => 128.2,
        "exit.cpuid/latency" => 5700.0,
        "exit.pio/latency" => 2900.0,
        "exit.hypercall/latency" => 1500.0,
        "exit.syscall/latency" => 73.9,
        "exit.ctxswitch/latency" => 860.0,
        "exit.ipi/latency" => 8200.0,
        "exit.timer/clock_gettime" => 15.4,
        "exit.timer/sleep_overshoot" => 90.1,
        "net.tcp/send" | "net.tcp/receive" => 2400.0,
        "net.tcp/rr_p50" => 4.5,
        "net.tcp/rr_p99" => 30.0,
        _ => 100.0,
    }
}

/// How many times dearer a metric of `layer` is at level 1..=4 than at L0.
fn slowdown(key: &str, layer: Layer, level: u32) -> f64 {
    let i = level.clamp(1, 4) as usize - 1;
    let by: [f64; 4] = match (key, layer) {
        ("exit.cpuid/latency", _) => [1.0 / 285.0, 14.0, 53.0, 210.0],
        (_, Layer::Cpu) => [11.0, 12.0, 13.5, 15.0],
        (_, Layer::Memory) => [6.0, 9.5, 21.0, 40.0],
        (_, Layer::GuestKernel) => [16.0, 31.0, 83.0, 160.0],
        (_, Layer::Timer) => [11.0, 31.0, 105.0, 300.0],
        (_, Layer::VirtualDisk) => [4.0, 8.0, 19.0, 45.0],
        (_, Layer::HypervisorKernel) => [3.0, 25.0, 90.0, 350.0],
        (_, Layer::UserVmm) => [2.0, 20.0, 70.0, 260.0],
        (_, Layer::VirtualNetwork) => [8.0, 30.0, 90.0, 270.0],
    };
    by[i]
}

/// A steady factor between 0.7 and 1.4 per metric and level, so that the metrics of one
/// layer do not all lie on one line.
fn jitter(key: &str, level: u32) -> f64 {
    let h = model::fingerprint::digest(&[(key.to_string(), String::new())]);
    let byte = u64::from_str_radix(&h[..16], 16).unwrap_or(0) >> ((level % 8) * 8) & 0xff;
    0.7 + 0.7 * byte as f64 / 255.0
}

/// The factor a spec's differences from the base put on a slowdown.
fn effect(spec: &Spec, layer: Layer, level: u32) -> f64 {
    let mut f = 1.0;
    if spec.qemu_version != BASE_QEMU && level == 1 && matches!(layer, Layer::Cpu | Layer::Memory) {
        f *= 0.8; // a newer TCG translates faster
    }
    if spec.guest_kernel != BASE_KERNEL && layer == Layer::GuestKernel {
        f *= 0.85;
    }
    if !spec.extra_tuning.is_empty()
        && matches!(layer, Layer::GuestKernel | Layer::HypervisorKernel)
    {
        f *= 0.7; // no mitigations on every entry and exit
    }
    if !spec.qemu_args.is_empty() && matches!(layer, Layer::Timer) {
        f *= 0.9;
    }
    f
}

/// Where a metric does not apply, and why.
fn not_applicable(key: &str, level: u32) -> Option<&'static str> {
    match key {
        "exit.pio/latency" if level == 0 => {
            Some("cannot write port 0x80 from user space (no ioperm, no /dev/port)")
        }
        "exit.hypercall/latency" if level <= 1 => Some("vmcall raises #UD from user space here"),
        "exit.ipi/latency" if level >= 2 => Some("needs two online vCPUs; this level has 1"),
        _ => None,
    }
}

fn env(spec: &Spec, level: u32) -> Value {
    let mut tuning: Vec<String> = match level {
        3 => vec![
            "nohz_full=1".into(),
            "maxcpus=1 (CPU 1 onlined for the child after the measurement)".into(),
        ],
        4 => vec![
            "nohz=off".into(),
            "LAPIC timer period >= 20 ms (L3 kvm.min_timer_period_us=20000)".into(),
            "vcpu 0 pinned to L3 CPU 1".into(),
        ],
        _ => vec![],
    };
    if level > 0 {
        tuning.extend(spec.extra_tuning.iter().cloned());
        if !spec.qemu_args.is_empty() && level == 1 {
            tuning.push(format!("qemu-args: {}", spec.qemu_args.join(" ")));
        }
    }
    let accel = match level {
        0 => "native",
        1 => "tcg",
        _ => "kvm",
    };
    let disk = match level {
        0 => "/tmp on the host's ext4 (no virtual disk layer)".to_string(),
        1 => "ext4 (2048 MiB) on virtio-blk, backed by raw file /var/tmp/nestbench/scratch.img on host ext4 (cache=none,aio=native)".into(),
        n => format!("ext4 ({} MiB) on virtio-blk, backed by L{}'s /dev/vdb at offset {} MiB (cache=none,aio=native), {n} virtual disk layers", 2048 >> n, n - 1, 2048 >> (n - 1)),
    };
    let i = level.min(4) as usize;
    let (vcpus, memory) = ([2, 2, 1, 2, 1][i], [24105, 6144, 3072, 1536, 768][i]);
    json!({
        "cpu_model": if level == 1 { "QEMU Virtual CPU version 2.5+".to_string() } else { spec.host_cpu.clone() },
        "vcpus": vcpus,
        "memory_mib": memory,
        "kernel": if level == 0 { "6.18.44-fc-v669".to_string() } else { spec.guest_kernel.clone() },
        "hypervisor": match level { 0 => "KVMKVMKVM", 1 => "TCGTCGTCGTCG", _ => "KVMKVMKVM" },
        "virt_extensions": if level < 4 { Some("svm") } else { None },
        "kvm_usable": level > 0 && level < 4,
        "accel": accel,
        "qemu_version": if level == 0 { None } else { Some(spec.qemu_version.clone()) },
        "disk": disk,
        "tuning": tuning,
        "qemu_argv": if level == 0 { vec![] } else { vec!["qemu-system-x86_64".to_string(), "-accel".into(), accel.into(), "-m".into(), "…".into()] },
    })
}

fn level(spec: &Spec, n: u32, rng: &mut SplitMix64) -> Value {
    let failed_here = spec.failed == Some(n);
    let skipped = spec.failed.is_some_and(|f| n > f);
    let i = n.min(4) as usize;
    let (provision, ready) = (
        [0.0, 6.2, 7.1, 7.6, 34.3][i],
        [0.0, 18.1, 37.8, 58.6, 108.6][i],
    );
    let timings = json!({"provision_s": provision, "ready_s": ready, "deploy_s": 0.8 * f64::from(n + 1), "suite_s": 11.5 * f64::from(n + 1)});
    if failed_here || skipped {
        let (status, outcome, error) = if failed_here {
            let why =
                format!("L{n} did not answer over SSH within 600 s; see logs/L{n}.serial.log");
            ("failed", json!({"kind": "unreachable", "reason": why}), why)
        } else {
            let f = spec.failed.unwrap_or(0);
            (
                "skipped",
                json!({"kind": "skipped", "because": "depends_on", "level": f}),
                format!("skipped: L{f} failed"),
            )
        };
        return json!({"level": n, "name": format!("L{n}"), "status": status, "error": error, "outcome": outcome,
            "env": env(spec, n), "timings": {"provision_s": null, "ready_s": null, "deploy_s": null, "suite_s": null},
            "errors": [], "results": []});
    }
    let mut results = Vec::new();
    let mut na = Vec::new();
    for w in WORKLOADS {
        for m in w.metrics {
            let key = format!("{}/{}", w.id, m.name);
            let base = json!({"workload": w.id, "metric": m.name, "unit": m.unit.as_str(), "higher_is_better": m.higher_is_better()});
            if let Some(reason) = not_applicable(&key, n) {
                let mut v = base;
                v["reason"] = json!(reason);
                na.push(v);
                continue;
            }
            let host = l0(&key)
                * if spec.host_cpu != BASE_CPU && m.layer == Layer::Cpu {
                    1.3
                } else {
                    1.0
                };
            let slow = if n == 0 {
                1.0
            } else {
                slowdown(&key, m.layer, n) * effect(spec, m.layer, n) * jitter(&key, n)
            };
            let median = if m.higher_is_better() {
                host / slow
            } else {
                host * slow
            };
            let cv = m.noise_cv / 4.0;
            let samples: Vec<f64> = (0..spec.samples)
                .map(|_| median * (1.0 + cv * normal(rng)).max(0.05))
                .collect();
            let mut v = base;
            v["params"] = json!({"samples": spec.samples});
            v["samples"] = json!(samples);
            results.push(v);
        }
    }
    json!({"level": n, "name": format!("L{n}"), "status": "ok", "error": null, "outcome": {"kind": "measured"},
        "hosting": {"can_host": n < spec.levels, "detail": "svm and a usable /dev/kvm"},
        "env": env(spec, n), "timings": timings, "errors": [], "results": results, "not_applicable": na})
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut SplitMix64) -> f64 {
    let u = |r: &mut SplitMix64| ((r.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let (a, b) = (u(rng), u(rng));
    (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
}

/// The run `spec` describes.
pub fn run(spec: &Spec) -> RunDoc {
    let mut rng = SplitMix64::new(spec.seed);
    let levels: Vec<Value> = (0..=spec.levels)
        .map(|n| level(spec, n, &mut rng))
        .collect();
    let status = if spec.failed.is_some() {
        "partial"
    } else {
        "complete"
    };
    let doc = json!({
        "schema_version": 2, "run_id": spec.run_id, "tool_version": "0.1.0",
        "started_at": spec.started_at, "finished_at": spec.started_at, "status": status,
        "config": {"backend": "qemu", "levels": spec.levels, "suite": "quick", "only": null, "keep": false,
            "sizes": {"stream_mib": 64, "latency_mib": 64, "pagefault_mib": 32, "disk_mib": 64},
            "qemu": {"accel": "auto", "memory_mib": null, "cpus": null, "qemu_args": spec.qemu_args}},
        "levels": levels,
        "provenance": {"tool_commit": "0000000", "host": {"cpu": spec.host_cpu, "vcpus": 2, "memory_mib": 24105, "kernel": "6.18.44-fc-v669"},
            "qemu": {"l1_binary": "qemu-system-x86_64", "l1_version": spec.qemu_version}},
    });
    RunDoc::from_json(&doc.to_string(), "fixtures").expect("generated runs are valid run.json")
}

/// `n` runs of `spec`, each with its own seed and start (a minute apart) and a small
/// run-to-run drift, as a set of one configuration.
pub fn runs(spec: &Spec, n: usize) -> Vec<RunDoc> {
    (0..n)
        .map(|i| {
            let mut s = spec.clone();
            s.seed = spec.seed * 1000 + i as u64;
            s.run_id = format!("{}-{i}", spec.run_id);
            s.started_at = format!("2026-03-01T{:02}:{:02}:00Z", 9 + i / 60, i % 60);
            run(&s)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_differs_from_the_base_in_its_field_only() {
        let docs: Vec<(&str, RunDoc)> = variants().into_iter().map(|(f, s)| (f, run(&s))).collect();
        let base = &docs[0].1;
        for (field, doc) in &docs[1..] {
            let d = crate::configs::fields::differing(&[base, doc]);
            assert_eq!(d.len(), 1, "{field}: {d:?}");
        }
        assert_eq!(base.levels.len(), 5);
        let l1 = &base.levels[1];
        let cpuid = l1
            .results
            .iter()
            .find(|r| r.id.key() == "exit.cpuid/latency")
            .unwrap();
        assert!(cpuid.samples[0] < 30.0, "TCG's inline CPUID");
    }
}
