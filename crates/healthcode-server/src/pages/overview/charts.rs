//! Server-rendered SVG bar charts: no scripts, no external assets, readable at 375 px
//! (the SVG scales to its container), each with a data table beside it for screen
//! readers and for anyone who wants the numbers.

use healthcode_domain::Colour;

use crate::pages::layout::Ui;
use crate::pages::markup::{html, Markup};

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
pub(crate) fn bars(ui: &Ui, id: &str, title: &str, rows: &[Row]) -> Markup {
    let max = rows.iter().map(|r| r.segments.iter().map(|(_, n)| n).sum::<u64>()).max().unwrap_or(0).max(1);
    let height = (rows.len() as u64).max(1) * ROW + 10;
    let span = WIDTH - LABEL - TOTAL;
    let mut svg = html!(
        "<figure><figcaption id=\"{id}-title\"><strong>{title}</strong></figcaption><svg id=\"{id}\" class=\"chart\" role=\"img\" aria-labelledby=\"{id}-title\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"13\" font-family=\"system-ui, sans-serif\">",
        id = id,
        title = title,
        width = WIDTH,
        height = height,
    );
    if rows.is_empty() {
        svg.push(html!("<text x=\"0\" y=\"20\" fill=\"#111\">{none}</text>", none = ui.t("暂无数据", "No data yet")));
    }
    for (i, row) in rows.iter().enumerate() {
        let y = i as u64 * ROW + 5;
        svg.push(html!(
            "<text x=\"{x}\" y=\"{y}\" text-anchor=\"end\" fill=\"#111\">{label}</text>",
            x = LABEL - 8,
            y = y + BAR / 2 + 5,
            label = row.label,
        ));
        let mut x = LABEL;
        let mut total = 0;
        for &(colour, n) in row.segments.iter().filter(|(_, n)| *n > 0) {
            let w = (n * span).div_ceil(max).max(2);
            svg.push(html!(
                "<rect class=\"bar\" data-colour=\"{c}\" data-count=\"{n}\" x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{bar}\" fill=\"{f}\" stroke=\"#333\" stroke-width=\"1\"><title>{label} · {colour}: {n}</title></rect>",
                c = colour.as_str(),
                n = n,
                x = x,
                y = y,
                w = w,
                bar = BAR,
                f = fill(colour),
                label = row.label,
                colour = ui.colour(colour),
            ));
            x += w;
            total += n;
        }
        svg.push(html!(
            "<text x=\"{x}\" y=\"{y}\" fill=\"#111\">{total}</text>",
            x = x + 6,
            y = y + BAR / 2 + 5,
            total = total,
        ));
    }
    svg.push_literal("</svg>");
    svg.push(table(ui, rows));
    svg.push_literal("</figure>");
    svg
}

/// The chart's numbers as a table, folded away under `<details>`.
fn table(ui: &Ui, rows: &[Row]) -> Markup {
    let colours = [Colour::Red, Colour::Orange, Colour::Yellow, Colour::Green];
    let mut out = html!(
        "<details><summary>{summary}</summary><div class=\"scroll\"><table><tr><th scope=\"col\"></th>",
        summary = ui.t("数据表", "Data table")
    );
    for c in colours {
        out.push(html!("<th scope=\"col\">{colour}</th>", colour = ui.colour(c)));
    }
    out.push_literal("</tr>");
    for row in rows {
        out.push(html!("<tr><th scope=\"row\">{label}</th>", label = row.label));
        for c in colours {
            let n: u64 = row.segments.iter().filter(|(s, _)| *s == c).map(|(_, n)| n).sum();
            out.push(html!("<td>{n}</td>", n = n));
        }
        out.push_literal("</tr>");
    }
    out.push_literal("</table></div></details>");
    out
}
