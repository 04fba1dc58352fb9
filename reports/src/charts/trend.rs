//! `trend-L<n>`: every metric of one level over the runs of a history, one panel per
//! metric (its own unit, log y axis), per-run medians joined by a line with their 95 %
//! intervals, and each change point as a vertical line — red for a change for the
//! worse, green for one for the better — labelled with its relative change. Each panel
//! has its own series style; hovering a point gives the run, its median and interval.

use super::axis;
use super::hover::{figure, Hover};
use super::style::{self, Canvas, SeriesStyle};
use super::{de, draw_title, log_axis, log_range, tick, Chart, DrawError, FONT, TITLE_H};
use crate::trend::Series;
use model::Level;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The series of one level.
#[derive(Debug, Clone)]
pub struct TrendChart {
    level: Level,
    series: Vec<Series>,
}

const COLS: usize = 3;
const PANEL: (u32, u32) = (460, 300);

impl TrendChart {
    /// One chart per level that `series` cover, in level order.
    pub fn per_level(series: &[Series]) -> Vec<TrendChart> {
        let mut levels: Vec<Level> = series.iter().map(|s| s.level).collect();
        levels.sort();
        levels.dedup();
        levels
            .into_iter()
            .map(|level| TrendChart {
                level,
                series: series
                    .iter()
                    .filter(|s| s.level == level && !s.points.is_empty())
                    .cloned()
                    .collect(),
            })
            .collect()
    }

    fn grid(&self) -> (usize, usize) {
        let cols = self.series.len().clamp(1, COLS);
        (self.series.len().div_ceil(cols).max(1), cols)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: DrawingArea<DB, Shift>,
    ) -> Result<Vec<Hover>, DrawError> {
        root.fill(&WHITE).map_err(de)?;
        let mut canvas = Canvas::new(&root);
        let top = draw_title(&canvas, &self.title(), self.size().0)? as i32;
        let (_, cols) = self.grid();
        for (i, s) in self.series.iter().enumerate() {
            let (col, row) = ((i % cols) as i32, (i / cols) as i32);
            let area = root
                .clone()
                .shrink((col * PANEL.0 as i32, top + row * PANEL.1 as i32), PANEL);
            draw_panel(&mut canvas, &area, s, style::series(i))?;
        }
        root.present().map_err(de)?;
        Ok(canvas.hovers)
    }
}

fn draw_panel<DB: DrawingBackend>(
    canvas: &mut Canvas<'_, DB>,
    area: &DrawingArea<DB, Shift>,
    s: &Series,
    st: SeriesStyle,
) -> Result<(), DrawError> {
    let lo = s.points.iter().map(|p| p.low).fold(f64::INFINITY, f64::min);
    let hi = s.points.iter().map(|p| p.high).fold(0.0, f64::max);
    let n = s.points.len();
    let direction = if s.id.higher_is_better {
        "higher is better"
    } else {
        "lower is better"
    };
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{} ({direction})", s.id.key()), (FONT, 15))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(axis::y_label_width(&axis::log_range(lo, hi), tick, 12))
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5).max(0.5), log_axis(lo, hi))
        .map_err(de)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n.min(10))
        .x_label_formatter(&|v| format!("{:.0}", v + 1.0))
        .x_desc("run (oldest first)")
        .y_labels(6)
        .y_label_formatter(&|v| tick(*v))
        .y_desc(s.id.unit.clone())
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .draw()
        .map_err(de)?;
    let x = |i: usize| i as f64;
    let at = |i: usize, v: f64| chart.backend_coord(&(x(i), v));
    let line: Vec<(i32, i32)> = s
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| at(i, p.median))
        .collect();
    canvas.line(&line, &st)?;
    for (i, p) in s.points.iter().enumerate() {
        let (px, py) = at(i, p.median);
        canvas.interval(px, at(i, p.low).1, at(i, p.high).1, st.color)?;
        canvas.marker((px, py), st.marker, 3, st.color)?;
        let what = figure(p.median, p.low, p.high, &s.id.unit, "in-run bootstrap");
        canvas.hover(
            (px, py),
            6,
            format!(
                "run {} ({}), {} {}: {what}",
                p.run_id,
                p.started_at,
                s.level,
                s.id.key()
            ),
        );
    }
    let (red, green) = (RGBColor(200, 30, 30), RGBColor(20, 140, 60));
    // The change line spans the whole plot, its label at the top.
    let span = log_range(lo, hi);
    for c in &s.changes {
        let col = if c.worse { red } else { green };
        let at = c.index as f64 - 0.5;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(at, span.start), (at, span.end)],
                col.stroke_width(2),
            )))
            .map_err(de)?;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((at, span.end))
                    + Text::new(
                        format!("{:+.0} %", c.change * 100.0),
                        (4, 2),
                        (FONT, 13).into_font().color(&col),
                    ),
            ))
            .map_err(de)?;
    }
    Ok(())
}

impl Chart for TrendChart {
    fn name(&self) -> String {
        format!("trend-{}", self.level)
    }
    fn title(&self) -> String {
        format!(
            "{}: per-run median over time, 95 % CI, change points (log scale)",
            self.level
        )
    }
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = self.grid();
        (PANEL.0 * cols as u32, PANEL.1 * rows as u32 + TITLE_H)
    }
    crate::chart_backends!();
}
