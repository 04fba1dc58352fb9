//! The report of one run as a [`Document`]: the summary lines, one section per
//! category (its table, then its chart), the cost curve, the levels (a table that fits
//! a page, then each level's whole environment on demand), metrics that do not apply
//! with their reasons, errors, and what every metric measures. Figures that are not
//! what their workload claims (cache-resident, truncated setup) are marked in their
//! cells and explained under their table ([`super::caveats`]).

use super::caveats;
use super::document::{status_word, Block, Document, Table};
use super::format::{hypervisor_name, percent, seconds, sig};
use super::summary;
use crate::analysis::{category_of, Analysis, Row};
use model::rundoc::{LevelRecord, LevelStatus};

/// Build the report of `analysis`.
pub fn build(a: &Analysis) -> Document {
    let mut blocks = vec![Block::Facts(summary::lines(a))];
    blocks.push(Block::Heading(2, "Results by category".into()));
    blocks.push(Block::Para(
        "Median of each metric per level; in parentheses the level's figure as a percentage of \
         L0, oriented so that below 100 % always means slower (rates: Ln/L0, latencies: L0/Ln). \
         `~` marks a noisy result (coefficient of variation above its workload's threshold). \
         95 % bootstrap intervals are in results.csv and on the charts."
            .into(),
    ));
    for cat in a.category_names() {
        blocks.push(Block::Heading(3, cat.clone()));
        let reference = model::catalog::category_reference(&cat);
        if !reference.is_host() {
            blocks.push(Block::Para(format!(
                "{cat} figures in parentheses are a percentage of {reference}, not L0: L0 has no \
                 parent to talk to and measures loopback, a reference only."
            )));
        }
        blocks.push(Block::Table(category_table(a, &cat)));
        let shown = a.doc.levels.iter().flat_map(|l| &l.results);
        for note in caveats::footnotes(shown.filter(|r| category_of(&r.id.workload) == cat)) {
            blocks.push(Block::Para(note));
        }
        let chart = crate::charts::levels::LevelsChart::new(a, &cat);
        blocks.push(Block::Charts(vec![chart_ref(&chart)]));
    }
    blocks.push(Block::Heading(2, "Cost of nesting".into()));
    let net = if a.category_names().iter().any(|c| c == "net") {
        " (net: of L1, since L0's net figure is loopback)"
    } else {
        ""
    };
    blocks.push(Block::Para(format!(
        "Every metric as a percentage of L0 per level{net}, one panel per category, the \
         category's geometric mean in bold; a figure off the scale is explained under the chart."
    )));
    let curve = crate::charts::cost_curve::CostCurve::new(a);
    blocks.push(Block::Charts(vec![chart_ref(&curve)]));
    blocks.push(Block::Heading(2, "Levels".into()));
    blocks.push(Block::Table(env_table(&a.doc.levels)));
    for l in &a.doc.levels {
        blocks.push(environment(l));
    }
    let not_applicable = not_applicable_table(&a.doc.levels);
    if !not_applicable.rows.is_empty() {
        blocks.push(Block::Heading(2, "Not applicable".into()));
        blocks.push(Block::Para(
            "Metrics a level could not measure because it lacks what they need; \"n/a\" in \
             the tables above. Not failures."
                .into(),
        ));
        blocks.push(Block::Table(not_applicable));
    }
    let errors = error_table(&a.doc.levels);
    if !errors.rows.is_empty() {
        blocks.push(Block::Heading(2, "Errors".into()));
        blocks.push(Block::Table(errors));
    }
    blocks.push(Block::Heading(2, "Metrics".into()));
    blocks.push(Block::Glossary(a.metrics.clone()));
    Document {
        title: format!("nestbench run {}", a.doc.run_id),
        blocks,
    }
}

/// A chart's file stem and title, as [`Block::Charts`] lists it.
pub fn chart_ref(c: &dyn crate::charts::Chart) -> (String, String) {
    (c.name(), c.title())
}

/// Everything run.json says of one level's environment, folded under one line.
pub fn environment(l: &LevelRecord) -> Block {
    let e = &l.env;
    let mut facts: Vec<(String, String)> = Vec::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            facts.push((k.to_string(), v));
        }
    };
    put("status", Some(status_word(l.status).into()));
    put("why", l.error.clone());
    put("earlier attempts", retries_line(l));
    put("CPU", e.cpu_model.clone());
    put("vCPUs", e.vcpus.map(|v| v.to_string()));
    put("memory MiB", e.memory_mib.map(|v| v.to_string()));
    put("kernel", e.kernel.clone());
    put("hypervisor seen inside", e.hypervisor.clone());
    put("virtualization extensions", e.virt_extensions.clone());
    put(
        "/dev/kvm usable",
        e.kvm_usable.map(|k| if k { "yes" } else { "no" }.into()),
    );
    put("accel", e.accel.map(|a| a.to_string()));
    put("QEMU", e.qemu_version.clone());
    put("disk", e.disk.clone());
    put("tuning", Some(e.tuning.join("; ")));
    put("QEMU command line", Some(e.qemu_argv.join(" ")));
    if let Some(p) = &e.platform {
        let release = p
            .release
            .as_deref()
            .map(|r| format!(", {r}"))
            .unwrap_or_default();
        let root = if p.hyperv_root {
            ", Hyper-V root partition"
        } else {
            ""
        };
        put("platform", Some(format!("{}{release}{root}", p.os)));
    }
    if let Some(w) = &e.windows {
        put(
            "Windows",
            Some(format!(
                "{} build {} ({}), Hyper-V vmms {}",
                w.version, w.build, w.product_type, w.hyperv_vmms
            )),
        );
    }
    put(
        "can host a child",
        l.hosting
            .as_ref()
            .map(|h| format!("{}: {}", if h.can_host { "yes" } else { "no" }, h.detail)),
    );
    let accel = e.accel.map(|a| format!(", {a}")).unwrap_or_default();
    Block::Folded {
        summary: format!("{} environment ({}{accel})", l.level, status_word(l.status)),
        facts,
    }
}

