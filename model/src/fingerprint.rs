//! Which runs are comparable: a run's **configuration** (what was measured and how —
//! backend, depth, suite, sizes, acceleration and tuning per level, tool version) and
//! its **host** (where — CPU model, vCPUs, memory, kernel, hypervisor under L0, QEMU).
//! Runs are samples of one configuration on one host only when both agree: a run set
//! whose runs differ in a configuration field is refused (naming the field), and the
//! history keeps noise profiles per host and configuration.
//!
//! Each side is a list of named fields, so a difference can be named; the fingerprint
//! is a stable digest of that list (FNV-1a 64, hex), for keys in a database. The digest
//! only has to tell different lists apart; it is not a security measure.

use crate::rundoc::RunDoc;
use crate::Level;

/// One named field of a fingerprint and its value as text.
pub type Field = (String, String);

/// The fields that make two runs samples of the same configuration.
pub fn config_fields(doc: &RunDoc) -> Vec<Field> {
    let c = &doc.config;
    let mut f: Vec<Field> = vec![
        ("backend".into(), c.backend.to_string()),
        ("levels".into(), c.levels.to_string()),
        ("suite".into(), c.suite.name().into()),
        ("sizes".into(), c.sizes.to_string()),
        ("tool_version".into(), doc.tool_version.clone()),
        (
            "only".into(),
            c.only.as_ref().map(|o| o.join(",")).unwrap_or_default(),
        ),
    ];
    if let Some(q) = &c.qemu {
        f.push(("accel".into(), q.accel.as_str().into()));
        f.push(("qemu_args".into(), q.qemu_args.join(" ")));
    }
    if let Some(i) = &c.inventory {
        f.push(("inventory".into(), i.file.clone()));
    }
    for l in &doc.levels {
        let accel = l.env.accel.map(|a| a.to_string()).unwrap_or_default();
        f.push((format!("{}.accel", l.level), accel));
        f.push((format!("{}.tuning", l.level), l.env.tuning.join(" ")));
    }
    f
}

/// The fields that make two runs come from the same machine.
pub fn host_fields(doc: &RunDoc) -> Vec<Field> {
    let h = &doc.provenance.host;
    let l0 = doc.level(Level::HOST);
    let opt = |v: Option<String>| v.unwrap_or_default();
    vec![
        ("cpu".into(), opt(h.cpu.clone())),
        ("vcpus".into(), opt(h.vcpus.map(|v| v.to_string()))),
        (
            "memory_mib".into(),
            opt(h.memory_mib.map(|v| v.to_string())),
        ),
        ("kernel".into(), opt(h.kernel.clone())),
        (
            "hypervisor".into(),
            opt(l0.and_then(|l| l.env.hypervisor.clone())),
        ),
        (
            "qemu".into(),
            opt(doc
                .provenance
                .qemu
                .as_ref()
                .and_then(|q| q.l1_version.clone())),
        ),
    ]
}

/// A stable digest of `fields`, 16 hex digits.
pub fn digest(fields: &[Field]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, v) in fields {
        for b in k.bytes().chain([0]).chain(v.bytes()).chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// The configuration fingerprint of a run.
pub fn config(doc: &RunDoc) -> String {
    digest(&config_fields(doc))
}

/// The host fingerprint of a run.
pub fn host(doc: &RunDoc) -> String {
    digest(&host_fields(doc))
}

/// The first field whose value differs between `a` and `b` (a field only one side has
/// counts as differing): `(name, a's value, b's value)`.
pub fn first_difference(a: &[Field], b: &[Field]) -> Option<(String, String, String)> {
    let get = |fs: &[Field], k: &str| fs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    a.iter()
        .map(|(k, _)| k)
        .chain(b.iter().map(|(k, _)| k))
        .find_map(|k| {
            let (va, vb) = (get(a, k), get(b, k));
            (va != vb).then(|| {
                (
                    k.clone(),
                    va.unwrap_or_else(|| "(none)".into()),
                    vb.unwrap_or_else(|| "(none)".into()),
                )
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pairs: &[(&str, &str)]) -> Vec<Field> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn digests_tell_lists_apart_and_differences_are_named() {
        let a = f(&[("suite", "smoke"), ("levels", "2")]);
        let b = f(&[("suite", "quick"), ("levels", "2")]);
        assert_eq!(digest(&a), digest(&a.clone()));
        assert_ne!(digest(&a), digest(&b));
        // A value may not leak into the next key.
        assert_ne!(
            digest(&f(&[("a", "bc"), ("d", "")])),
            digest(&f(&[("a", "b"), ("cd", "")]))
        );
        assert_eq!(
            first_difference(&a, &b),
            Some(("suite".into(), "smoke".into(), "quick".into()))
        );
        assert_eq!(first_difference(&a, &a), None);
        let c = f(&[("suite", "smoke")]);
        assert_eq!(
            first_difference(&a, &c),
            Some(("levels".into(), "2".into(), "(none)".into()))
        );
    }
}
