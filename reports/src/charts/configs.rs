//! `configs-<category>`: several configurations side by side. One panel per metric of
//! the category (its own unit, log y axis), levels on the x axis, one line per input in
//! a style of its own with its interval as an error bar; the inputs' points are spread
//! a little around each level so their bars do not hide each other. Each level present
//! gets an equal share of the width (`axis::LevelX`): a comparison of one level (runs
//! of `--levels 0`) has it in the middle of each panel, its inputs side by side with
//! more room between them, as there are no lines to keep together. The legend names
//! each input by what differs between them (or its `--label`) and how many runs it
//! has; a note says which interval each kind of input carries. A level an input did not
//! measure is a cross at the bottom of the panel in that input's colour; a metric that
//! does not apply is `n/a` (or a grey ring when it applies for some inputs only).
//! Panels are grouped by the layer their metric exercises, as in a run's charts.

use super::axis::{self, LevelTick};
use super::hover::{figure, Hover};
use super::legend::{self, Entry};
use super::levels::{draw_group_heading, layer_groups, GROUP_H};
use super::style::{self, Canvas, Marker, GREY};
use super::{de, draw_title, Chart, DrawError, TITLE_H};
use crate::configs::{Cell, Configs, Spread};
use model::MetricId;
use plotters::coord::Shift;
use plotters::prelude::*;

#[derive(Debug, Clone)]
struct Panel {
    metric: MetricId,
    layer: Option<model::catalog::Layer>,
    /// `cells[side]`: (level, cell) for every level.
    cells: Vec<Vec<(u32, Cell)>>,
}

/// Several inputs' figures of one category per level.
#[derive(Debug, Clone)]
pub struct ConfigsChart {
    category: String,
    ticks: Vec<LevelTick>,
    /// Each input's label, and its legend entry (with its number of runs).
    labels: Vec<String>,
    legend: Vec<String>,
    /// Panels grouped by the layer their metric exercises, as in the run's charts.
    groups: Vec<(Option<model::catalog::Layer>, Vec<Panel>)>,
    notes: Vec<String>,
}

const COLS: usize = 3;
const PANEL: (u32, u32) = (420, 300);
const WIDTH: u32 = PANEL.0 * COLS as u32;

/// The most pixels between neighbouring inputs' points at one level. With several
/// levels the points stay close to their level so each input's line reads as one; a
/// single level has no lines and the whole plot to itself, so its inputs stand side by
/// side, far enough apart to tell each interval from the next.
fn spread_cap(levels: u32) -> f64 {
    if levels > 1 {
        12.0
    } else {
        30.0
    }
}

impl ConfigsChart {
    /// The chart of `category` in `c`.
    pub fn new(c: &Configs, category: &str) -> ConfigsChart {
        let panels: Vec<Panel> = c
            .metrics_of(category)
            .into_iter()
            .map(|m| Panel {
                metric: c.metrics[m].clone(),
                layer: c.metrics[m].def().map(|(_, d)| d.layer),
                cells: (0..c.sides.len())
                    .map(|s| {
                        c.levels
                            .iter()
                            .map(|&l| (l.0, c.cell(s, l, m).clone()))
                            .collect()
                    })
                    .collect(),
            })
            .collect();
        let docs: Vec<_> = c.sides.iter().map(|s| &s.doc).collect();
        let labels: Vec<String> = c.sides.iter().map(|s| s.label.clone()).collect();
        let legend = c
            .sides
            .iter()
            .map(|s| {
                let runs = if s.runs == 1 {
                    "1 run".to_string()
                } else {
                    format!("{} runs", s.runs)
                };
                format!("{} ({runs})", s.label)
            })
            .collect();
        let mut notes = Vec::new();
        let kinds: Vec<Spread> = c.sides.iter().map(|s| s.spread).collect();
        let mut said = Vec::new();
        for k in kinds {
            if !said.contains(&k) {
                said.push(k);
            }
        }
        let spreads: Vec<&str> = said
            .iter()
            .map(|k| match k {
                Spread::AcrossRuns => "an input of several runs shows the median of its runs' medians with the 95 % interval across runs",
                Spread::InRun => "an input of one run shows its median with the in-run 95 % bootstrap interval (narrower than run-to-run spread)",
            })
            .collect();
        notes.push(format!("Intervals: {}.", spreads.join("; ")));
        if let Some(t) = axis::tuning_note(&docs) {
            notes.push(t);
        }
        let width = axis::chars_in(WIDTH - 40, 13);
        ConfigsChart {
            category: category.to_string(),
            ticks: axis::merged_ticks(&docs),
            labels,
            legend,
            groups: layer_groups(panels, |p| p.layer),
            notes: notes.iter().flat_map(|n| axis::wrap(n, width)).collect(),
        }
    }

    fn entries(&self) -> Vec<Entry> {
        self.legend
            .iter()
            .enumerate()
            .map(|(i, l)| Entry {
                label: l.clone(),
                style: style::series(i),
                line: true,
            })
            .collect()
    }

