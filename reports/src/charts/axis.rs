//! Axes that say what they show. A level axis names each level and how it ran, on two
//! lines drawn by the chart itself — `L1` over `tcg`, `L4` over `kvm*` when the level
//! was tuned (a note under the chart lists the flags), `L3` over `failed` in red — so a
//! reader does not need the Levels table to read a chart. Log axes get ticks that label
//! every panel with a few plain numbers ([`log_ticks`], [`tick`]).

use super::style::{Canvas, RED};
use super::{de, DrawError, FONT};
use model::rundoc::{LevelStatus, RunDoc};
use model::MetricId;
use plotters::coord::combinators::{LogCoord, WithKeyPoints};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::Shift;
use plotters::prelude::*;

/// What the axis says of one level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelTick {
    /// The level number.
    pub level: u32,
    /// How it ran (`native`, `tcg`, `kvm`; `tcg/kvm` where runs differ), or the status
    /// of a level without figures (`failed`, `skipped`).
    pub how: String,
    /// Tuned (in some run): the label gets a `*`.
    pub tuned: bool,
    /// The level was not measured.
    pub failed: bool,
}

impl LevelTick {
    /// The second line of the label: `kvm*`, `tcg`, `failed`.
    pub fn detail(&self) -> String {
        let star = if self.tuned && !self.failed { "*" } else { "" };
        format!("{}{star}", self.how)
    }
}

/// The ticks of `doc`'s levels, L0 first.
pub fn level_ticks(doc: &RunDoc) -> Vec<LevelTick> {
    doc.levels
        .iter()
        .map(|l| {
            let failed = l.status != LevelStatus::Ok;
            let how = if failed {
                l.status.word().to_string()
            } else {
                l.env.accel.map(|a| a.to_string()).unwrap_or_default()
            };
            LevelTick {
                level: l.level.0,
                how,
                tuned: !l.env.tuning.is_empty(),
                failed,
            }
        })
        .collect()
}

/// The ticks of several runs of one chart: a level reads the same in all of them, or
/// each distinct reading joined by `/` (`tcg/kvm`); tuned where any run tuned it;
/// failed only where every run failed it.
pub fn merged_ticks(docs: &[&RunDoc]) -> Vec<LevelTick> {
    let mut out: Vec<LevelTick> = Vec::new();
    for doc in docs {
        for t in level_ticks(doc) {
            match out.iter_mut().find(|o| o.level == t.level) {
                Some(o) => {
                    if !o.how.split('/').any(|d| d == t.how) {
                        o.how = format!("{}/{}", o.how, t.how);
                    }
                    o.tuned |= t.tuned;
                    o.failed &= t.failed;
                }
                None => out.push(t),
            }
        }
    }
    out.sort_by_key(|t| t.level);
    out
}

/// The note that explains `*`: each tuned level and its flags (those of every run in
/// `docs`, each named once), or `None` when no level was tuned.
pub fn tuning_note(docs: &[&RunDoc]) -> Option<String> {
    let mut by_level: Vec<(model::Level, Vec<String>)> = Vec::new();
    for doc in docs {
        // Only measured levels carry the `*` this note explains.
        let tuned = |l: &&model::rundoc::LevelRecord| {
            !l.env.tuning.is_empty() && l.status == LevelStatus::Ok
        };
        for l in doc.levels.iter().filter(tuned) {
            let at = match by_level.iter().position(|(lv, _)| *lv == l.level) {
                Some(i) => i,
                None => {
                    by_level.push((l.level, Vec::new()));
                    by_level.len() - 1
                }
            };
            for t in &l.env.tuning {
                if !by_level[at].1.contains(t) {
                    by_level[at].1.push(t.clone());
                }
            }
        }
    }
    by_level.sort_by_key(|(l, _)| *l);
    let parts: Vec<String> = by_level
        .iter()
        .map(|(l, flags)| format!("{l}: {}", flags.join(", ")))
        .collect();
    let some = if docs.len() > 1 { " in some input" } else { "" };
    (!parts.is_empty()).then(|| {
        format!(
            "* tuned level{some}: boot flags that change what some metrics measure ({})",
            parts.join("; ")
        )
    })
}

/// Draw the two-line labels of `ticks` under a plot whose bottom edge is at `y`;
/// `x_of` gives each level's centre in pixels.
pub fn draw_level_ticks<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    ticks: &[LevelTick],
    x_of: impl Fn(u32) -> i32,
    y: i32,
    size: u32,
) -> Result<(), DrawError> {
    for t in ticks {
        let x = x_of(t.level);
        canvas.text_centered(&format!("L{}", t.level), (x, y + 5), size, BLACK)?;
        let color = if t.failed { RED } else { RGBColor(70, 70, 70) };
        canvas.text_centered(&t.detail(), (x, y + 7 + size as i32), size - 1, color)?;
    }
    Ok(())
}

/// Height the two-line level labels need at font `size`.
pub fn level_ticks_height(size: u32) -> u32 {
    2 * size + 14
}

