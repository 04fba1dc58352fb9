//! Property tests of the run.json reader: every valid document (any outcome, any
//! text, any finite number) reads back as itself after `to_json`, and anything else —
//! random text, a valid document with bytes, lines or fields flipped, removed,
//! inserted or repeated, a version 1 file likewise — is refused in one line or read as
//! a document that round-trips too. `report` and `compare` read files others wrote.

use super::tests::V1;
use super::*;
use crate::testing::{edits, is_one_line, mutate, mutate_json};
use crate::{
    Accel, AccelChoice, MetricId, NotApplicable, Sizes, Suite, WorkloadError, WorkloadResult,
};
use proptest::prelude::*;
use serde_json::Value;

fn text() -> impl Strategy<Value = String> {
    "(?s).{0,10}"
}

fn float() -> impl Strategy<Value = f64> {
    use prop::num::f64::{NEGATIVE, NORMAL, POSITIVE, SUBNORMAL, ZERO};
    POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO
}

fn opt<S: Strategy>(s: S) -> impl Strategy<Value = Option<S::Value>> {
    prop::option::of(s)
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        float().prop_map(Value::from),
        text().prop_map(Value::from),
    ]
}

fn skip_reason() -> impl Strategy<Value = SkipReason> {
    prop_oneof![
        any::<u32>().prop_map(|l| SkipReason::DependsOn { level: Level(l) }),
        (any::<u32>(), text()).prop_map(|(p, detail)| SkipReason::CannotHost {
            parent: Level(p),
            detail
        }),
        Just(SkipReason::ReferenceMissing),
        Just(SkipReason::Interrupted),
    ]
}

fn outcome() -> impl Strategy<Value = LevelOutcome> {
    prop_oneof![
        Just(LevelOutcome::Measured),
        (text(), any::<usize>()).prop_map(|(reason, results_kept)| LevelOutcome::AgentFailed {
            reason,
            results_kept
        }),
        text().prop_map(|reason| LevelOutcome::Unreachable { reason }),
        (any::<u32>(), text()).prop_map(|(l, reason)| LevelOutcome::Lost {
            lost: Level(l),
            reason
        }),
        skip_reason().prop_map(|reason| LevelOutcome::Skipped { reason }),
    ]
}

fn result() -> impl Strategy<Value = WorkloadResult> {
    (
        (text(), text(), text(), any::<bool>()),
        prop::collection::btree_map(text(), scalar(), 0..3),
        prop::collection::vec(float(), 0..5),
    )
        .prop_map(
            |((workload, metric, unit, higher_is_better), params, samples)| WorkloadResult {
                id: MetricId {
                    workload,
                    metric,
                    unit,
                    higher_is_better,
                },
                params: params.into_iter().collect(),
                samples,
            },
        )
}

fn env() -> impl Strategy<Value = LevelEnv> {
    (
        (
            opt(text()),
            opt(any::<u32>()),
            opt(any::<u64>()),
            opt(text()),
        ),
        (opt(text()), opt(text()), opt(any::<bool>())),
        opt(prop_oneof![
            Just(Accel::Native),
            Just(Accel::Kvm),
            Just(Accel::Tcg),
            Just(Accel::Unknown)
        ]),
        (opt(text()), opt(text())),
        (
            prop::collection::vec(text(), 0..2),
            prop::collection::vec(text(), 0..2),
        ),
        opt((text(), opt(text()), opt(text()), any::<bool>()).prop_map(
            |(os, release, shell, hyperv_root)| Platform {
                os,
                release,
                shell,
                hyperv_root,
            },
        )),
    )
        .prop_map(
            |(
                (cpu_model, vcpus, memory_mib, kernel),
                (hypervisor, virt, kvm),
                accel,
                (qv, disk),
                (tuning, argv),
                platform,
            )| LevelEnv {
                cpu_model,
                vcpus,
                memory_mib,
                kernel,
                hypervisor,
                virt_extensions: virt,
                kvm_usable: kvm,
                accel,
                qemu_version: qv.clone(),
                disk,
                tuning,
                qemu_argv: argv,
                // Present or absent with vcpus: the tuple strategies are full.
                llc_mib: vcpus.map(u64::from),
                windows: None,
                // Present or absent with the QEMU version, as in a QEMU level's env.
                network: qv.clone().map(|_| "QEMU user networking".to_string()),
                platform,
                hyperv: None,
            },
        )
}

