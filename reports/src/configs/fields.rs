//! What differs between the inputs of a configuration comparison, read from run.json:
//! the configuration fields that make runs comparable (`model::fingerprint`), the host
//! (CPU, kernel, QEMU), each level's guest kernel, QEMU version, vCPUs, memory and
//! tuning, and the run's tags. A per-level field that differs the same way at every
//! level (a guest kernel) is named once; two fields that differ identically (L1's QEMU
//! in the provenance and every level's `qemu_version`) are named once too. Tuning is
//! named by the flags that tell the inputs apart, not by each level's whole list.
//! Labels are
//! made of what differs, in short: words every input's value shares are dropped
//! (`QEMU emulator version 7.2.11` → `7.2.11`).

use model::fingerprint::{config_fields, host_fields};
use model::rundoc::RunDoc;

/// The longest label made from fields, in characters.
pub const LABEL_MAX: usize = 40;

/// One field that differs: its readable name and each input's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Differing {
    /// Readable name, e.g. `QEMU`, `guest kernel`, `L4 tuning`.
    pub name: String,
    /// Each input's value, in input order (`none` where empty).
    pub values: Vec<String>,
}

/// Whether `l` names a level (`L2`), or every level (`L*`).
fn is_level(l: &str) -> bool {
    l == "L*" || (l.len() > 1 && l.starts_with('L') && l[1..].bytes().all(|b| b.is_ascii_digit()))
}

/// A readable name for a fingerprint or environment field (`L*.` for every level).
fn readable(field: &str) -> String {
    let (level, name) = match field.split_once('.') {
        Some((l, n)) if is_level(l) => (Some(l), n),
        _ => (None, field),
    };
    let name = match name {
        "qemu_args" => "QEMU args",
        "qemu_version" => "QEMU",
        "tool_version" => "nestbench version",
        "kernel" if level.is_some() => "guest kernel",
        "vcpus" if level.is_some() => "vCPUs",
        "memory_mib" if level.is_some() => "memory MiB",
        "host.cpu" => "host CPU",
        "host.vcpus" => "host vCPUs",
        "host.memory_mib" => "host memory MiB",
        "host.kernel" => "host kernel",
        "host.hypervisor" => "hypervisor under L0",
        "host.qemu" => "QEMU",
        other => other,
    };
    match level {
        Some(l) if l != "L*" => format!("{l} {name}"),
        _ => name.to_string(),
    }
}

/// Every field of `doc` that may tell configurations apart, by internal name.
pub fn fields(doc: &RunDoc) -> Vec<(String, String)> {
    let mut f = config_fields(doc);
    f.extend(
        host_fields(doc)
            .into_iter()
            .map(|(k, v)| (format!("host.{k}"), v)),
    );
    if let Some(q) = &doc.config.qemu {
        let opt = |v: Option<String>| v.unwrap_or_default();
        f.push(("memory".into(), opt(q.memory_mib.map(|m| m.to_string()))));
        f.push(("cpus".into(), opt(q.cpus.map(|c| c.to_string()))));
    }
    for l in &doc.levels {
        let e = &l.env;
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        f.push((format!("{}.kernel", l.level), opt(&e.kernel)));
        f.push((format!("{}.qemu_version", l.level), opt(&e.qemu_version)));
        f.push((
            format!("{}.vcpus", l.level),
            e.vcpus.map(|v| v.to_string()).unwrap_or_default(),
        ));
        f.push((
            format!("{}.memory_mib", l.level),
            e.memory_mib.map(|v| v.to_string()).unwrap_or_default(),
        ));
    }
    for (k, v) in &doc.config.tags {
        f.push((format!("tag {k}"), v.clone()));
    }
    f
}

