//! Server-rendered SVG charts — stacked bars and a treemap — with no scripts and no
//! external assets, readable at 375 px (the SVG scales to its container), each with its
//! numbers in a table beside it for screen readers and for anyone who wants them.

use healthcode_domain::Colour;

use crate::pages::layout::Ui;
use crate::pages::markup::{html, Markup};
use crate::pages::overview::treemap::{squarify, Rect};

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

/// What a treemap tile is drawn as: its worst state, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TileState {
    Red,
    Orange,
    Yellow,
    /// No code worse than green, but an area designation in force touches it.
    Designated,
    Green,
}

impl TileState {
    pub const ALL: [TileState; 5] =
        [TileState::Red, TileState::Orange, TileState::Yellow, TileState::Designated, TileState::Green];

    /// The page's class of the same colours (`.red`, `.designated`…) and `data-state`.
    pub fn class(self) -> &'static str {
        match self {
            TileState::Red => "red",
            TileState::Orange => "orange",
            TileState::Yellow => "yellow",
            TileState::Designated => "designated",
            TileState::Green => "green",
        }
    }

    /// What the state means in the legend. Under rounding (`exact` false) a county coloured
    /// green or designated may still have a few non-green codes, and the legend says so.
    pub fn words(self, ui: &Ui, exact: bool) -> &'static str {
        match (self, exact) {
            (TileState::Red, _) => ui.t("有红码", "Red codes"),
            (TileState::Orange, _) => ui.t("有橙码", "Orange codes"),
            (TileState::Yellow, _) => ui.t("有黄码", "Yellow codes"),
            (TileState::Designated, true) => ui.t("仅风险地区认定", "Designated area only"),
            (TileState::Designated, false) => {
                ui.t("风险地区认定，非绿码不足十人", "Designated area, fewer than ten non-green codes")
            }
            (TileState::Green, true) => ui.t("全部绿码", "All green"),
            (TileState::Green, false) => ui.t("非绿码不足十人", "Fewer than ten non-green codes"),
        }
    }

    /// The fill, and the text colour that reads on it (WCAG AA at the sizes used).
    fn colours(self) -> (&'static str, &'static str) {
        match self {
            TileState::Red => (fill(Colour::Red), "#fff"),
            TileState::Orange => (fill(Colour::Orange), "#fff"),
            TileState::Yellow => (fill(Colour::Yellow), "#111"),
            TileState::Designated => ("#5b2a86", "#fff"),
            TileState::Green => (fill(Colour::Green), "#fff"),
        }
    }
}

