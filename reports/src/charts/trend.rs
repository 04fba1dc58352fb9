//! `trend-L<n>`: every metric of one level over the runs of a history, one panel per
//! metric (its own unit, log y axis), per-run medians joined by a line with their 95 %
//! intervals, and each change point as a vertical line — red for a change for the
//! worse, green for one for the better — labelled with its relative change.

use super::{de, log_axis, log_range, palette, tick, Chart, DrawError, FONT};
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

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        root.fill(&WHITE).map_err(de)?;
        let root = root.titled(&self.title(), (FONT, 22)).map_err(de)?;
        let (rows, cols) = self.grid();
        for (i, (s, area)) in self
            .series
            .iter()
            .zip(root.split_evenly((rows, cols)))
            .enumerate()
        {
            draw_panel(&area, s, palette(i))?;
        }
        root.present().map_err(de)
    }
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Series,
    color: RGBColor,
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
        .y_label_area_size(62)
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
    chart
        .draw_series(LineSeries::new(
            s.points.iter().enumerate().map(|(i, p)| (x(i), p.median)),
            color.stroke_width(2),
        ))
        .map_err(de)?;
    for (i, p) in s.points.iter().enumerate() {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x(i), p.low), (x(i), p.high)],
                color.stroke_width(1),
            )))
            .map_err(de)?;
        chart
            .draw_series(std::iter::once(Circle::new(
                (x(i), p.median),
                3,
                color.filled(),
            )))
            .map_err(de)?;
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
        (PANEL.0 * cols as u32, PANEL.1 * rows as u32 + 40)
    }
    crate::chart_backends!();
}
