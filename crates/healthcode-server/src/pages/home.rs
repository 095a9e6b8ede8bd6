//! The front page: counts, the way to one's own code, and the active rules.

use std::fmt::Write;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_domain::RuleColour;
use healthcode_rules::RuleSet;

use super::layout::{esc, Ui};
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
    match state.service.stats().await {
        Ok(healthcode_service::Stats { persons, codes: counts, .. }) => {
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
        Err(e) => {
            tracing::error!(error = %e, "reading the statistics failed");
            let _ = write!(body, "<p>{}</p>", ui.t("统计暂不可用", "Statistics unavailable"));
        }
    }
    let _ = write!(
        body,
        "<p><a href=\"/me\">{}</a> · <a href=\"/signin\">{}</a></p>",
        ui.t("我的健康码", "My code"),
        ui.t("在本设备登录（粘贴居民密钥）", "Sign in on this device (paste your resident key)"),
    );
    if state.demo {
        let _ = write!(
            body,
            "<p><a href=\"/demo\">{}</a></p>",
            ui.t("示例居民（演示）", "Sample residents of every colour (demo)")
        );
    }
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
