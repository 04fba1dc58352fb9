//! Charts, one file per chart kind, each written as SVG and PNG.
//!
//! Text is drawn with DejaVu Sans embedded in the binary (`assets/DejaVuSans.ttf`,
//! Bitstream Vera licence, which permits embedding: `assets/DejaVuSans-LICENSE.txt`)
//! and registered with plotters' `ab_glyph` backend, so PNGs render identically on a
//! machine without fontconfig or any system font.
//!
//! Every chart implements [`Chart`]: it draws onto any plotters backend through
//! [`draw_any`]-style generic code, and [`write`] renders it to both formats.
//! Legends are drawn below the plot area ([`legend`]) so they never hide data.

pub mod compare;
pub mod cost_curve;
pub mod legend;
pub mod levels;
pub mod trend;

use crate::analysis::Analysis;
use crate::ReportError;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::path::{Path, PathBuf};
use std::sync::Once;

/// Font family every chart uses.
pub const FONT: &str = "sans-serif";

static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// Register the embedded font with plotters (idempotent).
pub fn register_embedded_font() {
    REGISTER.call_once(|| {
        // The bytes are a valid TTF checked in with the crate; a failure is a build bug.
        register_font(FONT, FontStyle::Normal, FONT_BYTES)
            .unwrap_or_else(|_| panic!("embedded DejaVuSans.ttf is not a valid font"));
    });
}

/// Error text of a drawing failure.
pub type DrawError = String;

/// Turn any displayable plotters error into a [`DrawError`].
pub fn de<E: std::fmt::Display>(e: E) -> DrawError {
    e.to_string()
}

/// A chart that can be drawn on the two backends the reports use.
pub trait Chart {
    /// File stem in `charts/`, e.g. `levels-cpu`.
    fn name(&self) -> String;
    /// Human title (also the figure caption in HTML).
    fn title(&self) -> String;
    /// Pixel size.
    fn size(&self) -> (u32, u32);
    /// Draw as SVG.
    fn draw_svg(
        &self,
        root: DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    ) -> Result<(), DrawError>;
    /// Draw as PNG.
    fn draw_png(
        &self,
        root: DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    ) -> Result<(), DrawError>;
}

/// What [`write`] produced.
#[derive(Debug, Clone)]
pub struct Written {
    /// The SVG file.
    pub svg_path: PathBuf,
    /// The PNG file.
    pub png_path: PathBuf,
    /// SVG text, for inlining.
    pub svg: String,
}

/// Render `chart` into `dir/<name>.svg` and `dir/<name>.png`.
pub fn write(chart: &dyn Chart, dir: &Path) -> Result<Written, ReportError> {
    register_embedded_font();
    let svg_path = dir.join(format!("{}.svg", chart.name()));
    let png_path = dir.join(format!("{}.png", chart.name()));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, chart.size()).into_drawing_area();
        chart.draw_svg(root).map_err(|message| ReportError::Chart {
            path: svg_path.clone(),
            message,
        })?;
    }
    crate::error::write_file(&svg_path, &svg)?;
    {
        let root = BitMapBackend::new(&png_path, chart.size()).into_drawing_area();
        chart.draw_png(root).map_err(|message| ReportError::Chart {
            path: png_path.clone(),
            message,
        })?;
    }
    Ok(Written {
        svg_path,
        png_path,
        svg,
    })
}

/// Implement the two backend methods of [`Chart`] by calling a generic
/// `fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), DrawError>`.
#[macro_export]
#[doc(hidden)]
macro_rules! chart_backends {
    () => {
        fn draw_svg(
            &self,
            root: plotters::prelude::DrawingArea<
                plotters::prelude::SVGBackend<'_>,
                plotters::coord::Shift,
            >,
        ) -> Result<(), $crate::charts::DrawError> {
            self.draw(root)
        }
        fn draw_png(
            &self,
            root: plotters::prelude::DrawingArea<
                plotters::prelude::BitMapBackend<'_>,
                plotters::coord::Shift,
            >,
        ) -> Result<(), $crate::charts::DrawError> {
            self.draw(root)
        }
    };
}