fn level(n: u32) -> impl Strategy<Value = LevelRecord> {
    (
        (text(), opt(outcome()), opt(text())),
        opt((any::<bool>(), text()).prop_map(|(can_host, detail)| Hosting { can_host, detail })),
        env(),
        (opt(float()), opt(float()), opt(float()), opt(float())),
        prop::collection::vec(
            (text(), text()).prop_map(|(workload, message)| WorkloadError { workload, message }),
            0..2,
        ),
        (
            prop::collection::vec(result(), 0..3),
            prop::collection::vec(
                (result(), text()).prop_map(|(r, reason)| NotApplicable { id: r.id, reason }),
                0..2,
            ),
        ),
    )
        .prop_map(
            move |((name, outcome, error), hosting, env, (p, r, d, s), errors, (results, na))| {
                let mut l = LevelRecord::pending(Level(n));
                l.name = name;
                l.error = error;
                if let Some(o) = outcome {
                    l.conclude(o);
                }
                l.hosting = hosting;
                l.env = env;
                l.timings = Timings {
                    provision_s: p,
                    ready_s: r,
                    connect_s: p.map(|p| p / 2.0),
                    deploy_s: d,
                    suite_s: s,
                };
                l.errors = errors;
                l.results = results;
                l.not_applicable = na;
                // A level measured again after the stack lost it keeps the lost
                // attempt whole (its results included).
                if l.results.len() > 1 {
                    let mut lost = l.clone();
                    lost.conclude(LevelOutcome::Lost {
                        lost: l.level,
                        reason: "its QEMU exited".into(),
                    });
                    l.retries = vec![Retry {
                        attempt: Box::new(lost),
                        relaunched_from: l.level,
                        relaunch_s: 1.5,
                    }];
                }
                l
            },
        )
}

fn config() -> impl Strategy<Value = RunConfigRecord> {
    let backend = prop_oneof![
        Just(BackendKind::Host),
        Just(BackendKind::Qemu),
        Just(BackendKind::Inventory),
        Just(BackendKind::Hyperv),
        // What a newer nestbench may write; a known word would read as its variant.
        "[a-z]{1,8}"
            .prop_filter("a known word", |s| !matches!(
                s.as_str(),
                "host" | "qemu" | "inventory" | "hyperv"
            ))
            .prop_map(BackendKind::Other),
    ];
    let qemu = (
        prop_oneof![
            Just(AccelChoice::Auto),
            Just(AccelChoice::Kvm),
            Just(AccelChoice::Tcg)
        ],
        opt(any::<u64>()),
        opt(any::<u32>()),
        prop::collection::vec(text(), 0..2),
        opt(any::<u32>()),
    )
        .prop_map(
            |(accel, memory_mib, cpus, qemu_args, relaunch)| QemuConfig {
                accel,
                memory_mib,
                cpus,
                qemu_args,
                relaunch,
            },
        );
    (
        (
            backend,
            any::<u32>(),
            prop::sample::select(Suite::ALL.to_vec()),
        ),
        (opt(prop::collection::vec(text(), 0..3)), any::<bool>()),
        (
            opt(any::<u64>()),
            opt(any::<u64>()),
            opt(any::<u64>()),
            opt(any::<u64>()),
        ),
        opt(qemu),
        opt(text().prop_map(|file| InventoryConfig { file })),
    )
        .prop_map(
            |((backend, levels, suite), (only, keep), (s, l, p, d), qemu, inventory)| {
                RunConfigRecord {
                    backend,
                    levels,
                    suite,
                    only,
                    keep,
                    sizes: Sizes {
                        stream_mib: s,
                        latency_mib: l,
                        pagefault_mib: p,
                        disk_mib: d,
                    },
                    qemu,
                    inventory,
                    hyperv: None,
                    tags: Default::default(),
                }
            },
        )
}

