//! `levels-<category>`: every metric of one category against nesting level, one panel
//! per metric (each with its own unit on a log y axis, since levels differ up to
//! thousands of times), medians joined by a line, 95 % bootstrap intervals as error bars.
//!
//! The x axis says how each level ran (`L1` over `tcg`, `kvm*` when tuned, `failed`),
//! and a note under the panels lists the tuning flags. When a category's metrics
//! exercise different layers of the stack (the exit probes: some exits are handled by
//! KVM, one by the user-space VMM, some never leave the guest kernel), the panels are
//! grouped by layer in the catalog's order, each group under a heading that says what
//! handles it. A metric without a figure at a level reads `n/a` in grey where it does
//! not apply there, `error` or `≤ 0` in red, at the bottom of its panel, never zero; a
//! level that was not measured at all says so on the axis.

use super::axis::{self, LevelTick};
use super::hover::{figure, Hover};
use super::legend;
use super::style::{self, Canvas, SeriesStyle, GREY, RED};
use super::{de, draw_title, Chart, DrawError, TITLE_H};
use crate::analysis::Analysis;
use model::catalog::Layer;
use model::rundoc::LevelStatus;
use model::MetricId;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One point of a panel: level, median, interval, sample count.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    level: u32,
    median: f64,
    low: f64,
    high: f64,
    n: usize,
}

/// One metric's panel.
#[derive(Debug, Clone)]
struct Panel {
    metric: MetricId,
    layer: Option<Layer>,
    points: Vec<Point>,
    /// Levels without a figure where the level itself was measured, with the word to
    /// show and why.
    gaps: Vec<(u32, &'static str, String)>,
}

/// Metrics of one category against level.
#[derive(Debug, Clone)]
pub struct LevelsChart {
    category: String,
    ticks: Vec<LevelTick>,
    /// Panels grouped by layer: the heading (None when the category has one layer)
    /// and the panels under it.
    groups: Vec<(Option<Layer>, Vec<Panel>)>,
    notes: Vec<String>,
}

const COLS: usize = 3;
const PANEL: (u32, u32) = (420, 300);
const WIDTH: u32 = PANEL.0 * COLS as u32;

fn panel(a: &Analysis, m: &MetricId) -> Panel {
    let mut points = Vec::new();
    let mut gaps = Vec::new();
    for row in a.rows.iter().filter(|r| r.id.same(m)) {
        let l = row.level.0;
        match &row.summary {
            None if row.not_applicable.is_some() => {
                gaps.push((l, "n/a", row.not_applicable.clone().unwrap_or_default()))
            }
            Some(s) if s.median.estimate > 0.0 => points.push(Point {
                level: l,
                median: s.median.estimate,
                low: s.median.low.max(s.median.estimate * 1e-6),
                high: s.median.high,
                n: s.n,
            }),
            Some(_) => gaps.push((l, "≤ 0", "a median of zero or less".into())),
            None if row.level_status == LevelStatus::Ok => gaps.push((
                l,
                "error",
                row.problem.clone().unwrap_or_else(|| "not measured".into()),
            )),
            // The axis says the level failed or was skipped.
            None => {}
        }
    }
    Panel {
        metric: m.clone(),
        layer: m.def().map(|(_, d)| d.layer),
        points,
        gaps,
    }
}

/// `items` grouped by the layer each exercises, in the catalog's layer order (unknown
/// metrics last); one group without a heading when they all exercise one layer.
pub fn layer_groups<T: Clone>(
    items: Vec<T>,
    layer: impl Fn(&T) -> Option<Layer>,
) -> Vec<(Option<Layer>, Vec<T>)> {
    let mut layers: Vec<Option<Layer>> = Vec::new();
    for i in &items {
        if !layers.contains(&layer(i)) {
            layers.push(layer(i));
        }
    }
    if layers.len() <= 1 {
        return vec![(None, items)];
    }
    let rank = |l: &Option<Layer>| match l {
        Some(l) => Layer::ALL.iter().position(|x| x == l).unwrap_or(0),
        None => Layer::ALL.len(),
    };
    layers.sort_by_key(rank);
    layers
        .iter()
        .map(|l| {
            (
                *l,
                items.iter().filter(|i| layer(i) == *l).cloned().collect(),
            )
        })
        .collect()
}

/// Height of a layer group's heading.
pub const GROUP_H: u32 = 26;
/// Draw the heading of a group of `layer` at `y` across `width`.
pub fn draw_group_heading<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    layer: Layer,
    y: i32,
    width: u32,
) -> Result<(), DrawError> {
    let text = format!("{} — {}", layer.name(), layer.about());
    canvas.text(&text, (16, y + 5), 15, RGBColor(30, 30, 90))?;
    let line_y = y + GROUP_H as i32 - 2;
    canvas.segment(
        (16, line_y),
        (width as i32 - 16, line_y),
        RGBColor(190, 190, 210),
        1,
    )
}

