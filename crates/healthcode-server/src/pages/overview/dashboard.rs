//! The public dashboard: codes by colour now, the counties with the most non-green codes,
//! and colour changes per day from the transparency log, as SVG charts; and the active
//! rules, read only (officials change them on `/staff/rules`). It is public, so it shows
//! no small area and no small number: areas are counted by county (six digits, never a
//! street or a building), each county's counts are rounded to tens and those under ten
//! shown as none — the research export's rule, without its noise. The figures are
//! computed at most once a minute, whatever the number of visitors.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_domain::{Colour, Timestamp};
use healthcode_log::Entry;

use crate::pages::layout::Ui;
use crate::pages::markup::html;
use crate::pages::overview::charts::{bars, Row};
use crate::pages::overview::home::rules_table;
use crate::AppState;

/// How many areas the area chart shows.
const TOP_AREAS: usize = 10;
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
    by_county: Vec<(Option<String>, Segments)>,
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
    let by_area = state.service.overview().colour_counts_by_area().await.map_err(|e| e.to_string())?;
    let per_day = changes_per_day(state).await?;
    let complaints = state.service.overview().complaint_counts().await.map_err(|e| e.to_string())?;
    let figures = Figures { counts, by_county: by_county(by_area), per_day, complaints };
    *cached = Some((std::time::Instant::now(), figures.clone()));
    Ok(figures)
}

/// Codes by county (an area's first six digits) and colour, rounded to tens, under ten
/// shown as none.
fn by_county(rows: Vec<(Option<healthcode_domain::AreaCode>, Colour, u64)>) -> Vec<(Option<String>, Segments)> {
    let mut counties: BTreeMap<(Option<String>, Colour), u64> = BTreeMap::new();
    for (area, colour, n) in rows {
        let county = area.map(|a| a.normal().chars().take(6).collect::<String>());
        *counties.entry((county, colour)).or_default() += n;
    }
    let mut grouped: BTreeMap<Option<String>, Segments> = BTreeMap::new();
    for ((county, colour), n) in counties {
        let shown = if n < SMALLEST_SHOWN { 0 } else { (n + SMALLEST_SHOWN / 2) / SMALLEST_SHOWN * SMALLEST_SHOWN };
        grouped.entry(county).or_default().push((colour, shown));
    }
    grouped.into_iter().collect()
}

pub(crate) async fn dashboard(ui: Ui, State(state): State<AppState>) -> Response {
    let Figures { counts, by_county, per_day, complaints } = match figures(&state).await {
        Ok(figures) => figures,
        Err(e) => return ui.internal("computing the dashboard", e),
    };

    let mut body = html!("<h1>{title}</h1>", title = ui.t("数据看板", "Dashboard"));
    let now_rows: Vec<Row> = counts
        .iter()
        .map(|&(colour, n)| Row { label: ui.colour(colour).to_string(), segments: vec![(colour, n)] })
        .collect();
    body.push(bars(&ui, "chart-colours", ui.t("当前各色码人数", "Codes by colour now"), &now_rows));

    let mut areas = by_county;
    let not_green = |s: &[(Colour, u64)]| s.iter().filter(|(c, _)| *c != Colour::Green).map(|(_, n)| n).sum::<u64>();
    let total = |s: &[(Colour, u64)]| s.iter().map(|(_, n)| n).sum::<u64>();
    areas.sort_by(|a, b| {
        (not_green(&b.1), total(&b.1)).cmp(&(not_green(&a.1), total(&a.1))).then_with(|| a.0.cmp(&b.0))
    });
    let area_rows: Vec<Row> = areas
        .into_iter()
        .take(TOP_AREAS)
        .map(|(area, segments)| Row {
            label: area.unwrap_or_else(|| ui.t("未登记地区", "no area").to_string()),
            segments: ordered(segments),
        })
        .collect();
    body.push(bars(
        &ui,
        "chart-areas",
        ui.t(
            "非绿码最多的区县（按常住地；取整到十位，不足十人不显示）",
            "Counties with the most non-green codes (by residence; rounded to tens, fewer than ten not shown)",
        ),
        &area_rows,
    ));

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
