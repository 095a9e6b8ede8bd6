//! The national hub's public page: the regions it registered (their root keys, the trust
//! lists they published, when each last spoke to the hub), the agreements between them,
//! the national list of risk levels (every area's latest level, as its region designated
//! it), and the size of its log, which anyone can audit (`/v1/log/…`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_service::national::Role;

use crate::pages::layout::{when, Ui};
use crate::pages::markup::{html, Markup};
use crate::AppState;

pub(crate) async fn hub(ui: Ui, State(state): State<AppState>) -> Response {
    let national = state.service.national();
    if !matches!(national.role(), Role::Hub) {
        return ui.error(StatusCode::NOT_FOUND, "这里不是全国互认平台。", "This server is not the national hub.");
    }
    let overview = match national.hub_overview().await {
        Ok(overview) => overview,
        Err(e) => return ui.internal("reading the hub's regions", e),
    };
    let levels = match national.risk_levels().await {
        Ok(levels) => levels,
        Err(e) => return ui.internal("reading the hub's risk levels", e),
    };
    let name = |region: &str| {
        healthcode_places::Divisions::embedded().get(region).map_or_else(
            || ui.t("全国健康码", "the national code").to_string(),
            |d| ui.t(d.full_name(), d.full_name_en()).to_string(),
        )
    };
    let mut regions = Markup::new();
    for r in &overview.regions {
        regions.push(html!(
            "<tr><td><code>{code}</code> {name}</td><td><code>{root}</code></td><td>{sequence}</td><td>{contact}</td></tr>",
            code = r.region,
            name = name(&r.region),
            root = r.root_key.chars().take(12).collect::<String>(),
            sequence = r.trust_list_sequence.map_or_else(|| "—".to_string(), |s| s.to_string()),
            contact = r.last_contact.map_or_else(|| "—".to_string(), |t| when(t).to_string()),
        ));
    }
    let mut agreements = Markup::new();
    for a in &overview.agreements {
        agreements.push(html!(
            "<tr><td>{receiving}</td><td>{issuing}</td><td>{from}</td><td>{until}</td></tr>",
            receiving = name(&a.receiving),
            issuing = name(&a.issuing),
            from = when(a.from),
            until = a.until.map_or_else(|| "—".to_string(), |t| when(t).to_string()),
        ));
    }
    let mut level_rows = Markup::new();
    let mut listed = 0;
    // Low levels are the rule, not news: the list shows the areas under a measure.
    for l in levels.iter().filter(|l| l.level != healthcode_domain::RiskLevel::Low) {
        let place = healthcode_domain::AreaCode::parse(&l.area).map_or_else(
            |_| String::new(),
            |area| {
                let place = healthcode_places::Divisions::embedded().place(&area);
                ui.t(&place.name, &place.name_en).to_string()
            },
        );
        listed += 1;
        level_rows.push(html!(
            "<tr><td><code>{area}</code> {place}</td><td>{level}</td><td>{since}</td><td>{region}</td></tr>",
            area = l.area,
            place = place,
            level = match l.level {
                healthcode_domain::RiskLevel::High => ui.t("高风险", "high"),
                healthcode_domain::RiskLevel::Medium => ui.t("中风险", "medium"),
                healthcode_domain::RiskLevel::Low => ui.t("低风险", "low"),
            },
            since = when(l.since),
            region = name(&l.region),
        ));
    }
    let levels_table = if listed == 0 {
        html!(
            "<p class=\"muted\">{none}</p>",
            none = ui.t("目前没有中高风险地区。", "No area is at medium or high risk now.")
        )
    } else {
        html!(
            "<table><tr><th>{area}</th><th>{level}</th><th>{since}</th><th>{by}</th></tr>{rows}</table>",
            area = ui.t("地区", "Area"),
            level = ui.t("风险等级", "Level"),
            since = ui.t("起", "From"),
            by = ui.t("认定地区", "Designated by"),
            rows = level_rows,
        )
    };
    let body = html!(
        r#"<h1>{title}</h1><p>{what}</p><h2>{regions_title}</h2><table><tr><th>{region}</th><th>{root}</th><th>{list}</th><th>{contact}</th></tr>{regions}</table>
<h2>{agreements_title}</h2><table><tr><th>{receiving}</th><th>{issuing}</th><th>{from}</th><th>{until}</th></tr>{agreements}</table>
<h2>{levels_title}</h2>{levels_table}
<p class="muted">{log} {size} · <a href="/v1/log/checkpoint">/v1/log/checkpoint</a> · <a href="/v1/log/key">/v1/log/key</a></p>"#,
        title = ui.t("全国互认平台", "National hub"),
        what = ui.t(
            "各省共享证据（重点人员、检测结果）而不是颜色；每一条都在下面可审计的日志里，各省按自己的规则判定。",
            "Provinces share evidence (key persons, test results), never colours; every record is in the auditable log below, and each province judges it by its own rules."
        ),
        regions_title = ui.t("已登记的地区", "Registered regions"),
        region = ui.t("地区", "Region"),
        root = ui.t("根密钥", "Root key"),
        list = ui.t("信任列表版本", "Trust list"),
        contact = ui.t("最近联系", "Last contact"),
        regions = regions,
        agreements_title = ui.t("互认协议", "Agreements"),
        receiving = ui.t("认可方", "Recognised by"),
        issuing = ui.t("签发方", "Codes of"),
        from = ui.t("起", "From"),
        until = ui.t("止", "Until"),
        agreements = agreements,
        levels_title = ui.t("中高风险地区", "Medium- and high-risk areas"),
        levels_table = levels_table,
        log = ui.t("日志条目", "Log entries"),
        size = overview.log_size,
    );
    ui.page(StatusCode::OK, ui.t("全国互认平台", "National hub"), body)
}