fn provenance() -> impl Strategy<Value = Provenance> {
    let load = || {
        (float(), opt(float()), opt(float())).prop_map(|(one, five, fifteen)| LoadAvg {
            one,
            five,
            fifteen,
        })
    };
    let inv_level = || {
        (text(), text(), opt(text()), text()).prop_map(|(name, endpoint, via, workdir)| {
            InventoryLevelRecord {
                name,
                endpoint,
                via,
                workdir,
            }
        })
    };
    (
        (opt(text()), opt(text()), opt(text())),
        (
            opt(text()),
            opt(any::<u32>()),
            opt(any::<u64>()),
            opt(text()),
        ),
        (opt(load()), opt(load())),
        opt(
            (text(), opt(text())).prop_map(|(digest, kernel_package)| ImageRecord {
                digest,
                kernel_package,
            }),
        ),
        opt(
            (text(), opt(text()), opt(text()), opt(text())).prop_map(|(b, v, k, i)| QemuRecord {
                l1_binary: b,
                l1_version: v,
                kernel_override: k,
                initrd_override: i,
            }),
        ),
        opt((
            text(),
            prop::collection::vec(inv_level(), 0..2),
            opt(inv_level()),
        )
            .prop_map(|(file, levels, l0)| InventoryRecord { file, levels, l0 })),
    )
        .prop_map(
            |(
                (commit, sha, path),
                (cpu, vcpus, mem, kernel),
                (at_start, at_end),
                image,
                qemu,
                inventory,
            )| {
                Provenance {
                    tool_commit: commit,
                    agent_sha256: sha,
                    agent_path: path,
                    host: HostFacts {
                        cpu,
                        vcpus,
                        memory_mib: mem,
                        llc_mib: mem.map(|m| m / 64),
                        kernel,
                    },
                    host_load: HostLoad { at_start, at_end },
                    image,
                    qemu,
                    inventory,
                }
            },
        )
}

/// A valid document with up to `levels` levels.
fn doc(levels: u32) -> impl Strategy<Value = RunDoc> {
    (
        (text(), text(), text(), opt(text())),
        prop::sample::select(vec![
            RunStatus::Running,
            RunStatus::Complete,
            RunStatus::Partial,
            RunStatus::Failed,
        ]),
        config(),
        (0..=levels).prop_flat_map(|n| (0..n).map(level).collect::<Vec<_>>()),
        provenance(),
    )
        .prop_map(
            |(
                (run_id, tool_version, started_at, finished_at),
                status,
                config,
                levels,
                provenance,
            )| RunDoc {
                schema_version: SCHEMA_VERSION,
                run_id,
                tool_version,
                started_at,
                finished_at,
                status,
                config,
                levels,
                provenance,
            },
        )
}

/// Refused in one line, or read as a document that writes and reads back as itself.
fn refused_in_one_line_or_round_trips(text: &str) -> Result<(), TestCaseError> {
    match RunDoc::from_json(text, "prop.json") {
        Err(e) => prop_assert!(is_one_line(&e.to_string()), "{e}"),
        Ok(d) => {
            let json = d.to_json();
            let again = RunDoc::from_json(&json, "again.json");
            prop_assert!(
                again.is_ok(),
                "to_json wrote what from_json refuses: {json}"
            );
            let again = again.unwrap();
            prop_assert_eq!(&again, &d);
            prop_assert_eq!(again.to_json(), json);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn valid_documents_round_trip(d in doc(3)) {
        let json = d.to_json();
        let back = RunDoc::from_json(&json, "prop.json");
        prop_assert!(back.is_ok(), "{:?}\n{json}", back.err());
        let back = back.unwrap();
        prop_assert_eq!(&back, &d);
        prop_assert_eq!(back.to_json(), json);
    }

    #[test]
    fn random_text_is_refused_in_one_line(text in any::<String>()) {
        refused_in_one_line_or_round_trips(&text)?;
    }

    #[test]
    fn mutated_documents_are_refused_in_one_line_or_round_trip(d in doc(2), edits in edits()) {
        refused_in_one_line_or_round_trips(&mutate(&d.to_json(), &edits))?;
    }

    #[test]
    fn documents_with_a_field_changed_are_refused_in_one_line_or_round_trip(
        d in doc(2),
        changes in prop::collection::vec((any::<usize>(), any::<u8>(), scalar()), 1..4),
    ) {
        let mut v: Value = serde_json::from_str(&d.to_json()).unwrap();
        for (pick, op, with) in changes {
            mutate_json(&mut v, pick, op, with);
        }
        refused_in_one_line_or_round_trips(&v.to_string())?;
    }

    #[test]
    fn mutated_version_1_files_are_refused_in_one_line_or_round_trip(
        edits in edits(),
        changes in prop::collection::vec((any::<usize>(), any::<u8>(), scalar()), 0..3),
    ) {
        let mut v: Value = serde_json::from_str(V1).unwrap();
        for (pick, op, with) in changes {
            mutate_json(&mut v, pick, op, with);
        }
        refused_in_one_line_or_round_trips(&mutate(&serde_json::to_string_pretty(&v).unwrap(), &edits))?;
    }
}
