//! Charts, one file per chart kind, each written as SVG and PNG.
//!
//! Text is drawn with DejaVu Sans embedded in the binary (`assets/DejaVuSans.ttf`,
//! Bitstream Vera licence, which permits embedding: `assets/DejaVuSans-LICENSE.txt`)
//! and registered with plotters' `ab_glyph` backend, so PNGs render identically on a
//! machine without fontconfig or any system font.
//!
//! Every chart implements [`Chart`]: it draws onto any plotters backend through one
//! generic `draw` (the [`chart_backends`](crate::chart_backends) macro), returning the
//! [`hover::Hover`] targets of its points; [`write`] renders both formats and gives the
//! SVG its hover targets. The pieces every chart shares:
//! - [`style`]: series looks that never repeat within a chart and survive greyscale,
//!   and the pixel [`style::Canvas`] charts draw their data on;
//! - [`axis`]: level axes that say how each level ran, log axes, notes;
//! - [`legend`]: legends in their own strip, sized to their labels, never over data.
//!
//! The kinds: [`levels`] (a run's metrics per level, one chart per category),
//! [`cost_curve`] (every metric as a fraction of L0, one panel per category),
//! [`compare`] (baseline vs current), [`configs`] (several configurations per level)
//! and [`trend`] (a history over time).

pub mod axis;
pub mod compare;
pub mod configs;
pub mod cost_curve;
pub mod hover;
pub mod legend;
pub mod levels;
pub mod style;
pub mod trend;

use crate::analysis::Analysis;
use crate::ReportError;
use hover::Hover;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::path::{Path, PathBuf};
use std::sync::Once;

pub use axis::{log_axis, log_range, log_ticks, tick};

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
    /// Draw as SVG; the hover targets of its points.
    fn draw_svg(
        &self,
        root: DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    ) -> Result<Vec<Hover>, DrawError>;
    /// Draw as PNG.
    fn draw_png(
        &self,
        root: DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    ) -> Result<Vec<Hover>, DrawError>;
}

/// What [`write`] produced.
#[derive(Debug, Clone)]
pub struct Written {
    /// The SVG file.
    pub svg_path: PathBuf,
    /// The PNG file.
    pub png_path: PathBuf,
    /// SVG text with its hover targets, for inlining.
    pub svg: String,
}

/// Render `chart` as SVG text with its hover targets.
pub fn svg(chart: &dyn Chart) -> Result<String, DrawError> {
    register_embedded_font();
    let mut svg = String::new();
    let hovers = {
        let root = SVGBackend::with_string(&mut svg, chart.size()).into_drawing_area();
        chart.draw_svg(root)?
    };
    Ok(hover::inject(&pixel_fonts(&svg), &hovers))
}

/// plotters writes an SVG font size as the size asked for divided by 1.24 (points to
/// pixels), while its bitmap backend, and every layout computed here with
/// [`text_width`], draw it at the size asked for; scaled back, the SVG's text is as
/// large as the PNG's and fits the space laid out for it.
fn pixel_fonts(svg: &str) -> String {
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg;
    while let Some(at) = rest.find("font-size=\"") {
        let (head, tail) = rest.split_at(at + "font-size=\"".len());
        out.push_str(head);
        let end = tail.find('"').unwrap_or(0);
        match tail[..end].parse::<f64>() {
            Ok(v) => out.push_str(&format!("{:.1}", v * 1.24)),
            Err(_) => out.push_str(&tail[..end]),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Render `chart` into `dir/<name>.svg` and `dir/<name>.png`.
pub fn write(chart: &dyn Chart, dir: &Path) -> Result<Written, ReportError> {
    register_embedded_font();
    let svg_path = dir.join(format!("{}.svg", chart.name()));
    let png_path = dir.join(format!("{}.png", chart.name()));
    let svg = svg(chart).map_err(|message| ReportError::Chart {
        path: svg_path.clone(),
        message,
    })?;
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
/// `fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<Vec<Hover>, DrawError>`.
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
        ) -> Result<Vec<$crate::charts::hover::Hover>, $crate::charts::DrawError> {
            self.draw(root)
        }
        fn draw_png(
            &self,
            root: plotters::prelude::DrawingArea<
                plotters::prelude::BitMapBackend<'_>,
                plotters::coord::Shift,
            >,
        ) -> Result<Vec<$crate::charts::hover::Hover>, $crate::charts::DrawError> {
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

/// The colour of series `i` ([`style::series`]), for callers that need a colour only.
pub fn palette(i: usize) -> RGBColor {
    style::series(i).color
}

/// Width in pixels of `text` at `size` in the embedded font (what the PNG shows and,
/// within a pixel or two, what a browser with DejaVu Sans shows).
pub fn text_width(text: &str, size: u32) -> u32 {
    register_embedded_font();
    (FONT, size)
        .into_font()
        .box_size(text)
        .map(|(w, _)| w)
        .unwrap_or_else(|_| (text.chars().count() as f64 * size as f64 * 0.62) as u32)
}

/// Draw the chart title centred at the top of `root`; the height it took.
pub fn draw_title<DB: DrawingBackend>(
    canvas: &style::Canvas<'_, DB>,
    title: &str,
    width: u32,
) -> Result<u32, DrawError> {
    canvas.text_centered(title, (width as i32 / 2, 8), 20, BLACK)?;
    Ok(TITLE_H)
}

/// Height of the title strip.
pub const TITLE_H: u32 = 36;

#[cfg(test)]
mod tests {
    #[test]
    fn svg_font_sizes_are_the_pixels_asked_for() {
        let svg = "<text font-size=\"12.096774193548388\">a</text><text font-size=\"x\">";
        assert_eq!(
            super::pixel_fonts(svg),
            "<text font-size=\"15.0\">a</text><text font-size=\"x\">"
        );
    }
}
