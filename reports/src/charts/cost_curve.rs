//! `cost-curve`: the cost of nesting. Every metric as a percentage of L0 across levels
//! (L0 is 100 % by definition), oriented so that lower is always slower, in one small
//! panel per category on one shared log scale: the category's metrics in styles that
//! never repeat within the chart, its geometric mean bold and black. Each panel has its
//! own legend below it, so 25 and more metrics stay readable.
//!
//! A figure far above 100 % — a nested level more than [`CLIP`] / 100 times faster than
//! L0 — would stretch the shared scale until every real slowdown sits in a thin band at
//! the bottom. Such points are drawn as a ▲ on the top edge instead, and a note on the
//! chart gives the figure and says why it happens: the catalog's description of the
//! metric and, for a VM exit measured under TCG, that the translator emulates the
//! instruction inline so nothing exits (exit.cpuid at L1 under TCG reads 28 505 % on
//! this project's machines, where L0 itself is a guest and its CPUID does exit).
//! A metric that does not apply at L0 has no reference, so no line; its legend entry
//! says so.

use super::axis::{self, LevelTick};
use super::hover::Hover;
use super::legend::{self, Entry};
use super::style::{self, Canvas, Marker, SeriesStyle};
use super::{de, draw_title, Chart, DrawError, FONT, TITLE_H};
use crate::analysis::Analysis;
use crate::export::format::{hypervisor_name, sig, thousands};
use model::catalog::Layer;
use model::{Accel, Level};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Figures above this percentage of L0 are drawn on the top edge and explained.
pub const CLIP: f64 = 300.0;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    level: u32,
    pct: f64,
    interval: Option<(f64, f64)>,
}

#[derive(Debug, Clone)]
struct Line {
    label: String,
    style: SeriesStyle,
    points: Vec<Point>,
}

#[derive(Debug, Clone)]
struct Panel {
    category: String,
    lines: Vec<Line>,
}

/// All metrics' fractions of L0 against level, one panel per category.
#[derive(Debug, Clone)]
pub struct CostCurve {
    ticks: Vec<LevelTick>,
    panels: Vec<Panel>,
    range: std::ops::Range<f64>,
    notes: Vec<String>,
}

const COLS: usize = 2;
const PANEL_W: u32 = 620;
const PLOT_H: u32 = 330;
const WIDTH: u32 = PANEL_W * COLS as u32;

/// Why `key` at `level` can be faster than L0 by more than the clip.
fn explain(a: &Analysis, key: &str, level: Level, pct: f64) -> String {
    let l = a.doc.level(level);
    let accel = l.and_then(|l| l.env.accel);
    let def = a
        .metrics
        .iter()
        .find(|m| m.key() == key)
        .and_then(|m| m.def());
    let exits =
        def.is_some_and(|(_, d)| matches!(d.layer, Layer::HypervisorKernel | Layer::UserVmm));
    let l0_vm = a
        .doc
        .level(Level::HOST)
        .and_then(|l| l.env.hypervisor.as_deref().map(hypervisor_name));
    let how = accel.map(|a| format!(" ({a})")).unwrap_or_default();
    let mut text = format!(
        "▲ {key} at {level}{how}: {} % of L0, above the {CLIP} % this scale shows.",
        thousands(&sig(pct, 3))
    );
    if exits && accel == Some(Accel::Tcg) {
        text.push_str(
            " Under TCG there is no VM exit: QEMU's translator emulates the instruction inline",
        );
        match l0_vm {
            Some(h) => text.push_str(&format!(
                ", while at L0 (itself a guest of {h}) it exits to the hypervisor below."
            )),
            None => text.push_str(", while at L0 it is handled by the hardware."),
        }
    } else {
        text.push_str(" A level this much faster than L0 does not do the work the way L0 does");
        if let Some((_, d)) = def {
            text.push_str(&format!(" ({})", d.about));
        }
        text.push('.');
    }
    text
}