fn cell(row: &Row) -> String {
    if row.not_applicable.is_some() {
        return "n/a".into();
    }
    let Some(s) = &row.summary else {
        return match row.level_status {
            LevelStatus::Ok => "error".into(),
            other => status_word(other).into(),
        };
    };
    let mut text = sig(s.median.estimate, 4);
    if let Some(rel) = row.relative {
        text.push_str(&format!(" ({})", percent(rel.estimate)));
    }
    if s.noisy {
        text.push_str(" ~");
    }
    text
}

fn category_table(a: &Analysis, cat: &str) -> Table {
    let levels: Vec<&LevelRecord> = a.doc.levels.iter().collect();
    let mut header = vec!["metric".to_string(), "unit".into(), "better".into()];
    header.extend(levels.iter().map(|l| l.level.to_string()));
    let mut rows = Vec::new();
    for m in a.metrics.iter().filter(|m| category_of(&m.workload) == cat) {
        let mut r = vec![
            m.key(),
            m.unit.clone(),
            if m.higher_is_better {
                "higher"
            } else {
                "lower"
            }
            .into(),
        ];
        for l in &levels {
            let mut text = a.row(l.level, &m.key()).map(cell).unwrap_or_default();
            text.push_str(&caveats::marks(l.result(m)));
            r.push(text);
        }
        rows.push(r);
    }
    let mut geo = vec![
        format!("geo-mean, % of {}", model::catalog::category_reference(cat)),
        String::new(),
        String::new(),
    ];
    let reference = model::catalog::category_reference(cat);
    for l in &levels {
        let mean = a
            .categories
            .iter()
            .find(|c| c.level == l.level && c.category == cat);
        geo.push(match (l.level, l.status, mean) {
            (n, _, _) if n == reference => "100 %".into(),
            (n, _, _) if n < reference => "–".into(),
            (_, _, Some(m)) => percent(m.geo_mean),
            (_, LevelStatus::Ok, None) => "–".into(),
            (_, status, None) => status_word(status).into(),
        });
    }
    Table {
        header,
        rows,
        footer: vec![geo],
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map(|v| v.to_string())
        .unwrap_or_else(|| "–".into())
}

fn env_table(levels: &[LevelRecord]) -> Table {
    let header = [
        "level",
        "status",
        "accel",
        "hypervisor",
        "kernel",
        "vCPUs",
        "memory MiB",
        "disk",
        "tuning",
        "provision s",
        "ready s",
        "deploy s",
        "suite s",
    ];
    let rows = levels
        .iter()
        .map(|l| {
            let e = &l.env;
            vec![
                l.level.to_string(),
                status_word(l.status).into(),
                opt(&e.accel),
                e.hypervisor
                    .as_deref()
                    .map(hypervisor_name)
                    .unwrap_or_else(|| {
                        if l.level.is_host() {
                            "none".into()
                        } else {
                            "–".into()
                        }
                    }),
                opt(&e.kernel),
                opt(&e.vcpus),
                opt(&e.memory_mib),
                opt(&e.disk),
                if e.tuning.is_empty() {
                    "none".into()
                } else {
                    e.tuning.join(" ")
                },
                seconds(l.timings.provision_s),
                seconds(l.timings.ready_s),
                seconds(l.timings.deploy_s),
                seconds(l.timings.suite_s),
            ]
        })
        .collect();
    Table::new(header.iter().map(|s| s.to_string()).collect(), rows)
}

fn not_applicable_table(levels: &[LevelRecord]) -> Table {
    let rows = levels
        .iter()
        .flat_map(|l| {
            l.not_applicable
                .iter()
                .map(|n| vec![l.level.to_string(), n.id.key(), n.reason.clone()])
        })
        .collect();
    Table::new(vec!["level".into(), "metric".into(), "reason".into()], rows)
}

/// A level measured again after the stack lost it: each lost attempt in words, or
/// None when the first attempt was the last.
fn retries_line(l: &LevelRecord) -> Option<String> {
    if l.retries.is_empty() {
        return None;
    }
    let each: Vec<String> = l
        .retries
        .iter()
        .enumerate()
        .map(|(i, r)| {
            format!(
                "attempt {} was lost ({} results kept in run.json's retries, not used here); \
                 {} was brought back up in {:.1} s",
                i + 1,
                r.attempt.results.len(),
                r.relaunched_from,
                r.relaunch_s
            )
        })
        .collect();
    Some(format!(
        "{}; these figures are attempt {}'s",
        each.join("; "),
        l.retries.len() + 1
    ))
}

fn error_table(levels: &[LevelRecord]) -> Table {
    let mut rows = Vec::new();
    for l in levels {
        for (i, r) in l.retries.iter().enumerate() {
            rows.push(vec![
                l.level.to_string(),
                format!("(attempt {}, measured again)", i + 1),
                r.attempt.error.clone().unwrap_or_default(),
            ]);
        }
        if let Some(e) = &l.error {
            rows.push(vec![
                l.level.to_string(),
                format!("(level {})", status_word(l.status)),
                e.clone(),
            ]);
        }
        for e in &l.errors {
            rows.push(vec![
                l.level.to_string(),
                e.workload.clone(),
                e.message.clone(),
            ]);
        }
    }
    Table::new(
        vec!["level".into(), "workload".into(), "message".into()],
        rows,
    )
}
