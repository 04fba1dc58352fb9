//! How a series looks: a colour, a marker and a dash pattern, chosen so that no two
//! series of one chart look alike and a chart printed in greyscale still tells them
//! apart (the marker and the dash differ, not only the hue).
//!
//! Series `i` gets colour `i mod 10`, marker `i mod 8` and dash `i mod 4`: the first 10
//! series differ in colour, the first 8 in marker, and no two of the first 40 share all
//! three (40 is the least common multiple). The colours are Tableau 10 with its grey
//! (which reads as "n/a" here) and its pale olive replaced by darker hues; black is kept
//! for summary lines (geometric means), red rings for regressions.
//!
//! Everything is drawn in backend pixels on a [`Canvas`], which also collects the
//! hover targets ([`super::hover`]) the SVG gets for the HTML report.

use super::hover::Hover;
use super::{de, DrawError, FONT};
use plotters::coord::Shift;
use plotters::prelude::*;

/// The colours, in order.
const COLORS: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (0, 70, 110),
    (150, 120, 0),
    (23, 170, 190),
];

/// The shape drawn at each point of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Marker {
    /// Filled circle.
    Circle,
    /// Filled square.
    Square,
    /// Filled triangle, point up.
    TriangleUp,
    /// Filled diamond.
    Diamond,
    /// Filled triangle, point down.
    TriangleDown,
    /// An ×.
    Cross,
    /// A +.
    Plus,
    /// Hollow circle.
    Ring,
}

const MARKERS: [Marker; 8] = [
    Marker::Circle,
    Marker::Square,
    Marker::TriangleUp,
    Marker::Diamond,
    Marker::TriangleDown,
    Marker::Cross,
    Marker::Plus,
    Marker::Ring,
];

/// How a line is stroked: dash and gap lengths in pixels, `None` for a solid line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dash(pub Option<(u32, u32)>);

const DASHES: [Dash; 4] = [
    Dash(None),
    Dash(Some((9, 4))),
    Dash(Some((2, 3))),
    Dash(Some((14, 4))),
];

/// The look of one series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesStyle {
    /// Stroke and fill colour.
    pub color: RGBColor,
    /// Point marker.
    pub marker: Marker,
    /// Line pattern.
    pub dash: Dash,
    /// Line width in pixels.
    pub width: u32,
}

/// The style of series `i` of a chart.
pub fn series(i: usize) -> SeriesStyle {
    let (r, g, b) = COLORS[i % COLORS.len()];
    SeriesStyle {
        color: RGBColor(r, g, b),
        marker: MARKERS[i % MARKERS.len()],
        dash: DASHES[i % DASHES.len()],
        width: 2,
    }
}

/// The style of a summary series (a category's geometric mean): thick, solid, black.
pub fn summary() -> SeriesStyle {
    SeriesStyle {
        color: BLACK,
        marker: Marker::Square,
        dash: Dash(None),
        width: 4,
    }
}

/// Red of failures and regressions.
pub const RED: RGBColor = RGBColor(200, 30, 30);
/// Grey of "does not apply".
pub const GREY: RGBColor = RGBColor(110, 110, 110);

/// A drawing area addressed in backend pixels (the SVG's own coordinates), plus the
/// hover targets drawn so far.
pub struct Canvas<'a, DB: DrawingBackend> {
    area: &'a DrawingArea<DB, Shift>,
    /// Hover targets, in drawing order.
    pub hovers: Vec<Hover>,
}

impl<'a, DB: DrawingBackend> Canvas<'a, DB> {
    /// A canvas over `root`, the whole untitled drawing area (origin at the top left).
    pub fn new(root: &'a DrawingArea<DB, Shift>) -> Self {
        Canvas {
            area: root,
            hovers: Vec::new(),
        }
    }

    /// A polyline through `points` in `style`'s colour, width and dash.
    pub fn line(&self, points: &[(i32, i32)], style: &SeriesStyle) -> Result<(), DrawError> {
        let stroke = style.color.stroke_width(style.width);
        match style.dash.0 {
            None => self
                .area
                .draw(&PathElement::new(points.to_vec(), stroke))
                .map_err(de),
            Some((on, off)) => {
                for seg in dashes(points, on as f64, off as f64) {
                    self.area.draw(&PathElement::new(seg, stroke)).map_err(de)?;
                }
                Ok(())
            }
        }
    }

    /// A thin solid segment (error bars, whiskers, separators).
    pub fn segment(
        &self,
        from: (i32, i32),
        to: (i32, i32),
        color: RGBColor,
        width: u32,
    ) -> Result<(), DrawError> {
        self.area
            .draw(&PathElement::new(vec![from, to], color.stroke_width(width)))
            .map_err(de)
    }

    /// A vertical interval bar with whiskers from `y_low` to `y_high` at `x`.
    pub fn interval(
        &self,
        x: i32,
        y_low: i32,
        y_high: i32,
        color: RGBColor,
    ) -> Result<(), DrawError> {
        self.segment((x, y_low), (x, y_high), color, 1)?;
        for y in [y_low, y_high] {
            self.segment((x - 4, y), (x + 4, y), color, 1)?;
        }
        Ok(())
    }