impl CostCurve {
    /// The cost curve of `a`.
    pub fn new(a: &Analysis) -> CostCurve {
        let mut panels = Vec::new();
        let mut notes = Vec::new();
        let mut index = 0;
        for cat in a.category_names() {
            // Every line starts at 100 % at its reference level: L0, or L1 for the
            // network (L0's net figure is loopback), which then has no L0 point.
            let reference = model::catalog::category_reference(&cat);
            let start = Point {
                level: reference.0,
                pct: 100.0,
                interval: None,
            };
            let mut lines = Vec::new();
            for m in a.metrics.iter().filter(|m| m.category() == cat) {
                let l0_na = a
                    .row(reference, &m.key())
                    .is_some_and(|r| r.not_applicable.is_some());
                let mut points = if l0_na { vec![] } else { vec![start] };
                for r in a
                    .rows
                    .iter()
                    .filter(|r| r.id.same(m) && r.level > reference)
                {
                    if let Some(rel) = r.relative {
                        let pct = rel.estimate * 100.0;
                        if pct > CLIP {
                            notes.push(explain(a, &m.key(), r.level, pct));
                        }
                        points.push(Point {
                            level: r.level.0,
                            pct,
                            interval: Some((rel.low * 100.0, rel.high * 100.0)),
                        });
                    }
                }
                let label = if l0_na {
                    format!("{} (n/a at {reference})", m.key())
                } else {
                    m.key()
                };
                lines.push(Line {
                    label,
                    style: style::series(index),
                    points,
                });
                index += 1;
            }
            let mut points = vec![start];
            points.extend(
                a.categories
                    .iter()
                    .filter(|c| c.category == cat && c.level > reference)
                    .map(|c| Point {
                        level: c.level.0,
                        pct: c.geo_mean * 100.0,
                        interval: None,
                    }),
            );
            lines.push(Line {
                label: format!("{cat} geometric mean"),
                style: style::summary(),
                points,
            });
            panels.push(Panel {
                category: cat,
                lines,
            });
        }
        let shown = panels
            .iter()
            .flat_map(|p| &p.lines)
            .flat_map(|l| &l.points)
            .map(|p| p.pct)
            .filter(|v| *v > 0.0 && *v <= CLIP);
        let (lo, hi) = shown.fold((100.0f64, 100.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let range = axis::log_range(lo.max(0.01), hi);
        let range = range.start..range.end.min(CLIP * 1.25);
        let width = axis::chars_in(WIDTH - 40, 13);
        let mut wrapped: Vec<String> = notes.iter().flat_map(|n| axis::wrap(n, width)).collect();
        if let Some(t) = axis::tuning_note(&[&a.doc]) {
            wrapped.extend(axis::wrap(&t, width));
        }
        CostCurve {
            ticks: axis::level_ticks(&a.doc),
            panels,
            range,
            notes: wrapped,
        }
    }

    fn entries(p: &Panel) -> Vec<Entry> {
        p.lines
            .iter()
            .map(|l| Entry {
                label: l.label.clone(),
                style: l.style,
                line: true,
            })
            .collect()
    }

    fn legend_h(&self) -> u32 {
        self.panels
            .iter()
            .map(|p| legend::height(&Self::entries(p), PANEL_W))
            .max()
            .unwrap_or(0)
    }

    fn cell_h(&self) -> u32 {
        PLOT_H + self.legend_h()
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: DrawingArea<DB, Shift>,
    ) -> Result<Vec<Hover>, DrawError> {
        root.fill(&WHITE).map_err(de)?;
        let mut canvas = Canvas::new(&root);
        let top = draw_title(&canvas, &self.title(), WIDTH)? as i32;
        for (i, p) in self.panels.iter().enumerate() {
            let (col, row) = ((i % COLS) as i32, (i / COLS) as i32);
            let origin = (col * PANEL_W as i32, top + row * self.cell_h() as i32);
            let area = root.clone().shrink(origin, (PANEL_W, PLOT_H));
            self.draw_panel(&mut canvas, &area, p)?;
            let entries = Self::entries(p);
            legend::draw(
                &canvas,
                &entries,
                (origin.0, origin.1 + PLOT_H as i32),
                PANEL_W,
            )?;
        }
        if self.panels.is_empty() {
            let style = (FONT, 20).into_font().color(&style::RED);
            root.draw(&Text::new(
                "no level was measured: nothing to plot",
                (40, top + 40),
                style,
            ))
            .map_err(de)?;
        }
        let rows = self.panels.len().div_ceil(COLS).max(1) as i32;
        legend::draw_notes(&canvas, &self.notes, (0, top + rows * self.cell_h() as i32))?;
        root.present().map_err(de)?;
        Ok(canvas.hovers)
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        canvas: &mut Canvas<'_, DB>,
        area: &DrawingArea<DB, Shift>,
        p: &Panel,
    ) -> Result<(), DrawError> {
        let max_level = self.ticks.iter().map(|t| t.level).max().unwrap_or(0).max(1);
        let reference = model::catalog::category_reference(&p.category);
        let of = if reference.is_host() {
            String::new()
        } else {
            format!(", % of {reference}")
        };
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("{} ({} metrics{of})", p.category, p.lines.len() - 1),
                (FONT, 16),
            )
            .margin(10)
            .x_label_area_size(axis::level_ticks_height(13))
            .y_label_area_size(axis::y_label_width(
                &self.range,
                |v| format!("{} %", super::tick(v)),
                13,
            ))
            .build_cartesian_2d(
                (0..max_level).into_segmented(),
                axis::log_axis_over(self.range.clone()),
            )
            .map_err(de)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(max_level as usize + 2)
            .x_label_formatter(&|_| String::new())
            .x_label_style((FONT, 12).into_font().color(&TRANSPARENT))
            .y_labels(10)
            .y_label_formatter(&|v| format!("{} %", super::tick(*v)))
            .y_desc(format!("% of {reference} (below 100 % = slower)"))
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 13))
            .draw()
            .map_err(de)?;
        let top = self.range.end;
        let at = |l: u32, v: f64| chart.backend_coord(&(SegmentValue::CenterOf(l), v.min(top)));
        let (_, ys) = chart.plotting_area().get_pixel_range();
        axis::draw_level_ticks(canvas, &self.ticks, |l| at(l, 1.0).0, ys.end, 13)?;
        // The geometric mean (last) first, so the thin lines it coincides with stay seen.
        for line in p.lines.iter().rev() {
            let pts: Vec<(i32, i32)> = line.points.iter().map(|q| at(q.level, q.pct)).collect();
            canvas.line(&pts, &line.style)?;
            for q in &line.points {
                let (x, y) = at(q.level, q.pct);
                let off = q.pct > top;
                let (marker, y) = if off {
                    (Marker::TriangleUp, ys.start + 6)
                } else {
                    (line.style.marker, y)
                };
                let r = if line.style.width > 2 { 5 } else { 4 };
                canvas.marker((x, y), marker, r, line.style.color)?;
                let interval = q
                    .interval
                    .map(|(lo, hi)| format!(", 95 % interval {}–{} %", sig(lo, 3), sig(hi, 3)))
                    .unwrap_or_default();
                let clipped = if off { " (off the scale)" } else { "" };
                canvas.hover(
                    (x, y),
                    6,
                    format!(
                        "L{} {}: {} % of L0{interval}{clipped}",
                        q.level,
                        line.label,
                        sig(q.pct, 3)
                    ),
                );
            }
        }
        Ok(())
    }
}

impl Chart for CostCurve {
    fn name(&self) -> String {
        "cost-curve".into()
    }
    fn title(&self) -> String {
        let net = if self.panels.iter().any(|p| p.category == "net") {
            " (net: of L1)"
        } else {
            ""
        };
        format!("Cost of nesting: every metric as % of L0{net}, by category (log scale)")
    }
    fn size(&self) -> (u32, u32) {
        let rows = self.panels.len().div_ceil(COLS).max(1) as u32;
        (
            WIDTH,
            TITLE_H + rows * self.cell_h() + legend::notes_height(self.notes.len()),
        )
    }
    crate::chart_backends!();
}
