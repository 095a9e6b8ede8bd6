//! The front page (counts, look-up, the active rules), the look-up redirect and the
//! sample residents of the demo region.

use std::fmt::Write;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_domain::{Colour, PersonId, RuleColour};
use healthcode_rules::RuleSet;

use super::layout::{esc, see_other, Ui};
use crate::api::{query_params, RawQuery};
use crate::AppState;

pub(crate) async fn index(ui: Ui, State(state): State<AppState>) -> Response {
    let mut body = format!(
        "<h1>{}</h1><p>{}</p><ul><li><a href=\"/register\">{}</a></li><li><a href=\"/venues/new\">{}</a> · <a href=\"/scan\">{}</a></li><li><a href=\"/verify\">{}</a></li><li><a href=\"/dashboard\">{}</a></li></ul>",
        ui.t("健康码", "Health codes"),
        ui.t("红、黄、绿码，每一种颜色都有理由。", "Red, yellow and green codes, each colour with its reasons."),
        ui.t("居民：登记并领取健康码", "Residents: register and get your code"),
        ui.t("场所：登记场所、展示场所码", "Venues: register and display a venue code"),
        ui.t("扫场所码登记", "check in at a venue"),
        ui.t("核验：查验健康码", "Verifiers: check a code"),
        ui.t("数据看板", "Officials' dashboard"),
    );
    let persons = state.service.store().person_count().await.map_err(crate::ApiError::from);
    match (persons, crate::api::colour_counts(&state).await) {
        (Ok(persons), Ok(counts)) => {
            let _ = write!(
                body,
                "<p>{}: <strong>{persons}</strong></p><table><caption>{}</caption><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr>",
                ui.t("登记人数", "Registered persons"),
                ui.t("各色码人数", "Persons by code colour"),
                ui.t("颜色", "Colour"),
                ui.t("人数", "Persons"),
            );
            for (colour, n) in counts {
                let _ = write!(
                    body,
                    "<tr><td><span class=\"swatch {c}\" aria-hidden=\"true\"></span>{}</td><td>{n}</td></tr>",
                    ui.colour(colour),
                    c = colour.as_str()
                );
            }
            body.push_str("</table>");
        }
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = ?e, "reading the statistics failed");
            let _ = write!(body, "<p>{}</p>", ui.t("统计暂不可用", "Statistics unavailable"));
        }
    }
    let _ = write!(
        body,
        r#"<form action="/lookup" method="get"><label for="person">{}</label>
<input id="person" name="id" required maxlength="64" autocomplete="off"> <button type="submit">{}</button></form>
<p><a href="/demo">{}</a></p>"#,
        ui.t("查询健康码（输入登记时返回的编号）", "Look up a code by the person id returned at registration"),
        ui.t("查询", "Look up"),
        ui.t("示例居民", "Sample residents of every colour"),
    );
    body.push_str(&rules_table(&ui, &state.service.rules()));
    ui.page(StatusCode::OK, &ui.t("健康码", "Health code"), &body)
}

/// The active rule set, read only (changing it waits for the approval workflow).
pub(crate) fn rules_table(ui: &Ui, rules: &RuleSet) -> String {
    let mut out = format!(
        "<h2>{}</h2><p>{} · {} {} · <code>{}</code></p><div class=\"scroll\"><table><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr>",
        ui.t("赋码规则", "Colour rules"),
        esc(rules.name()),
        ui.t("版本", "version"),
        esc(rules.version()),
        esc(rules.digest()),
        ui.t("规则", "Rule"),
        ui.t("颜色", "Colour"),
        ui.t("内容", "Title"),
    );
    for rule in rules.rules() {
        let colour = match rule.colour {
            RuleColour::Red => ui.t("红", "red"),
            RuleColour::Yellow => ui.t("黄", "yellow"),
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{colour}</td><td>{}</td></tr>",
            esc(rule.id),
            ui.t(&rule.title.zh, &rule.title.en),
        );
    }
    out.push_str("</table></div>");
    out
}

/// The look-up form's target: sends the browser on to `/persons/{id}`.
pub(crate) async fn lookup(ui: Ui, query: RawQuery) -> Response {
    let wanted = query_params(query).ok().and_then(|q| q.get("id").map(|id| id.trim().to_string()));
    match wanted.as_deref().map(PersonId::parse) {
        // A person id is letters, digits, `-` and `_`: safe in a path as is.
        Some(Ok(id)) => see_other(&format!("/persons/{id}")),
        _ => ui.error(
            StatusCode::BAD_REQUEST,
            "这不是有效的编号：编号由字母、数字、- 和 _ 组成",
            "not a valid person id: letters, digits, - and _",
        ),
    }
}

pub(crate) async fn demo(ui: Ui, State(state): State<AppState>) -> Response {
    let mut body = format!("<h1>{}</h1>", ui.t("示例居民", "Sample residents"));
    let _ = write!(body, "<p>{}</p>", ui.t("每种颜色最多 10 人", "Up to 10 persons of each colour"));
    for colour in [Colour::Red, Colour::Orange, Colour::Yellow, Colour::Green] {
        let codes = match state.service.store().codes_with_colour(colour, 10).await {
            Ok(codes) => codes,
            Err(e) => return ui.internal("listing codes by colour", e),
        };
        let _ = write!(
            body,
            "<h2><span class=\"swatch {c}\" aria-hidden=\"true\"></span>{}</h2>",
            ui.colour(colour),
            c = colour.as_str()
        );
        if codes.is_empty() {
            let _ = write!(body, "<p>{}</p>", ui.t("无", "None"));
            continue;
        }
        body.push_str("<ul>");
        for code in codes {
            let id = esc(code.person.as_str());
            let _ = write!(body, "<li><a href=\"/persons/{id}\">{id}</a> {}</li>", esc(&code.reasons.join(", ")));
        }
        body.push_str("</ul>");
    }
    ui.page(StatusCode::OK, &ui.t("示例居民", "Sample residents"), &body)
}
