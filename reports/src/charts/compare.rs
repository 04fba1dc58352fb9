//! `compare`: baseline vs current per metric. One row per metric, the current runs as a
//! percentage of the baseline on a log x axis (oriented: left of 100 % is worse, so a
//! latency that rose is drawn left), one dot per level with the interval of the ratio at
//! the compare's family level (1 − α/m), a shaded band for the noise threshold (the
//! verdict's band [1/(1+θ), 1+θ]), a red ring on regressed points and a green one on
//! improved points. Each level has
//! its own colour and marker; hovering a dot gives the ratio, its interval, the runs per
//! side and the verdict.

use super::hover::Hover;
use super::legend::{self, Entry};
use super::style::{self, Canvas, Marker};
use super::{de, draw_title, log_axis, tick, Chart, DrawError, FONT, TITLE_H};
use crate::compare::{Comparison, Status};
use crate::export::format::change;
use crate::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

#[derive(Debug, Clone)]
struct Dot {
    row: u32,
    level: u32,
    pct: f64,
    low: f64,
    high: f64,
    regressed: bool,
    improved: bool,
    tip: String,
}

/// Baseline vs current, per metric and level.
#[derive(Debug, Clone)]
pub struct CompareChart {
    metrics: Vec<String>,
    levels: Vec<u32>,
    dots: Vec<Dot>,
    noise: f64,
    level: f64,
}

const WIDTH: u32 = 1100;
const GREEN: RGBColor = RGBColor(20, 140, 60);
const ROW_H: u32 = 30;

impl CompareChart {
    /// The chart of `cmp`.
    pub fn new(cmp: &Comparison) -> CompareChart {
        let mut metrics: Vec<String> = Vec::new();
        let mut levels: Vec<u32> = Vec::new();
        for c in cmp.changes.iter().filter(|c| c.ratio.is_some()) {
            if !metrics.contains(&c.id.key()) {
                metrics.push(c.id.key());
            }
            if !levels.contains(&c.level.0) {
                levels.push(c.level.0);
            }
        }
        levels.sort_unstable();
        let n = metrics.len() as u32;
        let dots = cmp
            .changes
            .iter()
            .filter_map(|c| {
                let r = c.ratio?;
                let i = metrics.iter().position(|m| *m == c.id.key())? as u32;
                // Oriented: better is right of 100 %, whatever the metric's direction.
                let (est, low, high) = if c.id.higher_is_better {
                    (r.estimate, r.low, r.high)
                } else {
                    (1.0 / r.estimate, 1.0 / r.high, 1.0 / r.low)
                };
                Some(Dot {
                    row: n - 1 - i, // first metric at the top
                    level: c.level.0,
                    pct: est * 100.0,
                    low: low * 100.0,
                    high: high * 100.0,
                    regressed: c.status == Status::Regressed,
                    improved: c.status == Status::Improved,
                    tip: format!(
                        "{} {}: current {} against the baseline, {:.2} % interval {} to {}, {} runs vs {}, {}",
                        c.level,
                        c.id.key(),
                        change(r.estimate - 1.0, true),
                        cmp.interval_level * 100.0,
                        change(r.low - 1.0, true),
                        change(r.high - 1.0, true),
                        c.baseline.as_ref().map_or(0, |s| s.medians.len()),
                        c.current.as_ref().map_or(0, |s| s.medians.len()),
                        c.status.word()
                    ),
                })
            })
            .collect();
        CompareChart {
            metrics,
            levels,
            dots,
            noise: cmp.options.noise_threshold,
            level: cmp.interval_level,
        }
    }

    fn plot_height(&self) -> u32 {
        ROW_H * self.metrics.len().max(1) as u32 + 90
    }

