//! Legends drawn in their own strip below a chart, so no entry ever covers data. Each
//! entry shows its series' line pattern and marker, so it can be matched in greyscale,
//! and the columns are as wide as the longest label (measured in the embedded font):
//! labels never run into each other.

use super::style::{Canvas, SeriesStyle};
use super::{text_width, DrawError};
use plotters::prelude::*;

/// One legend entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Text.
    pub label: String,
    /// The series' look.
    pub style: SeriesStyle,
    /// Whether the series has a line (else only its marker is shown).
    pub line: bool,
}

const SIZE: u32 = 13;
const ROW_H: u32 = 20;
const SAMPLE_W: i32 = 30;
const GAP: u32 = 20;
const MARGIN: u32 = 16;

/// Columns and column width of `entries` in a strip `width` pixels wide.
fn layout(entries: &[Entry], width: u32) -> (usize, u32) {
    let widest = entries
        .iter()
        .map(|e| text_width(&e.label, SIZE))
        .max()
        .unwrap_or(0);
    let col_w = widest + SAMPLE_W as u32 + 8 + GAP;
    let usable = width.saturating_sub(2 * MARGIN).max(1);
    let cols = (usable / col_w.max(1)).clamp(1, entries.len().max(1) as u32) as usize;
    (cols, col_w)
}

/// Height in pixels of the legend of `entries` in a strip `width` pixels wide.
pub fn height(entries: &[Entry], width: u32) -> u32 {
    if entries.is_empty() {
        return 0;
    }
    let (cols, _) = layout(entries, width);
    entries.len().div_ceil(cols) as u32 * ROW_H + 12
}

/// Draw `entries` in a strip `width` pixels wide whose top left corner is `origin`.
pub fn draw<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    entries: &[Entry],
    origin: (i32, i32),
    width: u32,
) -> Result<(), DrawError> {
    let (cols, col_w) = layout(entries, width);
    for (i, e) in entries.iter().enumerate() {
        let x = origin.0 + MARGIN as i32 + (i % cols) as i32 * col_w as i32;
        let y = origin.1 + 6 + (i / cols) as i32 * ROW_H as i32;
        let mid = y + ROW_H as i32 / 2 - 2;
        if e.line {
            canvas.line(&[(x, mid), (x + SAMPLE_W, mid)], &e.style)?;
        }
        canvas.marker((x + SAMPLE_W / 2, mid), e.style.marker, 4, e.style.color)?;
        canvas.text(&e.label, (x + SAMPLE_W + 8, y + 2), SIZE, BLACK)?;
    }
    Ok(())
}

/// Height of `lines` of notes at 13 px.
pub fn notes_height(lines: usize) -> u32 {
    if lines == 0 {
        0
    } else {
        lines as u32 * 18 + 8
    }
}

/// Draw notes, one line each, from `origin`.
pub fn draw_notes<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    lines: &[String],
    origin: (i32, i32),
) -> Result<(), DrawError> {
    for (i, l) in lines.iter().enumerate() {
        canvas.text(
            l,
            (origin.0 + MARGIN as i32, origin.1 + 4 + 18 * i as i32),
            SIZE,
            RGBColor(60, 60, 60),
        )?;
    }
    Ok(())
}
