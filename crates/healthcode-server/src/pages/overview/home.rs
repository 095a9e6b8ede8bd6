//! The front page: counts, the way to one's own code, and the active rules.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_domain::RuleColour;
use healthcode_rules::RuleSet;

use crate::pages::layout::Ui;
use crate::pages::markup::{html, Markup};
use crate::AppState;

pub(crate) async fn index(ui: Ui, State(state): State<AppState>) -> Response {
    let mut body = html!(
        "<h1>{title}</h1><p>{promise}</p><ul><li><a href=\"/register\">{register}</a></li><li><a href=\"/venues/new\">{venues}</a> · <a href=\"/scan\">{scan}</a></li><li><a href=\"/verify\">{verify}</a></li><li><a href=\"/dashboard\">{dashboard}</a></li></ul>",
        title = ui.t("健康码", "Health codes"),
        promise = ui.t("红、黄、绿码，每一种颜色都有理由。", "Red, yellow and green codes, each colour with its reasons."),
        register = ui.t("居民：登记并领取健康码", "Residents: register and get your code"),
        venues = ui.t("场所：登记场所、展示场所码", "Venues: register and display a venue code"),
        scan = ui.t("扫场所码登记", "check in at a venue"),
        verify = ui.t("核验：查验健康码", "Verifiers: check a code"),
        dashboard = ui.t("数据看板", "Officials' dashboard"),
    );
    match state.service.overview().stats().await {
        Ok(healthcode_service::Stats { persons, codes: counts, .. }) => {
            body.push(html!(
                "<p>{registered}: <strong>{persons}</strong></p><table><caption>{caption}</caption><tr><th scope=\"col\">{colour}</th><th scope=\"col\">{count}</th></tr>",
                registered = ui.t("登记人数", "Registered persons"),
                persons = persons,
                caption = ui.t("各色码人数", "Persons by code colour"),
                colour = ui.t("颜色", "Colour"),
                count = ui.t("人数", "Persons"),
            ));
            for (colour, n) in counts {
                body.push(html!(
                    "<tr><td><span class=\"swatch {c}\" aria-hidden=\"true\"></span>{name}</td><td>{n}</td></tr>",
                    c = colour.as_str(),
                    name = ui.colour(colour),
                    n = n,
                ));
            }
            body.push_literal("</table>");
        }
        Err(e) => {
            tracing::error!(error = %e, "reading the statistics failed");
            body.push(html!("<p>{text}</p>", text = ui.t("统计暂不可用", "Statistics unavailable")));
        }
    }
    body.push(html!(
        "<p><a href=\"/me\">{mine}</a> · <a href=\"/signin\">{signin}</a></p>",
        mine = ui.t("我的健康码", "My code"),
        signin = ui.t("在本设备登录（粘贴居民密钥）", "Sign in on this device (paste your resident key)"),
    ));
    if state.demo {
        body.push(html!(
            "<p><a href=\"/demo\">{demo}</a></p>",
            demo = ui.t("示例居民（演示）", "Sample residents of every colour (demo)")
        ));
    }
    body.push(rules_table(&ui, &state.service.codes().rules()));
    ui.page(StatusCode::OK, ui.t("健康码", "Health code"), body)
}

/// The active rule set, read only (changing it waits for the approval workflow).
pub(crate) fn rules_table(ui: &Ui, rules: &RuleSet) -> Markup {
    let mut out = html!(
        "<h2>{heading}</h2><p>{name} · {version_word} {version} · <code>{digest}</code></p><div class=\"scroll\"><table><tr><th scope=\"col\">{rule}</th><th scope=\"col\">{colour}</th><th scope=\"col\">{title}</th></tr>",
        heading = ui.t("赋码规则", "Colour rules"),
        name = rules.name(),
        version_word = ui.t("版本", "version"),
        version = rules.version(),
        digest = rules.digest(),
        rule = ui.t("规则", "Rule"),
        colour = ui.t("颜色", "Colour"),
        title = ui.t("内容", "Title"),
    );
    for rule in rules.rules() {
        let colour = match rule.colour {
            RuleColour::Red => ui.t("红", "red"),
            RuleColour::Yellow => ui.t("黄", "yellow"),
        };
        out.push(html!(
            "<tr><td>{id}</td><td>{colour}</td><td>{title}</td></tr>",
            id = rule.id,
            colour = colour,
            title = ui.t(&rule.title.zh, &rule.title.en),
        ));
    }
    out.push_literal("</table></div>");
    out
}
