//! Legends drawn in their own strip below a chart, so no entry ever covers data.

use super::{de, DrawError, FONT};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One legend entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Text.
    pub label: String,
    /// Series colour.
    pub color: RGBColor,
    /// Drawn with a thick stroke (summary series).
    pub thick: bool,
}

/// Height in pixels of a legend of `n` entries in `columns` columns.
pub fn height(n: usize, columns: usize) -> u32 {
    let rows = n.div_ceil(columns.max(1));
    (rows as u32) * 20 + 16
}

/// Draw `entries` in a grid of `columns` columns filling `area`.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
    columns: usize,
) -> Result<(), DrawError> {
    let columns = columns.max(1);
    let (w, _) = area.dim_in_pixel();
    let col_w = (w as i32 - 40) / columns as i32;
    for (i, e) in entries.iter().enumerate() {
        let x = 20 + (i % columns) as i32 * col_w;
        let y = 8 + (i / columns) as i32 * 20;
        let stroke = if e.thick { 4 } else { 2 };
        area.draw(&PathElement::new(
            vec![(x, y + 8), (x + 24, y + 8)],
            e.color.stroke_width(stroke),
        ))
        .map_err(de)?;
        area.draw(&Circle::new((x + 12, y + 8), 3, e.color.filled()))
            .map_err(de)?;
        area.draw(&Text::new(
            e.label.clone(),
            (x + 30, y),
            (FONT, 14).into_font().color(&BLACK),
        ))
        .map_err(de)?;
    }
    Ok(())
}
