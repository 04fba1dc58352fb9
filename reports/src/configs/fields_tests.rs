//! What differs between inputs, and the labels made of it.

use super::*;

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn shared_words_are_dropped_from_values() {
    assert_eq!(
        shorten(&s(&[
            "QEMU emulator version 7.2.11",
            "QEMU emulator version 8.2.2"
        ])),
        s(&["7.2.11", "8.2.2"])
    );
    assert_eq!(shorten(&s(&["a", "a b"])), s(&["a", "a b"]));
    assert_eq!(shorten(&s(&["x y", "z y"])), s(&["x", "z"]));
    assert_eq!(
        shorten(&s(&["v 7.2.11 (Debian 1:7.2)", "v 8.2.2 (Debian 1:8.2)"])),
        s(&["7.2.11", "8.2.2"])
    );
    assert_eq!(
        shorten(&s(&[
            "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz",
            "AMD EPYC 7B13 64-Core Processor"
        ])),
        s(&["Intel Xeon Platinum 8481C", "AMD EPYC 7B13 64-Core"])
    );
}

#[test]
fn labels_say_what_differs_or_what_was_given() {
    let d = vec![Differing {
        name: "QEMU".into(),
        values: s(&[
            "QEMU emulator version 7.2.11",
            "QEMU emulator version 8.2.2",
        ]),
    }];
    let l = labels(&[None, Some("new".into())], &d, &s(&["a", "b"]));
    assert_eq!(l, s(&["QEMU 7.2.11", "new"]));
    let same = labels(&[None, None], &[], &s(&["runs", "runs"]));
    assert_eq!(same, s(&["runs", "runs #2"]));
    // Many inputs, each differing from the first in one field: each is named by its
    // own difference, the first by how it was given.
    let many = vec![
        Differing {
            name: "QEMU".into(),
            values: s(&["7.2", "8.2", "7.2"]),
        },
        Differing {
            name: "kernel".into(),
            values: s(&["6.1", "6.1", "6.12"]),
        },
        Differing {
            name: "host".into(),
            values: s(&["a", "a", "a"]),
        },
    ];
    let l = labels(&[None, None, None], &many, &s(&["base", "q", "k"]));
    assert_eq!(l, s(&["base", "QEMU 8.2", "kernel 6.12"]));
    assert_eq!(truncate("abcdef", 4), "abc…");
}

#[test]
fn guest_memory_within_a_percent_is_the_same_configuration() {
    // MemTotal of one `-m 4096` guest with 2 vCPUs and with 1.
    assert!(same("1.memory_mib", "3926", "3927"));
    assert!(same("host.memory_mib", "24000", "24200"));
    assert!(!same("1.memory_mib", "3926", "1962"));
    assert!(!same("1.memory_mib", "3926", ""));
    // Only memory gets the tolerance.
    assert!(!same("1.vcpus", "100", "101"));
}