    fn entries(&self) -> Vec<Entry> {
        let mut entries: Vec<Entry> = self
            .levels
            .iter()
            .enumerate()
            .map(|(i, l)| Entry {
                label: format!("L{l}"),
                style: style::series(i),
                line: false,
            })
            .collect();
        let mut band = style::summary();
        band.color = RGBColor(205, 205, 205);
        band.marker = Marker::Square;
        entries.push(Entry {
            label: format!("noise band ±{:.0} %", self.noise * 100.0),
            style: band,
            line: false,
        });
        let mut ring = style::summary();
        ring.color = RGBColor(220, 0, 0);
        ring.marker = Marker::Ring;
        entries.push(Entry {
            label: "regressed (red ring)".into(),
            style: ring,
            line: false,
        });
        ring.color = GREEN;
        entries.push(Entry {
            label: "improved (green ring)".into(),
            style: ring,
            line: false,
        });
        entries
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: DrawingArea<DB, Shift>,
    ) -> Result<Vec<Hover>, DrawError> {
        root.fill(&WHITE).map_err(de)?;
        let mut canvas = Canvas::new(&root);
        let top = draw_title(&canvas, &self.title(), WIDTH)? as i32;
        let plot = root.clone().shrink((0, top), (WIDTH, self.plot_height()));
        let band = (100.0 / (1.0 + self.noise), 100.0 * (1.0 + self.noise));
        let lo = self.dots.iter().map(|d| d.low).fold(band.0, f64::min);
        let hi = self.dots.iter().map(|d| d.high).fold(band.1, f64::max);
        let n = self.metrics.len().max(1) as u32;
        let (lo_x, hi_x) = {
            let r = super::log_range(lo, hi);
            (r.start, r.end)
        };
        let names = self.metrics.clone();
        let mut chart = ChartBuilder::on(&plot)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(
                self.metrics
                    .iter()
                    .map(|m| super::text_width(m, 13))
                    .max()
                    .unwrap_or(100)
                    + 24,
            )
            .build_cartesian_2d(log_axis(lo, hi), (0..n - 1).into_segmented())
            .map_err(de)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n as usize + 1)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => {
                    names.get((n - 1 - i) as usize).cloned().unwrap_or_default()
                }
                _ => String::new(),
            })
            .x_labels(8)
            .x_label_formatter(&|v| format!("{} %", tick(*v)))
            .x_desc("current as % of baseline, oriented: below 100 % = worse (latencies inverted)")
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(de)?;
        let grey = RGBColor(225, 225, 225);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [
                    (band.0, SegmentValue::Exact(0)),
                    (band.1, SegmentValue::Last),
                ],
                grey.filled(),
            )))
            .map_err(de)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(100.0, SegmentValue::Exact(0)), (100.0, SegmentValue::Last)],
                BLACK.stroke_width(1),
            )))
            .map_err(de)?;
        let sep = RGBColor(200, 200, 200);
        for i in 0..=n {
            let y = if i == n {
                SegmentValue::Last
            } else {
                SegmentValue::Exact(i)
            };
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(lo_x, y.clone()), (hi_x, y)],
                    sep.stroke_width(1),
                )))
                .map_err(de)?;
        }
        let spread = ROW_H as i32 / 2;
        for d in &self.dots {
            let li = self.levels.iter().position(|&l| l == d.level).unwrap_or(0);
            let dy = if self.levels.len() > 1 {
                -spread / 2 + spread * li as i32 / (self.levels.len() as i32 - 1)
            } else {
                0
            };
            let st = style::series(li);
            let at = |v: f64| {
                let (x, y) = chart.backend_coord(&(v, SegmentValue::CenterOf(d.row)));
                (x, y + dy)
            };
            canvas.segment(at(d.low), at(d.high), st.color, 1)?;
            canvas.marker(at(d.pct), st.marker, 3, st.color)?;
            if d.regressed {
                canvas.marker(at(d.pct), Marker::Ring, 7, RGBColor(220, 0, 0))?;
            }
            if d.improved {
                canvas.marker(at(d.pct), Marker::Ring, 7, GREEN)?;
            }
            canvas.hover(at(d.pct), 6, d.tip.clone());
        }
        let strip_y = top + self.plot_height() as i32;
        legend::draw(&canvas, &self.entries(), (0, strip_y), WIDTH)?;
        root.present().map_err(de)?;
        Ok(canvas.hovers)
    }
}

impl Chart for CompareChart {
    fn name(&self) -> String {
        "compare".into()
    }
    fn title(&self) -> String {
        format!(
            "Baseline vs current: each metric per level, interval at {:.2} % (log scale)",
            self.level * 100.0
        )
    }
    fn size(&self) -> (u32, u32) {
        (
            WIDTH,
            TITLE_H + self.plot_height() + legend::height(&self.entries(), WIDTH),
        )
    }
    crate::chart_backends!();
}

/// Write `dir/compare.svg` and `dir/compare.png` for `cmp` (creating `dir`).
pub fn write(cmp: &Comparison, dir: &Path) -> Result<super::Written, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    super::write(&CompareChart::new(cmp), dir)
}
