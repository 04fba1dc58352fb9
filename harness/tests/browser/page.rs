//! What the browser test asks of a page: one script that measures it (sizes, sections,
//! links, hover titles, overlapping chart labels), one that reads a table column, and
//! the colour count of a screenshot.

/// What the page looks like to a script: sizes, sections, links, titles, overlaps.
pub const INSPECT: &str = r##"(() => {
  const de = document.documentElement;
  const boxes = [...document.querySelectorAll('div.table')]
    .filter(d => d.scrollWidth > d.clientWidth + 1)
    .map(d => (d.querySelector('th') || {}).textContent + ' ' + d.scrollWidth + '>' + d.clientWidth);
  const links = [...document.querySelectorAll('a[href^="#"]')]
    .filter(a => !document.getElementById(a.getAttribute('href').slice(1)))
    .map(a => a.getAttribute('href'));
  const titles = [...document.querySelectorAll('svg title')].map(t => t.textContent);
  const overlaps = [];
  let labels = 0;
  for (const fig of document.querySelectorAll('figure')) {
    const svg = fig.querySelector('svg');
    if (!svg) continue;
    const bs = [];
    for (const t of svg.querySelectorAll('text')) {
      const s = t.textContent.trim();
      if (!s) continue;
      const b = t.getBBox();
      if (b.width < 0.5 || b.height < 0.5) continue;
      const m = t.getCTM();
      const pts = [[b.x, b.y], [b.x + b.width, b.y], [b.x, b.y + b.height], [b.x + b.width, b.y + b.height]]
        .map(([x, y]) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f]);
      const xs = pts.map(p => p[0]), ys = pts.map(p => p[1]);
      bs.push({s, x0: Math.min(...xs), x1: Math.max(...xs), y0: Math.min(...ys), y1: Math.max(...ys)});
    }
    labels += bs.length;
    for (let i = 0; i < bs.length; i++) for (let j = 0; j < i; j++) {
      const a = bs[i], b = bs[j];
      const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0), h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
      if (w > 1 && h > 1) overlaps.push(fig.id + ': "' + a.s + '" and "' + b.s + '"');
    }
  }
  return {scrollWidth: de.scrollWidth, clientWidth: de.clientWidth,
    sections: [...document.querySelectorAll('section[id]')].map(s => s.id),
    wide: boxes, broken: links, titles: titles.length, sample: titles.slice(0, 3),
    overlaps, labels, figures: document.querySelectorAll('figure svg').length,
    resources: performance.getEntriesByType('resource').length,
    scripts: document.querySelectorAll('script[src]').length};
})()"##;

/// A function of a table selector and a column index: the numbers in that column of
/// the table's body, in row order.
pub const COLUMN: &str = r#"((sel, col) => [...document.querySelector(sel).tBodies[0].rows]
  .map(r => parseFloat(r.cells[col].textContent)).filter(v => !isNaN(v)))"#;

/// Distinct colours and the share of non-white pixels of a PNG.
pub fn colours(png_bytes: &[u8]) -> (usize, f64) {
    let decoder = png::Decoder::new(png_bytes);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = info.color_type.samples();
    let mut seen = std::collections::HashSet::new();
    let mut ink = 0usize;
    let n = (info.width * info.height) as usize;
    for p in buf[..n * px].chunks(px) {
        seen.insert((p[0], p[1], p[2]));
        if p[0] < 245 || p[1] < 245 || p[2] < 245 {
            ink += 1;
        }
    }
    (seen.len(), ink as f64 / n as f64)
}