    /// `marker` of radius about `r` at `at`.
    pub fn marker(
        &self,
        at: (i32, i32),
        marker: Marker,
        r: i32,
        color: RGBColor,
    ) -> Result<(), DrawError> {
        let (x, y) = at;
        let fill = color.filled();
        let stroke = color.stroke_width(2);
        let poly = |pts: Vec<(i32, i32)>| self.area.draw(&Polygon::new(pts, fill)).map_err(de);
        match marker {
            Marker::Circle => self.area.draw(&Circle::new(at, r, fill)).map_err(de),
            Marker::Ring => self.area.draw(&Circle::new(at, r, stroke)).map_err(de),
            Marker::Square => self
                .area
                .draw(&Rectangle::new([(x - r, y - r), (x + r, y + r)], fill))
                .map_err(de),
            Marker::TriangleUp => {
                poly(vec![(x, y - r - 1), (x - r - 1, y + r), (x + r + 1, y + r)])
            }
            Marker::TriangleDown => {
                poly(vec![(x, y + r + 1), (x - r - 1, y - r), (x + r + 1, y - r)])
            }
            Marker::Diamond => poly(vec![
                (x, y - r - 1),
                (x + r + 1, y),
                (x, y + r + 1),
                (x - r - 1, y),
            ]),
            Marker::Cross => {
                self.segment((x - r, y - r), (x + r, y + r), color, 2)?;
                self.segment((x - r, y + r), (x + r, y - r), color, 2)
            }
            Marker::Plus => {
                self.segment((x - r - 1, y), (x + r + 1, y), color, 2)?;
                self.segment((x, y - r - 1), (x, y + r + 1), color, 2)
            }
        }
    }

    /// Text with its top left corner at `at`.
    pub fn text(
        &self,
        text: &str,
        at: (i32, i32),
        size: u32,
        color: RGBColor,
    ) -> Result<(), DrawError> {
        self.area
            .draw(&Text::new(
                text.to_string(),
                at,
                (FONT, size).into_font().color(&color),
            ))
            .map_err(de)
    }

    /// Text centred horizontally on `at.0`, its top at `at.1`.
    pub fn text_centered(
        &self,
        text: &str,
        at: (i32, i32),
        size: u32,
        color: RGBColor,
    ) -> Result<(), DrawError> {
        let style =
            (FONT, size)
                .into_font()
                .color(&color)
                .pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Top,
                ));
        self.area
            .draw(&Text::new(text.to_string(), at, style))
            .map_err(de)
    }

    /// Remember a hover target: a circle of radius `r` at `at` that shows `text`.
    pub fn hover(&mut self, at: (i32, i32), r: u32, text: String) {
        self.hovers.push(Hover {
            x: at.0,
            y: at.1,
            r,
            text,
        });
    }
}

/// The dashes of a polyline: pieces `on` pixels long with `off` pixel gaps, the pattern
/// carried across vertices.
pub fn dashes(points: &[(i32, i32)], on: f64, off: f64) -> Vec<Vec<(i32, i32)>> {
    let mut out: Vec<Vec<(i32, i32)>> = Vec::new();
    let mut current: Vec<(i32, i32)> = Vec::new();
    let (mut drawing, mut left) = (true, on);
    let px = |x: f64, y: f64| (x.round() as i32, y.round() as i32);
    for w in points.windows(2) {
        let (x0, y0) = (w[0].0 as f64, w[0].1 as f64);
        let (x1, y1) = (w[1].0 as f64, w[1].1 as f64);
        let len = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt();
        let mut at = 0.0;
        if drawing && current.is_empty() {
            current.push(px(x0, y0));
        }
        while len - at > left {
            at += left;
            let t = at / len;
            let p = px(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
            if drawing {
                current.push(p);
                out.push(std::mem::take(&mut current));
                left = off;
            } else {
                current.push(p);
                left = on;
            }
            drawing = !drawing;
        }
        left -= len - at;
        if drawing {
            current.push(px(x1, y1));
        }
    }
    if current.len() >= 2 {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_two_of_the_first_forty_series_look_alike() {
        let key = |s: SeriesStyle| (s.color, s.marker, s.dash);
        for i in 0..40 {
            for j in 0..i {
                assert_ne!(key(series(i)), key(series(j)), "{i} and {j}");
            }
        }
        // The first ten differ in colour, the first eight in marker: in greyscale they
        // are told apart by their markers and dashes.
        for i in 0..10 {
            for j in 0..i {
                assert_ne!(series(i).color, series(j).color);
                if i < 8 {
                    assert_ne!(series(i).marker, series(j).marker);
                }
            }
            assert_ne!(series(i).color, BLACK, "black is the summary's");
        }
    }

    #[test]
    fn dashes_cover_the_line_with_gaps() {
        let d = dashes(&[(0, 0), (20, 0)], 5.0, 5.0);
        assert_eq!(d, vec![vec![(0, 0), (5, 0)], vec![(10, 0), (15, 0)]]);
        // The pattern continues across a corner.
        let d = dashes(&[(0, 0), (3, 0), (3, 4)], 5.0, 2.0);
        assert_eq!(d[0], vec![(0, 0), (3, 0), (3, 2)]);
        assert!(dashes(&[(0, 0)], 5.0, 5.0).is_empty());
    }
}