/// The charts of one run: one per category (metrics against level) and the cost curve.
pub fn run_charts(a: &Analysis) -> Vec<Box<dyn Chart>> {
    let mut out: Vec<Box<dyn Chart>> = Vec::new();
    for cat in a.category_names() {
        out.push(Box::new(levels::LevelsChart::new(a, &cat)));
    }
    out.push(Box::new(cost_curve::CostCurve::new(a)));
    out
}

/// A distinct, print-friendly colour for series `i` (Tableau 10, then darker repeats).
pub fn palette(i: usize) -> RGBColor {
    const T10: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    let (r, g, b) = T10[i % 10];
    let dim = |c: u8| {
        if i / 10 % 2 == 1 {
            (c as u16 * 6 / 10) as u8
        } else {
            c
        }
    };
    RGBColor(dim(r), dim(g), dim(b))
}

/// A log-axis range covering `lo..hi` (both > 0) with headroom, never empty.
pub fn log_range(lo: f64, hi: f64) -> std::ops::Range<f64> {
    let (lo, hi) = if lo > 0.0 && hi >= lo {
        (lo, hi)
    } else {
        (1.0, 10.0)
    };
    let (lo, hi) = if hi / lo < 2.0 {
        (lo / 1.5, hi * 1.5)
    } else {
        (lo / 1.25, hi * 1.25)
    };
    lo..hi
}

/// Tick positions for a log axis over `range`: decades when the range spans many, else
/// 1-2-5 (or 1-2-3-5-7) steps, so that every panel has at least a few labelled values.
pub fn log_ticks(range: &std::ops::Range<f64>) -> Vec<f64> {
    let (lo, hi) = (range.start, range.end);
    let candidates = |mantissas: &[f64]| -> Vec<f64> {
        let first = lo.log10().floor() as i32;
        let last = hi.log10().ceil() as i32;
        (first..=last)
            .flat_map(|e| mantissas.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|v| *v >= lo && *v <= hi)
            .collect()
    };
    let decades = candidates(&[1.0]);
    if decades.len() >= 4 {
        let step = decades.len().div_ceil(10);
        return decades.into_iter().step_by(step).collect();
    }
    let fine = candidates(&[1.0, 2.0, 5.0]);
    if fine.len() >= 4 {
        return fine;
    }
    candidates(&[1.0, 1.5, 2.0, 3.0, 5.0, 7.0])
}

/// A log axis over `lo..hi` with [`log_ticks`] as its labelled points.
pub fn log_axis(
    lo: f64,
    hi: f64,
) -> plotters::coord::combinators::WithKeyPoints<plotters::coord::combinators::LogCoord<f64>> {
    let range = log_range(lo, hi);
    let ticks = log_ticks(&range);
    range.log_scale().with_key_points(ticks)
}

/// Label of a log-axis tick: few significant digits, no exponent for everyday values,
/// no trailing zeros (`1`, `0.5`, `20000`).
pub fn tick(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e7 || v.abs() < 1e-3) {
        return format!("{v:.0e}");
    }
    let s = crate::export::format::sig(v, 2);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_cover_narrow_and_wide_ranges() {
        assert_eq!(
            log_ticks(&(80.0..900.0)),
            vec![100.0, 150.0, 200.0, 300.0, 500.0, 700.0]
        );
        assert_eq!(
            log_ticks(&(80.0..3000.0)),
            vec![100.0, 200.0, 500.0, 1000.0, 2000.0]
        );
        assert_eq!(log_ticks(&(0.05..150.0)), vec![0.1, 1.0, 10.0, 100.0]);
        assert!(log_ticks(&(1100.0..1400.0)).is_empty() || log_ticks(&(1100.0..1400.0)).len() <= 2);
        assert_eq!(tick(1.0), "1");
        assert_eq!(tick(0.5), "0.5");
        assert_eq!(tick(20000.0), "20000");
    }
}
