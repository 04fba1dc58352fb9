//! The five lines at the top of a report: what L0 is, how deep the stack got, the worst
//! category at that depth, what failed, and what to distrust (noisy or tuned levels).

use super::document::status_word;
use super::format::percent;
use crate::analysis::Analysis;
use model::rundoc::LevelStatus;
use model::{Accel, Level};

/// How many items a line lists before "and N more".
const LIST_MAX: usize = 4;

/// The five `label: text` summary lines.
pub fn lines(a: &Analysis) -> Vec<(String, String)> {
    vec![
        ("L0".into(), what_is_l0(a)),
        ("Deepest level reached".into(), deepest(a)),
        ("Worst category".into(), worst_category(a)),
        ("Failed or skipped".into(), failures(a)),
        ("Noisy or tuned".into(), noisy_and_tuned(a)),
    ]
}

fn listed(items: Vec<String>) -> String {
    let more = items.len().saturating_sub(LIST_MAX);
    let mut text = items
        .into_iter()
        .take(LIST_MAX)
        .collect::<Vec<_>>()
        .join("; ");
    if more > 0 {
        text.push_str(&format!("; and {more} more"));
    }
    text
}

fn what_is_l0(a: &Analysis) -> String {
    let Some(l0) = a.doc.level(Level::HOST) else {
        return "not in this run".into();
    };
    let e = &l0.env;
    let cpu = e.cpu_model.clone().unwrap_or_else(|| "unknown CPU".into());
    let vcpus = e.vcpus.map(|v| format!(", {v} CPUs")).unwrap_or_default();
    // A Hyper-V host's Windows runs in the root partition, the hypervisor beneath it:
    // the controller saw the role on first contact, or the Windows agent its privilege.
    let root = e.platform.as_ref().is_some_and(|p| p.hyperv_root)
        || e.windows.as_ref().and_then(|w| w.root_partition) == Some(true);
    if root {
        return format!(
            "the root partition of a Hyper-V host ({cpu}{vcpus}), not bare metal: Hyper-V runs beneath it, so every percentage is relative to a partition the hypervisor schedules"
        );
    }
    match e.hypervisor.as_deref().map(super::format::hypervisor_name) {
        None => format!("bare metal ({cpu}{vcpus})"),
        Some(h) => format!(
            "itself a virtual machine under {h} ({cpu}{vcpus}): every percentage is relative to a guest, not to hardware"
        ),
    }
}

fn deepest(a: &Analysis) -> String {
    let planned = a.doc.deepest();
    match a.deepest_ok() {
        None => format!("none: L0 was not measured (of L0–{planned} planned)"),
        Some(l) => {
            let accel = l.env.accel.unwrap_or(Accel::Unknown);
            format!(
                "{} of L0–{planned} planned (run with accel {accel})",
                l.level
            )
        }
    }
}

fn worst_category(a: &Analysis) -> String {
    let Some(level) = a.deepest_ok().map(|l| l.level).filter(|l| !l.is_host()) else {
        return "none: no nested level was measured".into();
    };
    let at: Vec<_> = a.categories.iter().filter(|c| c.level == level).collect();
    let worst = at.iter().min_by(|x, y| x.geo_mean.total_cmp(&y.geo_mean));
    let best = at.iter().max_by(|x, y| x.geo_mean.total_cmp(&y.geo_mean));
    match (worst, best) {
        (Some(w), Some(b)) => format!(
            "{} at {level}: {} of {} (geometric mean of {} metrics); best: {} at {}",
            w.category,
            percent(w.geo_mean),
            model::catalog::category_reference(&w.category),
            w.metrics,
            b.category,
            percent(b.geo_mean)
        ),
        _ => format!("none: no metric at {level} could be compared with L0"),
    }
}

fn failures(a: &Analysis) -> String {
    let mut items = Vec::new();
    for l in &a.doc.levels {
        if matches!(
            l.status,
            LevelStatus::Failed | LevelStatus::Skipped | LevelStatus::Pending
        ) {
            let why = l
                .error
                .clone()
                .unwrap_or_else(|| "no reason recorded".into());
            items.push(format!("{} {}: {why}", l.level, status_word(l.status)));
        }
        for e in &l.errors {
            items.push(format!("{} {} failed", l.level, e.workload));
        }
    }
    if items.is_empty() {
        "none".into()
    } else {
        listed(items)
    }
}

fn noisy_and_tuned(a: &Analysis) -> String {
    let noisy: Vec<String> = a
        .rows
        .iter()
        .filter(|r| r.summary.as_ref().is_some_and(|s| s.noisy))
        .map(|r| format!("{} {}", r.level, r.id.key()))
        .collect();
    let tuned: Vec<String> = a
        .doc
        .levels
        .iter()
        .filter(|l| !l.env.tuning.is_empty())
        .map(|l| format!("{} ({})", l.level, l.env.tuning.join(" ")))
        .collect();
    let noisy_text = match noisy.len() {
        0 => "no noisy results".to_string(),
        n => format!("{n} noisy results: {}", listed(noisy)),
    };
    let tuned_text = if tuned.is_empty() {
        "no level tuned".to_string()
    } else {
        format!(
            "tuned: {}; figures those flags affect are not comparable with untuned levels",
            listed(tuned)
        )
    };
    format!("{noisy_text}. {tuned_text}.")
}