impl LevelsChart {
    /// The chart of `category` in `a`.
    pub fn new(a: &Analysis, category: &str) -> LevelsChart {
        let panels: Vec<Panel> = a
            .metrics
            .iter()
            .filter(|m| m.category() == category)
            .map(|m| panel(a, m))
            .collect();
        let groups = layer_groups(panels, |p| p.layer);
        let notes = axis::tuning_note(&[&a.doc])
            .map(|n| axis::wrap(&n, axis::chars_in(WIDTH - 40, 13)))
            .unwrap_or_default();
        LevelsChart {
            category: category.to_string(),
            ticks: axis::level_ticks(&a.doc),
            groups,
            notes,
        }
    }

    fn grouped(&self) -> bool {
        self.groups.iter().any(|(l, _)| l.is_some())
    }

    fn rows(&self, panels: usize) -> u32 {
        panels.div_ceil(COLS).max(1) as u32
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: DrawingArea<DB, Shift>,
    ) -> Result<Vec<Hover>, DrawError> {
        root.fill(&WHITE).map_err(de)?;
        let mut canvas = Canvas::new(&root);
        let mut y = draw_title(&canvas, &self.title(), WIDTH)? as i32;
        let mut index = 0;
        for (layer, panels) in &self.groups {
            if let Some(l) = layer {
                draw_group_heading(&canvas, *l, y, WIDTH)?;
                y += GROUP_H as i32;
            }
            for (i, p) in panels.iter().enumerate() {
                let (col, row) = ((i % COLS) as i32, (i / COLS) as i32);
                let area = root
                    .clone()
                    .shrink((col * PANEL.0 as i32, y + row * PANEL.1 as i32), PANEL);
                draw_panel(&mut canvas, &area, p, &self.ticks, style::series(index))?;
                index += 1;
            }
            y += (self.rows(panels.len()) * PANEL.1) as i32;
        }
        legend::draw_notes(&canvas, &self.notes, (0, y))?;
        root.present().map_err(de)?;
        Ok(canvas.hovers)
    }
}

fn draw_panel<DB: DrawingBackend>(
    canvas: &mut Canvas<'_, DB>,
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
    ticks: &[LevelTick],
    st: SeriesStyle,
) -> Result<(), DrawError> {
    let lo = p.points.iter().map(|q| q.low).fold(f64::INFINITY, f64::min);
    let hi = p.points.iter().map(|q| q.high).fold(0.0, f64::max);
    let chart = axis::level_panel(area, &p.metric, ticks, lo, hi)?;
    let at = |l: u32, v: f64| chart.backend_coord(&(l, v));
    let (_, ys) = chart.plotting_area().get_pixel_range();
    let x_of = |l: u32| at(l, 1.0).0;
    axis::draw_level_ticks(canvas, ticks, x_of, ys.end, 12)?;
    let line: Vec<(i32, i32)> = p.points.iter().map(|q| at(q.level, q.median)).collect();
    canvas.line(&line, &st)?;
    for q in &p.points {
        let (x, y) = at(q.level, q.median);
        canvas.interval(x, at(q.level, q.low).1, at(q.level, q.high).1, st.color)?;
        canvas.marker((x, y), st.marker, 4, st.color)?;
        let text = format!(
            "L{} {}: {}",
            q.level,
            p.metric.key(),
            figure(
                q.median,
                q.low,
                q.high,
                &p.metric.unit,
                &format!("n = {} samples", q.n)
            )
        );
        canvas.hover((x, y), 7, text);
    }
    for (level, word, why) in &p.gaps {
        let color = if *word == "n/a" { GREY } else { RED };
        let x = x_of(*level);
        canvas.text_centered(word, (x, ys.end - 22), 13, color)?;
        canvas.hover(
            (x, ys.end - 15),
            10,
            format!("L{level} {}: {word} — {why}", p.metric.key()),
        );
    }
    Ok(())
}

impl Chart for LevelsChart {
    fn name(&self) -> String {
        format!("levels-{}", self.category)
    }
    fn title(&self) -> String {
        let grouped = if self.grouped() {
            ", grouped by the layer that handles them"
        } else {
            ""
        };
        format!(
            "{}: median per nesting level, 95 % CI (log scale){grouped}",
            self.category
        )
    }
    fn size(&self) -> (u32, u32) {
        let panels: u32 = self
            .groups
            .iter()
            .map(|(_, ps)| self.rows(ps.len()) * PANEL.1)
            .sum();
        let heads = if self.grouped() {
            GROUP_H * self.groups.len() as u32
        } else {
            0
        };
        (
            WIDTH,
            TITLE_H + heads + panels + legend::notes_height(self.notes.len()),
        )
    }
    crate::chart_backends!();
}
