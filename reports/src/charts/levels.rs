//! `levels-<category>`: every metric of one category against nesting level, one panel
//! per metric (each with its own unit on a log y axis, since levels differ up to
//! thousands of times), medians joined by a line, 95 % bootstrap intervals as error bars.
//! A level without a figure is labelled with its status (`failed`, `skipped`), or `n/a`
//! in grey where the metric does not apply there (the report gives the reason), at the
//! bottom of the panel instead of being drawn as zero.

use super::{de, log_axis, log_range, palette, tick, Chart, DrawError, FONT};
use crate::analysis::Analysis;
use crate::export::document::status_word;
use model::MetricId;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One point of a panel: level, median, interval.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    level: u32,
    median: f64,
    low: f64,
    high: f64,
}

/// One metric's panel.
#[derive(Debug, Clone)]
struct Panel {
    metric: MetricId,
    points: Vec<Point>,
    /// Levels without a figure, with the word to show.
    gaps: Vec<(u32, String)>,
}

/// Metrics of one category against level.
#[derive(Debug, Clone)]
pub struct LevelsChart {
    category: String,
    max_level: u32,
    panels: Vec<Panel>,
}

const COLS: usize = 3;
/// The gap word of a metric that does not apply at a level: not a failure, so grey.
const NOT_APPLICABLE: &str = "n/a";
const PANEL: (u32, u32) = (420, 300);

impl LevelsChart {
    /// The chart of `category` in `a`.
    pub fn new(a: &Analysis, category: &str) -> LevelsChart {
        let max_level = a.doc.deepest().0;
        let panels = a
            .metrics
            .iter()
            .filter(|m| m.category() == category)
            .map(|m| {
                let mut points = Vec::new();
                let mut gaps = Vec::new();
                for row in a.rows.iter().filter(|r| r.id.same(m)) {
                    match &row.summary {
                        None if row.not_applicable.is_some() => {
                            gaps.push((row.level.0, NOT_APPLICABLE.into()))
                        }
                        Some(s) if s.median.estimate > 0.0 => points.push(Point {
                            level: row.level.0,
                            median: s.median.estimate,
                            low: s.median.low.max(s.median.estimate * 1e-6),
                            high: s.median.high,
                        }),
                        Some(_) => gaps.push((row.level.0, "≤ 0".into())),
                        None if row.level_status == model::rundoc::LevelStatus::Ok => {
                            gaps.push((row.level.0, "error".into()))
                        }
                        None => gaps.push((row.level.0, status_word(row.level_status).into())),
                    }
                }
                Panel {
                    metric: m.clone(),
                    points,
                    gaps,
                }
            })
            .collect();
        LevelsChart {
            category: category.to_string(),
            max_level,
            panels,
        }
    }

    fn grid(&self) -> (usize, usize) {
        let cols = self.panels.len().clamp(1, COLS);
        (self.panels.len().div_ceil(cols).max(1), cols)
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        root.fill(&WHITE).map_err(de)?;
        let root = root.titled(&self.title(), (FONT, 22)).map_err(de)?;
        let (rows, cols) = self.grid();
        for (i, (panel, area)) in self
            .panels
            .iter()
            .zip(root.split_evenly((rows, cols)))
            .enumerate()
        {
            draw_panel(&area, panel, self.max_level, palette(i))?;
        }
        root.present().map_err(de)
    }
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
    max_level: u32,
    color: RGBColor,
) -> Result<(), DrawError> {
    let lo = p.points.iter().map(|q| q.low).fold(f64::INFINITY, f64::min);
    let hi = p.points.iter().map(|q| q.high).fold(0.0, f64::max);
    let direction = if p.metric.higher_is_better {
        "higher is better"
    } else {
        "lower is better"
    };
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{} ({direction})", p.metric.key()), (FONT, 15))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(62)
        .build_cartesian_2d((0..max_level.max(1)).into_segmented(), log_axis(lo, hi))
        .map_err(de)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(max_level as usize + 2)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(l) => format!("L{l}"),
            _ => String::new(),
        })
        .y_labels(6)
        .y_label_formatter(&|v| tick(*v))
        .y_desc(p.metric.unit.clone())
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .draw()
        .map_err(de)?;
    let at = |l: u32| SegmentValue::CenterOf(l);
    chart
        .draw_series(LineSeries::new(
            p.points.iter().map(|q| (at(q.level), q.median)),
            color.stroke_width(2),
        ))
        .map_err(de)?;
    for q in &p.points {
        let bar = color.stroke_width(1);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(at(q.level), q.low), (at(q.level), q.high)],
                bar,
            )))
            .map_err(de)?;
        for y in [q.low, q.high] {
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((at(q.level), y))
                        + PathElement::new(vec![(-5, 0), (5, 0)], bar),
                ))
                .map_err(de)?;
        }
        chart
            .draw_series(std::iter::once(Circle::new(
                (at(q.level), q.median),
                3,
                color.filled(),
            )))
            .map_err(de)?;
    }
    let bottom = log_range(lo, hi).start;
    let red = RGBColor(200, 30, 30);
    let grey = RGBColor(110, 110, 110);
    for (level, word) in &p.gaps {
        let color = if word == NOT_APPLICABLE { &grey } else { &red };
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((at(*level), bottom))
                    + Text::new(
                        word.clone(),
                        (-18, -22),
                        (FONT, 13).into_font().color(color),
                    ),
            ))
            .map_err(de)?;
    }
    Ok(())
}

impl Chart for LevelsChart {
    fn name(&self) -> String {
        format!("levels-{}", self.category)
    }
    fn title(&self) -> String {
        format!(
            "{}: median per nesting level, 95 % CI (log scale)",
            self.category
        )
    }
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = self.grid();
        (PANEL.0 * cols as u32, PANEL.1 * rows as u32 + 40)
    }
    crate::chart_backends!();
}
