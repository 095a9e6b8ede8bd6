//! Server-rendered SVG bar charts: no scripts, no external assets, readable at 375 px
//! (the SVG scales to its container), each with a data table beside it for screen
//! readers and for anyone who wants the numbers.

use std::fmt::Write;

use healthcode_domain::Colour;

use super::layout::{esc, Ui};

/// One row of a chart: a label and its stacked segments.
pub(crate) struct Row {
    pub label: String,
    pub segments: Vec<(Colour, u64)>,
}

fn fill(colour: Colour) -> &'static str {
    match colour {
        Colour::Green => "#0a6b2b",
        Colour::Yellow => "#f2c200",
        Colour::Orange => "#a84300",
        Colour::Red => "#b00020",
    }
}

/// Near a phone's width (375 px less margins), so that the text stays readable there.
const WIDTH: u64 = 360;
const LABEL: u64 = 96;
const ROW: u64 = 30;
const BAR: u64 = 22;
/// Room for the total written after the longest bar.
const TOTAL: u64 = 44;

/// A horizontal stacked bar chart. `id` names it (tests and `aria-labelledby` use it).
pub(crate) fn bars(ui: &Ui, id: &str, title: &str, rows: &[Row]) -> String {
    let max = rows.iter().map(|r| r.segments.iter().map(|(_, n)| n).sum::<u64>()).max().unwrap_or(0).max(1);
    let height = (rows.len() as u64).max(1) * ROW + 10;
    let span = WIDTH - LABEL - TOTAL;
    let mut svg = format!(
        "<figure><figcaption id=\"{id}-title\"><strong>{}</strong></figcaption><svg id=\"{id}\" class=\"chart\" role=\"img\" aria-labelledby=\"{id}-title\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"13\" font-family=\"system-ui, sans-serif\">",
        esc(title)
    );
    if rows.is_empty() {
        let _ = write!(svg, "<text x=\"0\" y=\"20\" fill=\"#111\">{}</text>", ui.t("暂无数据", "No data yet"));
    }
    for (i, row) in rows.iter().enumerate() {
        let y = i as u64 * ROW + 5;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#111\">{}</text>",
            LABEL - 8,
            y + BAR / 2 + 5,
            esc(&row.label)
        );
        let mut x = LABEL;
        let mut total = 0;
        for &(colour, n) in row.segments.iter().filter(|(_, n)| *n > 0) {
            let w = (n * span).div_ceil(max).max(2);
            let _ = write!(
                svg,
                "<rect class=\"bar\" data-colour=\"{c}\" data-count=\"{n}\" x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{BAR}\" fill=\"{f}\" stroke=\"#333\" stroke-width=\"1\"><title>{} · {}: {n}</title></rect>",
                esc(&row.label),
                ui.colour(colour),
                c = colour.as_str(),
                f = fill(colour),
            );
            x += w;
            total += n;
        }
        let _ = write!(svg, "<text x=\"{}\" y=\"{}\" fill=\"#111\">{total}</text>", x + 6, y + BAR / 2 + 5);
    }
    svg.push_str("</svg>");
    svg.push_str(&table(ui, rows));
    svg.push_str("</figure>");
    svg
}

/// The chart's numbers as a table, folded away under `<details>`.
fn table(ui: &Ui, rows: &[Row]) -> String {
    let colours = [Colour::Red, Colour::Orange, Colour::Yellow, Colour::Green];
    let mut out = format!(
        "<details><summary>{}</summary><div class=\"scroll\"><table><tr><th scope=\"col\"></th>",
        ui.t("数据表", "Data table")
    );
    for c in colours {
        let _ = write!(out, "<th scope=\"col\">{}</th>", ui.colour(c));
    }
    out.push_str("</tr>");
    for row in rows {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", esc(&row.label));
        for c in colours {
            let n: u64 = row.segments.iter().filter(|(s, _)| *s == c).map(|(_, n)| n).sum();
            let _ = write!(out, "<td>{n}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</table></div></details>");
    out
}