/// The fields whose values are not the same in every one of `docs` (one document per
/// input), collapsed and named for people.
pub fn differing(docs: &[&RunDoc]) -> Vec<Differing> {
    let all: Vec<Vec<(String, String)>> = docs.iter().map(|d| fields(d)).collect();
    let mut names: Vec<String> = Vec::new();
    for fs in &all {
        for (k, _) in fs {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    let value = |i: usize, k: &str| {
        all[i]
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut raw: Vec<(String, Vec<String>)> = Vec::new();
    for k in names {
        let values: Vec<String> = (0..docs.len()).map(|i| value(i, &k)).collect();
        if values.iter().any(|v| !same(&k, v, &values[0])) {
            raw.push((k, values));
        }
    }
    let mut out: Vec<Differing> = Vec::new();
    let raw = raw
        .into_iter()
        .filter(|(k, _)| !k.ends_with(".tuning"))
        .collect();
    for (k, values) in collapse_levels(raw).into_iter().chain(tuning(docs)) {
        let values: Vec<String> = values
            .into_iter()
            .map(|v| if v.is_empty() { "none".into() } else { v })
            .collect();
        if out.iter().any(|d| d.values == values) {
            continue;
        }
        out.push(Differing {
            name: readable(&k),
            values,
        });
    }
    // What people vary most first; tags (often what the runs were selected by) last.
    out.sort_by_key(|d| rank(&d.name));
    out
}

/// Where a field is listed: QEMU, kernels, tuning, QEMU arguments, the host, the rest
/// (in the order found), tags.
fn rank(name: &str) -> usize {
    const ORDER: [&str; 8] = [
        "QEMU",
        "guest kernel",
        "host kernel",
        "tuning",
        "QEMU args",
        "host CPU",
        "hypervisor under L0",
        "accel",
    ];
    match ORDER.iter().position(|o| *o == name) {
        Some(i) => i,
        None if name.starts_with("tag ") => ORDER.len() + 2,
        None => ORDER.len() + 1,
    }
}

/// The tuning flags that tell the inputs apart: each input's flags that not every input
/// has at that level — named alone when the input has it at every nested level, else
/// with the level (`L4 nohz=off`). Flags that only repeat `--qemu-arg` are left to the
/// QEMU args field.
fn tuning(docs: &[&RunDoc]) -> Option<(String, Vec<String>)> {
    let flags = |d: &RunDoc, level: model::Level| -> Vec<String> {
        d.level(level)
            .map(|l| {
                l.env
                    .tuning
                    .iter()
                    .filter(|t| !t.starts_with("qemu-args:"))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    };
    let levels: Vec<model::Level> = docs
        .iter()
        .flat_map(|d| d.levels.iter().map(|l| l.level))
        .filter(|l| !l.is_host())
        .fold(Vec::new(), |mut v, l| {
            if !v.contains(&l) {
                v.push(l);
            }
            v
        });
    let values: Vec<String> = docs
        .iter()
        .map(|d| {
            let mut own: Vec<(String, Vec<model::Level>)> = Vec::new();
            for &l in &levels {
                for f in flags(d, l) {
                    if docs.iter().all(|o| flags(o, l).contains(&f)) {
                        continue;
                    }
                    match own.iter_mut().find(|(g, _)| *g == f) {
                        Some((_, ls)) => ls.push(l),
                        None => own.push((f, vec![l])),
                    }
                }
            }
            own.into_iter()
                .map(|(f, ls)| {
                    if ls.len() == levels.len() {
                        f
                    } else {
                        let at: Vec<String> = ls.iter().map(|l| l.to_string()).collect();
                        format!("{} {f}", at.join(","))
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    values
        .iter()
        .any(|v| *v != values[0])
        .then(|| ("tuning".to_string(), values))
}

/// Per-level fields (`L2.kernel`, `L3.kernel`, …) that differ in the same way at every
/// level where they differ become one field (`kernel` with the level prefix dropped).
fn collapse_levels(raw: Vec<(String, Vec<String>)>) -> Vec<(String, Vec<String>)> {
    let suffix = |k: &str| {
        k.split_once('.')
            .filter(|(l, _)| is_level(l))
            .map(|(_, s)| s.to_string())
    };
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut done: Vec<String> = Vec::new();
    for (k, values) in &raw {
        let Some(s) = suffix(k) else {
            out.push((k.clone(), values.clone()));
            continue;
        };
        if done.contains(&s) {
            continue;
        }
        let same: Vec<&(String, Vec<String>)> = raw
            .iter()
            .filter(|(k2, _)| suffix(k2).as_deref() == Some(s.as_str()))
            .collect();
        if same.len() > 1 && same.iter().all(|(_, v)| v == values) {
            out.push((format!("L*.{s}"), values.clone()));
            done.push(s);
        } else {
            out.push((k.clone(), values.clone()));
        }
    }
    out
}

/// A CPU model without its marks and clock (`Intel(R) Xeon(R) Platinum 8481C CPU @
/// 2.70GHz` → `Intel Xeon Platinum 8481C`); any other text with its spaces tidied.
fn plain_cpu(v: &str) -> String {
    let v = v.split(" @ ").next().unwrap_or(v);
    let v = v.replace("(R)", "").replace("(TM)", "");
    let words: Vec<&str> = v.split_whitespace().collect();
    let cpu = words.len() > 2 && matches!(words.last(), Some(&"CPU") | Some(&"Processor"));
    let keep = if cpu {
        &words[..words.len() - 1]
    } else {
        &words[..]
    };
    keep.join(" ")
}

/// `values` without the words all of them start or end with (when something is left),
/// without a trailing parenthesis where they stay distinct without it
/// (`7.2.11 (Debian 1:7.2+dfsg-7)` → `7.2.11`), CPU models without marks and clock.
pub fn shorten(values: &[String]) -> Vec<String> {
    let values: Vec<String> = values.iter().map(|v| plain_cpu(v)).collect();
    let words: Vec<Vec<&str>> = values
        .iter()
        .map(|v| v.split_whitespace().collect())
        .collect();
    let min = words.iter().map(|w| w.len()).min().unwrap_or(0);
    let head = (0..min)
        .take_while(|&i| words.iter().all(|w| w[i] == words[0][i]))
        .count();
    let tail = (0..min)
        .take_while(|&i| {
            let last = |w: &Vec<&str>| w[w.len() - 1 - i].to_string();
            words.iter().all(|w| last(w) == last(&words[0]))
        })
        .count();
    let out: Vec<String> = if values.len() < 2 || head + tail >= min {
        values.clone()
    } else {
        words
            .iter()
            .map(|w| w[head..w.len() - tail].join(" "))
            .collect()
    };
    let bare: Vec<String> = out
        .iter()
        .map(|v| match (v.find(" ("), v.ends_with(')')) {
            (Some(at), true) => v[..at].to_string(),
            _ => v.clone(),
        })
        .collect();
    // Dropping the parentheses must not make two different values read the same.
    let keeps_apart =
        (0..out.len()).all(|i| (0..out.len()).all(|j| out[i] == out[j] || bare[i] != bare[j]));
    if keeps_apart {
        bare
    } else {
        out
    }
}

/// The label of each input: `given` where the user named it; else what tells it from
/// the first input (`QEMU 8.2.2`), and for the first input itself its values of the
/// fields that differ when that is one field, or two between two inputs
/// (`QEMU 7.2.11`), else `fallback` (how it was given); made unique.
pub fn labels(
    given: &[Option<String>],
    differing: &[Differing],
    fallback: &[String],
) -> Vec<String> {
    let n = given.len();
    let short: Vec<Vec<String>> = differing.iter().map(|d| shorten(&d.values)).collect();
    let named = |i: usize, fields: &mut dyn Iterator<Item = usize>| {
        let text = fields
            .map(|f| format!("{} {}", differing[f].name, short[f][i]))
            .collect::<Vec<_>>()
            .join(", ");
        truncate(&text, LABEL_MAX)
    };
    let mut out: Vec<String> = (0..n)
        .map(|i| {
            if let Some(g) = &given[i] {
                return g.clone();
            }
            let mine: Vec<usize> = (0..differing.len())
                .filter(|&f| i == 0 || differing[f].values[i] != differing[f].values[0])
                .collect();
            // The first input is named by its own values only where they are what the
            // others differ from: one field, or at most two between two inputs.
            let first_by_values = mine.len() == 1 || (n == 2 && mine.len() == 2);
            if mine.is_empty() || (i == 0 && !first_by_values) {
                return fallback[i].clone();
            }
            named(i, &mut mine.into_iter())
        })
        .collect();
    for i in 0..n {
        if out[..i].contains(&out[i]) {
            out[i] = format!("{} #{}", out[i], i + 1);
        }
    }
    out
}

/// `text` cut to `max` characters with an ellipsis.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
#[path = "fields_tests.rs"]
mod tests;

/// Whether two values of field `key` say the same. A guest's memory is what its kernel
/// reports (MemTotal), which moves by a MiB or two with the vCPU count (per-CPU areas)
/// on the same `-m`: memory within 1 % is the same configuration.
fn same(key: &str, a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    if !key.ends_with("memory_mib") {
        return false;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) if x > 0.0 && y > 0.0 => x.max(y) / x.min(y) <= 1.01,
        _ => false,
    }
}