    fn panels_h(&self) -> u32 {
        let heads = if self.groups.len() > 1 {
            GROUP_H * self.groups.len() as u32
        } else {
            0
        };
        let rows: u32 = self
            .groups
            .iter()
            .map(|(_, ps)| ps.len().div_ceil(COLS).max(1) as u32)
            .sum();
        heads + rows * PANEL.1
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: DrawingArea<DB, Shift>,
    ) -> Result<Vec<Hover>, DrawError> {
        root.fill(&WHITE).map_err(de)?;
        let mut canvas = Canvas::new(&root);
        let top = draw_title(&canvas, &self.title(), WIDTH)? as i32;
        let mut y = top;
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
                self.draw_panel(&mut canvas, &area, p)?;
            }
            y += (panels.len().div_ceil(COLS).max(1) as u32 * PANEL.1) as i32;
        }
        legend::draw(&canvas, &self.entries(), (0, y), WIDTH)?;
        let y = y + legend::height(&self.entries(), WIDTH) as i32;
        legend::draw_notes(&canvas, &self.notes, (0, y))?;
        root.present().map_err(de)?;
        Ok(canvas.hovers)
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        canvas: &mut Canvas<'_, DB>,
        area: &DrawingArea<DB, Shift>,
        p: &Panel,
    ) -> Result<(), DrawError> {
        let figures = || {
            p.cells.iter().flatten().filter_map(|(_, c)| match c {
                Cell::Figure(f) if f.median > 0.0 => Some(*f),
                _ => None,
            })
        };
        let lo = figures()
            .map(|f| f.low.max(f.median * 1e-6))
            .fold(f64::INFINITY, f64::min);
        let hi = figures().map(|f| f.high).fold(0.0, f64::max);
        let chart = axis::level_panel(area, &p.metric, &self.ticks, lo, hi)?;
        let at = |l: u32, v: f64| chart.backend_coord(&(l, v));
        let (xs, ys) = chart.plotting_area().get_pixel_range();
        axis::draw_level_ticks(canvas, &self.ticks, |l| at(l, 1.0).0, ys.end, 12)?;
        let n = p.cells.len().max(1) as f64;
        let levels = axis::LevelX::of(&self.ticks).count();
        let seg = f64::from(xs.end - xs.start) / f64::from(levels);
        let step = (seg * 0.5 / n).min(spread_cap(levels));
        let dx = |side: usize| ((side as f64 - (n - 1.0) / 2.0) * step).round() as i32;
        // Hover targets no wider than the spread, so each point keeps its own.
        let r = ((step / 2.0).floor() as u32).clamp(3, 7);
        let bottom = ys.end - 8;
        let key = p.metric.key();
        for (side, cells) in p.cells.iter().enumerate() {
            let st = style::series(side);
            let label = &self.labels[side];
            let pts: Vec<(i32, i32)> = cells
                .iter()
                .filter_map(|(l, c)| match c {
                    Cell::Figure(f) if f.median > 0.0 => {
                        let (x, y) = at(*l, f.median);
                        Some((x + dx(side), y))
                    }
                    _ => None,
                })
                .collect();
            canvas.line(&pts, &st)?;
            for (l, c) in cells {
                let x = at(*l, 1.0).0 + dx(side);
                match c {
                    Cell::Figure(f) if f.median > 0.0 => {
                        let y = at(*l, f.median).1;
                        canvas.interval(
                            x,
                            at(*l, f.low.max(f.median * 1e-6)).1,
                            at(*l, f.high).1,
                            st.color,
                        )?;
                        canvas.marker((x, y), st.marker, 4, st.color)?;
                        let n = if f.runs > 1 {
                            format!("{} runs (interval across runs)", f.runs)
                        } else {
                            format!("n = {} samples (in-run interval)", f.samples)
                        };
                        let text = figure(f.median, f.low, f.high, &p.metric.unit, &n);
                        canvas.hover((x, y), r, format!("{label} — L{l} {key}: {text}"));
                    }
                    Cell::Failed(word) => {
                        canvas.marker((x, bottom), Marker::Cross, 4, st.color)?;
                        canvas.hover((x, bottom), r, format!("{label} — L{l}: {word}"));
                    }
                    Cell::NotApplicable(why) if !self.all_na(p, *l) => {
                        canvas.marker((x, bottom), Marker::Ring, 4, GREY)?;
                        canvas.hover((x, bottom), r, format!("{label} — L{l} {key}: n/a — {why}"));
                    }
                    _ => {}
                }
            }
        }
        for t in &self.ticks {
            if self.all_na(p, t.level) {
                let x = at(t.level, 1.0).0;
                canvas.text_centered("n/a", (x, ys.end - 22), 13, GREY)?;
                let why = p.cells.iter().flatten().find_map(|(l, c)| match c {
                    Cell::NotApplicable(w) if *l == t.level => Some(w.clone()),
                    _ => None,
                });
                canvas.hover(
                    (x, ys.end - 15),
                    10,
                    format!(
                        "L{} {key}: n/a for every input — {}",
                        t.level,
                        why.unwrap_or_default()
                    ),
                );
            }
        }
        Ok(())
    }

    /// Whether `level` is not applicable for every input of `p`.
    fn all_na(&self, p: &Panel, level: u32) -> bool {
        p.cells.iter().all(|cells| {
            cells
                .iter()
                .any(|(l, c)| *l == level && matches!(c, Cell::NotApplicable(_)))
        })
    }
}

impl Chart for ConfigsChart {
    fn name(&self) -> String {
        format!("configs-{}", self.category)
    }
    fn title(&self) -> String {
        format!(
            "{}: {} configurations per nesting level, with intervals (log scale)",
            self.category,
            self.labels.len()
        )
    }
    fn size(&self) -> (u32, u32) {
        (
            WIDTH,
            TITLE_H
                + self.panels_h()
                + legend::height(&self.entries(), WIDTH)
                + legend::notes_height(self.notes.len()),
        )
    }
    crate::chart_backends!();
}
