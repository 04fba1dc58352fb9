//! The configuration comparison's level axis, measured on the SVG it writes: each level
//! of N sits at the centre of its Nth of the plot's width — one level in the middle,
//! two at a quarter and three quarters — so a comparison of runs with one level
//! (`--levels 0`) or two leaves no half of a panel empty for a level that does not
//! exist; and a single level's inputs stand side by side, apart enough that their
//! intervals do not touch. Inputs are generated runs (`reports::fixtures`) cut to the
//! levels asked for; the files stay in `target/tmp/reports-tests/configs-layout-*`.

mod common;

use reports::compare::RunSet;
use reports::configs::{Configs, Input};
use reports::fixtures::{self, Spec};

/// The base and `fields`' variants, each measuring L0..=`levels`, `runs` runs each.
fn configs(fields: &[&str], levels: u32, runs: usize) -> Configs {
    let mut specs = vec![("base", Spec::default())];
    for f in fields {
        let (_, spec) = fixtures::variants()
            .into_iter()
            .find(|(v, _)| v == f)
            .unwrap();
        specs.push((f, spec));
    }
    let inputs = specs
        .into_iter()
        .map(|(f, mut spec)| {
            spec.levels = levels;
            let runs = fixtures::runs(&spec, runs);
            Input {
                set: RunSet::new(format!("runs/{f}"), runs).unwrap(),
                label: None,
            }
        })
        .collect();
    Configs::new(inputs)
}

/// The value of attribute `name` in the element text `el`.
fn attr<'a>(el: &'a str, name: &str) -> Option<&'a str> {
    let at = el.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(&el[at..at + el[at..].find('"')?])
}

/// Each panel's plot: its x axis, a black line from `x1` to `x2` at `y`.
fn plots(svg: &str) -> Vec<(i32, i32, i32)> {
    svg.split("<polyline")
        .skip(1)
        .filter(|el| attr(el, "stroke") == Some("#000000"))
        .filter_map(|el| {
            let pts: Vec<(i32, i32)> = attr(el, "points")?
                .split_whitespace()
                .filter_map(|p| {
                    let (x, y) = p.split_once(',')?;
                    Some((x.parse().ok()?, y.parse().ok()?))
                })
                .collect();
            match pts.as_slice() {
                [a, b] if a.1 == b.1 && b.0 - a.0 > 100 => Some((a.0, b.0, a.1)),
                _ => None,
            }
        })
        .collect()
}

/// Every point's hover target: (x, y, level).
fn points(svg: &str) -> Vec<(i32, i32, u32)> {
    svg.split("<circle class=\"hover\"")
        .skip(1)
        .map(|el| {
            let n = |a| attr(el, a).unwrap().parse::<i32>().unwrap();
            let tip = attr(el, "data-tip").unwrap();
            // `input — L1 key: …`, or `L1 key: n/a for every input — …`.
            let number = |s: &str| s.split(' ').next()?.parse::<u32>().ok();
            let level = tip
                .match_indices(" — L")
                .find_map(|(i, m)| number(&tip[i + m.len()..]))
                .or_else(|| number(tip.strip_prefix('L')?))
                .unwrap_or_else(|| panic!("no level in {tip}"));
            (n("cx"), n("cy"), level)
        })
        .collect()
}

/// The plot a point at (x, y) belongs to: the nearest axis below it, across it.
fn plot_of(plots: &[(i32, i32, i32)], x: i32, y: i32) -> (i32, i32, i32) {
    *plots
        .iter()
        .filter(|p| p.0 <= x && x <= p.1 && p.2 >= y)
        .min_by_key(|p| p.2 - y)
        .unwrap_or_else(|| panic!("no plot under the point at ({x}, {y})"))
}

/// Check chart `name` of a comparison with `levels + 1` levels: every level's points
/// centred on its share of its plot; with one level, inputs at least `gap` px apart.
fn check(svg: &str, name: &str, levels: u32, inputs: usize) {
    let plots = plots(svg);
    let points = points(svg);
    assert!(
        !plots.is_empty() && !points.is_empty(),
        "{name}: nothing drawn"
    );
    let count = f64::from(levels + 1);
    for plot in &plots {
        for level in 0..=levels {
            let mut xs: Vec<i32> = points
                .iter()
                .filter(|&&(x, y, l)| l == level && plot_of(&plots, x, y) == *plot)
                .map(|p| p.0)
                .collect();
            if xs.is_empty() {
                continue;
            }
            let width = f64::from(plot.1 - plot.0);
            let mean = xs.iter().map(|&x| f64::from(x)).sum::<f64>() / xs.len() as f64;
            let at = (mean - f64::from(plot.0)) / width;
            let want = (f64::from(level) + 0.5) / count;
            assert!(
                (at - want).abs() < 0.04,
                "{name}: L{level}'s points centred at {:.0} % of the plot {plot:?}, not {:.0} %",
                at * 100.0,
                want * 100.0
            );
            if levels == 0 && xs.len() == inputs {
                xs.sort();
                let gaps: Vec<i32> = xs.windows(2).map(|w| w[1] - w[0]).collect();
                // Interval caps are 8 px wide: 16 px apart leaves as much between them.
                assert!(
                    gaps.iter().all(|&g| g >= 16),
                    "{name}: one level's inputs crowd together: {xs:?}"
                );
                let (lo, hi) = (f64::from(xs[0]), f64::from(xs[xs.len() - 1]));
                assert!(
                    lo > f64::from(plot.0) + width / 4.0 && hi < f64::from(plot.1) - width / 4.0,
                    "{name}: one level's inputs spill out of the plot's middle half: {xs:?}"
                );
            }
        }
    }
}

#[test]
fn one_and_two_level_comparisons_fill_their_panels() {
    let six: &[&str] = &["qemu", "kernel", "tuning", "qemu_args", "host"];
    let cases: [(&str, &[&str], u32, usize); 5] = [
        ("1x2", &["qemu"], 0, 3),
        ("1x6", six, 0, 2),
        ("2x2", &["qemu"], 1, 1),
        ("2x3", &["kernel", "tuning"], 1, 2),
        ("5x6", six, 4, 2),
    ];
    for (tag, fields, levels, runs) in cases {
        let c = configs(fields, levels, runs);
        assert_eq!(c.levels.len(), levels as usize + 1, "{tag}");
        let dir = common::scratch(&format!("configs-layout-{tag}"));
        reports::configs::render(&c, &dir).unwrap();
        for cat in ["cpu", "exit"] {
            let svg = dir.join(format!("charts/configs-{cat}.svg"));
            let svg = std::fs::read_to_string(svg).unwrap();
            assert!(dir.join(format!("charts/configs-{cat}.png")).exists());
            check(&svg, &format!("{tag} {cat}"), levels, fields.len() + 1);
        }
    }
}