/// One tile of a treemap.
pub(crate) struct Tile {
    /// What `data-area` says: a county's code, or `unknown`, or `others`.
    pub key: String,
    /// The label and shorter forms of it, longest first: the first that fits is written,
    /// else the last cut short with an ellipsis, else none (the title still names it).
    pub labels: Vec<String>,
    /// A second line (the counts), written when the tile has room for it.
    pub detail: String,
    /// The tile's `<title>`: the full name and every figure.
    pub title: String,
    /// The tile's area.
    pub value: u64,
    pub state: TileState,
    /// An area designation in force touches it: drawn with a dashed outline.
    pub designated: bool,
    /// More `data-` attributes (name, value), for tests and for anyone reading the SVG.
    pub data: Vec<(&'static str, u64)>,
}

const MAP_WIDTH: f64 = 360.0;
const MAP_HEIGHT: f64 = 240.0;
/// Large-text mode: the map is taller and its text larger (an SVG's text does not follow
/// the page's root font size).
const MAP_HEIGHT_LARGE: f64 = 320.0;
const FONT: f64 = 13.0;
const FONT_LARGE: f64 = 18.0;
const PAD: f64 = 4.0;

/// A squarified treemap of `tiles` (areas by value; tiles of value 0 are left out), each
/// coloured by its state, labelled when its name fits, with a `<title>`; then a legend
/// (`exact`: the numbers are not rounded). The caller puts the table of the same numbers
/// beside it.
pub(crate) fn treemap(ui: &Ui, id: &str, title: &str, tiles: &[Tile], exact: bool) -> Markup {
    let (height, font) = if ui.large { (MAP_HEIGHT_LARGE, FONT_LARGE) } else { (MAP_HEIGHT, FONT) };
    let values: Vec<u64> = tiles.iter().map(|t| t.value).collect();
    let rects = squarify(&values, Rect { x: 0.0, y: 0.0, w: MAP_WIDTH, h: height });
    let mut svg = html!(
        "<figure><figcaption id=\"{id}-title\"><strong>{title}</strong></figcaption><svg id=\"{id}\" class=\"chart\" role=\"img\" aria-labelledby=\"{id}-title\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"{font}\" font-family=\"system-ui, sans-serif\">",
        id = id,
        title = title,
        width = MAP_WIDTH as u64,
        height = height as u64,
        font = font as u64,
    );
    if rects.iter().all(Option::is_none) {
        svg.push(html!("<text x=\"0\" y=\"20\" fill=\"#111\">{none}</text>", none = ui.t("暂无数据", "No data yet")));
    }
    for (tile, rect) in tiles.iter().zip(&rects) {
        let Some(r) = rect else { continue };
        let (fill, ink) = tile.state.colours();
        let mut data = Markup::new();
        for (name, value) in &tile.data {
            data.push(html!(" data-{name}=\"{value}\"", name = *name, value = *value));
        }
        let outline = if tile.designated {
            Markup::literal(" stroke=\"#111\" stroke-width=\"3\" stroke-dasharray=\"6 3\"")
        } else {
            Markup::literal(" stroke=\"#fff\" stroke-width=\"1.5\"")
        };
        // A dashed outline is drawn inside the tile, so that a neighbour does not hide it.
        let inset = if tile.designated { 1.5 } else { 0.0 };
        svg.push(html!(
            "<g class=\"tile\" data-area=\"{key}\" data-state=\"{state}\"{data}><title>{title}</title><rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"{fill}\"{outline}/>",
            key = tile.key,
            state = tile.state.class(),
            data = data,
            title = tile.title,
            x = number(r.x + inset),
            y = number(r.y + inset),
            w = number((r.w - 2.0 * inset).max(0.0)),
            h = number((r.h - 2.0 * inset).max(0.0)),
            fill = fill,
            outline = outline,
        ));
        let room = r.w - 2.0 * PAD;
        if r.h >= font + 2.0 * PAD {
            if let Some(label) = fit(&tile.labels, font, room) {
                svg.push(html!(
                    "<text x=\"{x}\" y=\"{y}\" fill=\"{ink}\">{label}</text>",
                    x = number(r.x + PAD),
                    y = number(r.y + PAD + font * 0.9),
                    ink = ink,
                    label = label,
                ));
                let small = font * 0.85;
                if r.h >= font + small * 1.3 + 2.0 * PAD && text_width(&tile.detail, small) <= room {
                    svg.push(html!(
                        "<text x=\"{x}\" y=\"{y}\" fill=\"{ink}\" font-size=\"{size}\">{detail}</text>",
                        x = number(r.x + PAD),
                        y = number(r.y + PAD + font * 0.9 + small * 1.3),
                        ink = ink,
                        size = number(small),
                        detail = tile.detail,
                    ));
                }
            }
        }
        svg.push_literal("</g>");
    }
    svg.push_literal("</svg>");
    svg.push(legend(ui, exact));
    svg.push_literal("</figure>");
    svg
}

/// What each fill and the dashed outline mean.
fn legend(ui: &Ui, exact: bool) -> Markup {
    let mut out = html!("<ul class=\"legend\" aria-label=\"{legend}\">", legend = ui.t("图例", "Legend"));
    for state in TileState::ALL {
        out.push(html!(
            "<li><span class=\"swatch {class}\" aria-hidden=\"true\"></span>{words}</li>",
            class = state.class(),
            words = state.words(ui, exact),
        ));
    }
    out.push(html!(
        "<li><span class=\"swatch dashed\" aria-hidden=\"true\"></span>{words}</li></ul><p class=\"muted\">{area}</p>",
        words = ui.t("虚线框：有现行风险地区认定", "Dashed outline: an area designation in force"),
        area = ui.t(
            "面积表示居民人数，颜色表示最严重的状态（红、橙、黄、认定、绿）。",
            "Area shows residents; colour the worst state (red, orange, yellow, designated, green).",
        ),
    ));
    out
}

/// A coordinate with one decimal, as SVG reads it.
fn number(v: f64) -> String {
    format!("{:.1}", (v * 10.0).round() / 10.0)
}

/// About how wide `text` is at `font` (user units): CJK and other wide characters take a
/// full em, the rest about six tenths. A guess on the wide side, so that a label that
/// fits by it fits in any of the usual fonts.
fn text_width(text: &str, font: f64) -> f64 {
    text.chars().map(|c| if (c as u32) >= 0x2E80 || c == '…' { 1.0 } else { 0.62 }).sum::<f64>() * font
}

/// The first of `labels` that fits `room`, else the last one cut short with an ellipsis,
/// else none.
fn fit(labels: &[String], font: f64, room: f64) -> Option<String> {
    if let Some(label) = labels.iter().find(|l| text_width(l, font) <= room) {
        return Some(label.clone());
    }
    let last: Vec<char> = labels.last()?.chars().collect();
    (1..last.len())
        .rev()
        .map(|k| format!("{}…", last[..k].iter().collect::<String>()))
        .find(|l| text_width(l, font) <= room)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_shortened_to_fit_or_left_out() {
        let labels = vec!["西湖区".to_string(), "西湖".to_string()];
        assert_eq!(fit(&labels, 13.0, 100.0).as_deref(), Some("西湖区"));
        assert_eq!(fit(&labels, 13.0, 30.0).as_deref(), Some("西湖"));
        assert_eq!(fit(&["新疆生产建设兵团".to_string()], 13.0, 60.0).as_deref(), Some("新疆生…"));
        assert_eq!(fit(&labels, 13.0, 10.0), None);
        let english = vec!["Xihu District".to_string(), "Xihu".to_string()];
        assert_eq!(fit(&english, 13.0, 200.0).as_deref(), Some("Xihu District"));
        assert_eq!(fit(&english, 13.0, 40.0).as_deref(), Some("Xihu"));
        assert_eq!(fit(&english, 13.0, 25.0).as_deref(), Some("X…"));
        let long = vec!["Shangcheng District".to_string(), "Shangcheng".to_string()];
        assert_eq!(fit(&long, 13.0, 55.0).as_deref(), Some("Shang…"));
    }

    #[test]
    fn worst_states_sort_first() {
        let mut states = vec![TileState::Green, TileState::Designated, TileState::Red, TileState::Yellow];
        states.sort();
        assert_eq!(states, [TileState::Red, TileState::Yellow, TileState::Designated, TileState::Green]);
    }
}
