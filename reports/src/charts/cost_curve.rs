//! `cost-curve`: the cost of nesting. Every metric as a percentage of L0 across levels
//! on one log axis (L0 is 100 % by definition), oriented so that lower is always slower,
//! plus each category's geometric mean as a thick black-edged line. The legend sits in
//! its own strip below the plot. A metric that does not apply at L0 has no reference,
//! so no line; its legend entry says so.

use super::legend::{self, Entry};
use super::{de, log_axis, palette, tick, Chart, DrawError, FONT};
use crate::analysis::{Analysis, KNOWN_CATEGORY_COLORS};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One line: label, colour, thick or not, and (level, percent) points.
#[derive(Debug, Clone)]
struct Line {
    entry: Entry,
    points: Vec<(u32, f64)>,
}

/// All metrics' fractions of L0 against level.
#[derive(Debug, Clone)]
pub struct CostCurve {
    max_level: u32,
    lines: Vec<Line>,
}

const WIDTH: u32 = 1100;
const PLOT_H: u32 = 600;
const LEGEND_COLS: usize = 4;

impl CostCurve {
    /// The cost curve of `a`.
    pub fn new(a: &Analysis) -> CostCurve {
        let max_level = a.doc.deepest().0;
        let mut lines = Vec::new();
        for (i, m) in a.metrics.iter().enumerate() {
            // L0 is 100 % of itself only where the metric applies there.
            let l0_na = a
                .row(model::Level::HOST, &m.key())
                .is_some_and(|r| r.not_applicable.is_some());
            let mut points = if l0_na { vec![] } else { vec![(0, 100.0)] };
            points.extend(
                a.rows
                    .iter()
                    .filter(|r| r.id.same(m) && !r.level.is_host())
                    .filter_map(|r| r.relative.map(|rel| (r.level.0, rel.estimate * 100.0))),
            );
            let entry = Entry {
                label: if l0_na {
                    format!("{} (n/a at L0)", m.key())
                } else {
                    m.key()
                },
                color: palette(i),
                thick: false,
            };
            lines.push(Line { entry, points });
        }
        for (i, cat) in a.category_names().iter().enumerate() {
            let mut points = vec![(0, 100.0)];
            points.extend(
                a.categories
                    .iter()
                    .filter(|c| &c.category == cat)
                    .map(|c| (c.level.0, c.geo_mean * 100.0)),
            );
            let color = KNOWN_CATEGORY_COLORS
                .get(i)
                .copied()
                .map(|(r, g, b)| RGBColor(r, g, b))
                .unwrap_or(BLACK);
            let entry = Entry {
                label: format!("{cat} (geo-mean)"),
                color,
                thick: true,
            };
            lines.push(Line { entry, points });
        }
        CostCurve { max_level, lines }
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        root.fill(&WHITE).map_err(de)?;
        let root = root.titled(&self.title(), (FONT, 22)).map_err(de)?;
        let (plot, strip) = root.split_vertically(PLOT_H);
        let values = self.lines.iter().flat_map(|l| l.points.iter().map(|p| p.1));
        let (lo, hi) = values.fold((100.0f64, 100.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let mut chart = ChartBuilder::on(&plot)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(
                (0..self.max_level.max(1)).into_segmented(),
                log_axis(lo, hi),
            )
            .map_err(de)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(self.max_level as usize + 2)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(l) => format!("L{l}"),
                _ => String::new(),
            })
            .y_labels(10)
            .y_label_formatter(&|v| format!("{} %", tick(*v)))
            .x_desc("nesting level")
            .y_desc("% of L0 (below 100 % = slower)")
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(de)?;
        let at = |l: u32| SegmentValue::CenterOf(l);
        for line in &self.lines {
            let (width, radius) = if line.entry.thick { (4, 5) } else { (1, 3) };
            let color = line.entry.color;
            chart
                .draw_series(LineSeries::new(
                    line.points.iter().map(|&(l, v)| (at(l), v)),
                    color.stroke_width(width),
                ))
                .map_err(de)?;
            chart
                .draw_series(
                    line.points
                        .iter()
                        .map(|&(l, v)| Circle::new((at(l), v), radius, color.filled())),
                )
                .map_err(de)?;
        }
        if self.lines.is_empty() {
            let (w, h) = plot.dim_in_pixel();
            let style = (FONT, 20).into_font().color(&RGBColor(200, 30, 30));
            plot.draw(&Text::new(
                "no level was measured: nothing to plot",
                (w as i32 / 2 - 180, h as i32 / 2),
                style,
            ))
            .map_err(de)?;
        }
        let entries: Vec<Entry> = self.lines.iter().map(|l| l.entry.clone()).collect();
        legend::draw(&strip, &entries, LEGEND_COLS)?;
        root.present().map_err(de)
    }
}

impl Chart for CostCurve {
    fn name(&self) -> String {
        "cost-curve".into()
    }
    fn title(&self) -> String {
        "Cost of nesting: every metric as % of L0 (log scale)".into()
    }
    fn size(&self) -> (u32, u32) {
        (
            WIDTH,
            40 + PLOT_H + legend::height(self.lines.len(), LEGEND_COLS),
        )
    }
    crate::chart_backends!();
}