/// `text` broken into lines of at most `width` characters, at spaces.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Characters of 13 px DejaVu Sans that fit in `pixels`, with a margin (its average
/// advance is about 0.55 em).
pub fn chars_in(pixels: u32, size: u32) -> usize {
    (pixels as f64 / (size as f64 * 0.6)).floor().max(10.0) as usize
}

/// Width of a y label area that holds the labels of [`log_ticks`] over `range`
/// (as `format` writes them, at `size`) and the rotated axis description beside them.
pub fn y_label_width(
    range: &std::ops::Range<f64>,
    format: impl Fn(f64) -> String,
    size: u32,
) -> u32 {
    let widest = log_ticks(range)
        .into_iter()
        .map(|v| super::text_width(&format(v), size))
        .max()
        .unwrap_or(0);
    (widest + 30).max(56)
}

/// A log-axis range covering `lo..hi` (both > 0) with headroom, never empty.
pub fn log_range(lo: f64, hi: f64) -> std::ops::Range<f64> {
    let (lo, hi) = if lo > 0.0 && hi >= lo && hi.is_finite() {
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

/// The x axis of a level chart: levels `first..=last`, each the centre of an equal
/// share of the width, with an axis tick at each. One level sits in the middle of the
/// plot and two split it in halves: no share is left to a level that does not exist
/// (the segmented axis this replaces cannot hold a single value, and stretching it to
/// L1 left a one-level chart's right half empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelX {
    first: u32,
    last: u32,
}

impl LevelX {
    /// The axis over the levels of `ticks` (L0 alone when there are none).
    pub fn of(ticks: &[LevelTick]) -> LevelX {
        let first = ticks.iter().map(|t| t.level).min().unwrap_or(0);
        let last = ticks.iter().map(|t| t.level).max().unwrap_or(0);
        LevelX { first, last }
    }

    /// How many levels share the width.
    pub fn count(&self) -> u32 {
        self.last - self.first + 1
    }
}

impl Ranged for LevelX {
    type FormatOption = DefaultFormatting;
    type ValueType = u32;

    fn map(&self, level: &u32, limit: (i32, i32)) -> i32 {
        let share = f64::from(limit.1 - limit.0) / f64::from(self.count());
        let at = f64::from(*level) - f64::from(self.first) + 0.5;
        limit.0 + (at * share).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<u32> {
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        (self.first..=self.last).collect()
    }

    fn range(&self) -> std::ops::Range<u32> {
        self.first..self.last + 1
    }
}

/// The coordinates of a per-level panel: levels on a [`LevelX`] axis, values on a log
/// axis.
pub type LevelCoord = Cartesian2d<LevelX, WithKeyPoints<LogCoord<f64>>>;

/// One metric's panel over the levels of `ticks` with values in `lo..hi`, mesh drawn:
/// the metric and its direction as caption, a log y axis labelled with its unit, and
/// the x labels left blank for [`draw_level_ticks`] to write (the run charts and the
/// configuration comparison draw their panels alike).
pub fn level_panel<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    metric: &MetricId,
    ticks: &[LevelTick],
    lo: f64,
    hi: f64,
) -> Result<ChartContext<'a, DB, LevelCoord>, DrawError> {
    let direction = if metric.higher_is_better {
        "higher is better"
    } else {
        "lower is better"
    };
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{} ({direction})", metric.key()), (FONT, 15))
        .margin(8)
        .x_label_area_size(level_ticks_height(12))
        .y_label_area_size(y_label_width(&log_range(lo, hi), tick, 12))
        .build_cartesian_2d(LevelX::of(ticks), log_axis(lo, hi))
        .map_err(de)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(LevelX::of(ticks).count() as usize + 2)
        .x_label_formatter(&|_| String::new())
        .x_label_style((FONT, 12).into_font().color(&TRANSPARENT))
        .y_labels(6)
        .y_label_formatter(&|v| tick(*v))
        .y_desc(metric.unit.clone())
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .draw()
        .map_err(de)?;
    Ok(chart)
}

/// A log axis over `lo..hi` with [`log_ticks`] as its labelled points.
pub fn log_axis(
    lo: f64,
    hi: f64,
) -> plotters::coord::combinators::WithKeyPoints<plotters::coord::combinators::LogCoord<f64>> {
    log_axis_over(log_range(lo, hi))
}

/// A log axis over exactly `range`, with [`log_ticks`] as its labelled points.
pub fn log_axis_over(
    range: std::ops::Range<f64>,
) -> plotters::coord::combinators::WithKeyPoints<plotters::coord::combinators::LogCoord<f64>> {
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
        assert!(log_ticks(&(1100.0..1400.0)).len() <= 2);
        assert_eq!(tick(1.0), "1");
        assert_eq!(tick(0.5), "0.5");
        assert_eq!(tick(20000.0), "20000");
    }

    #[test]
    fn words_wrap_at_spaces() {
        assert_eq!(wrap("aa bb cc dd", 5), vec!["aa bb", "cc dd"]);
        assert_eq!(
            wrap("averyverylongword x", 5),
            vec!["averyverylongword", "x"]
        );
        assert!(wrap("", 5).is_empty());
    }
}
