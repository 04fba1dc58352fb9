//! Hover targets: what a reader of the HTML report sees when the pointer rests on a
//! point — its exact value, interval and sample count. plotters writes plain shapes, so
//! each chart records where its points are ([`Hover`], in the SVG's own pixels) and
//! [`inject`] appends one invisible circle per point, with a `<title>` the browser shows
//! as a tooltip (and the report's script as a faster one), just before `</svg>`. The PNG
//! is drawn from the same code and gets none of it.

use std::fmt::Write;

/// One point a reader can hover.
#[derive(Debug, Clone, PartialEq)]
pub struct Hover {
    /// Centre, SVG pixels.
    pub x: i32,
    /// Centre, SVG pixels.
    pub y: i32,
    /// Radius of the sensitive circle.
    pub r: u32,
    /// What the tooltip says.
    pub text: String,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `svg` with a group of hover targets appended before its closing tag.
pub fn inject(svg: &str, hovers: &[Hover]) -> String {
    if hovers.is_empty() {
        return svg.to_string();
    }
    let mut group = String::from("<g class=\"hovers\">\n");
    for h in hovers {
        let _ = writeln!(
            group,
            "<circle class=\"hover\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"#000\" fill-opacity=\"0\" data-tip=\"{}\"><title>{}</title></circle>",
            h.x,
            h.y,
            h.r,
            esc(&h.text),
            esc(&h.text)
        );
    }
    group.push_str("</g>\n");
    match svg.rfind("</svg>") {
        Some(at) => format!("{}{group}{}", &svg[..at], &svg[at..]),
        None => format!("{svg}{group}"),
    }
}

/// A figure with its interval and sample count, the way every tooltip says it:
/// `2480 Mops/s, 95 % interval 2470–2490, n = 7`.
pub fn figure(median: f64, low: f64, high: f64, unit: &str, n: &str) -> String {
    use crate::export::format::sig;
    format!(
        "{} {unit}, 95 % interval {}–{}, {n}",
        sig(median, 4),
        sig(low, 4),
        sig(high, 4)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_go_inside_the_svg_escaped() {
        let svg = "<svg width=\"10\" height=\"10\">\n<rect/>\n</svg>\n";
        let out = inject(
            svg,
            &[Hover {
                x: 3,
                y: 4,
                r: 6,
                text: "a<b & \"c\"".into(),
            }],
        );
        assert!(out.ends_with("</g>\n</svg>\n"), "{out}");
        assert!(
            out.contains("<title>a&lt;b &amp; &quot;c&quot;</title>"),
            "{out}"
        );
        assert_eq!(inject(svg, &[]), svg);
        assert_eq!(
            figure(2480.4, 2470.0, 2490.0, "Mops/s", "n = 7"),
            "2480 Mops/s, 95 % interval 2470–2490, n = 7"
        );
    }
}
