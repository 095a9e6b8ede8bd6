//! Gate devices for officials: every device a venue registered, and an Approve
//! button for a provincial officer. A device reads codes and ID cards, and so can look
//! people up; it checks nobody until approved (`POST /v1/devices/{id}/approve` is the same
//! service call).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_store::Account;

use crate::api::policy::{may, permits, Action};
use crate::pages::accounts::officials::{redirect_or_refuse, staff_page};
use crate::pages::extract::{Official, PageId};
use crate::pages::layout::{when, Ui};
use crate::pages::markup::{html, Markup};
use crate::AppState;

/// How many devices the list shows (the newest).
const SHOWN: usize = 500;

pub(crate) async fn list(State(state): State<AppState>, official: Official<may::ReadDevices>) -> Response {
    page(official.ui, &state, &official.account, StatusCode::OK, None).await
}

async fn page(ui: Ui, state: &AppState, account: &Account, status: StatusCode, problem: Option<Markup>) -> Response {
    let devices = match state.service.venues().devices(account, SHOWN).await {
        Ok(devices) => devices,
        Err(e) => return ui.internal("listing devices", e),
    };
    let title = ui.t("场所核验设备", "Gate devices");
    let mut body = html!(
        "<h1>{title}</h1>{problem}<p>{intro}</p>",
        title = title,
        problem = problem.unwrap_or_default(),
        intro = ui.t(
            "核验设备读取健康码和身份证，可以查询人员：须经辖区覆盖该场所的省级官员批准后才能使用，并受每分钟查询次数限制。",
            "A device reads codes and ID cards, and so can look people up: it works only once a provincial officer whose jurisdiction covers the venue approves it, and within a limit of lookups a minute."
        )
    );
    if devices.is_empty() {
        body.push(html!("<p>{none}</p>", none = ui.t("尚无核验设备。", "No gate devices yet.")));
        return staff_page(ui, status, account, title, body);
    }
    let may_approve = permits(Action::ApproveDevice, account.role);
    body.push(html!(
        "<div class=\"scroll\"><table id=\"devices\"><tr><th scope=\"col\">{device}</th><th scope=\"col\">{venue}</th><th scope=\"col\">{registered}</th><th scope=\"col\">{approval}</th></tr>",
        device = ui.t("设备", "Device"),
        venue = ui.t("场所", "Venue"),
        registered = ui.t("登记时间", "Registered"),
        approval = ui.t("批准", "Approval"),
    ));
    for d in &devices {
        let approval = match (&d.approved_by, d.approved_at) {
            (Some(by), Some(at)) => {
                html!("{word} {by} · {at}", word = ui.t("已批准：", "Approved by"), by = by, at = when(at))
            }
            _ if may_approve => html!(
                "<form class=\"inline\" method=\"post\" action=\"/staff/devices/{id}/approve\"><button type=\"submit\">{approve}</button></form>",
                id = d.id,
                approve = ui.t("批准此设备", "Approve")
            ),
            _ => Markup::text(ui.t("待批准", "Awaiting approval")),
        };
        body.push(html!(
            "<tr data-device=\"{id}\"><td><code>{id}</code> {label}</td><td><code>{venue}</code></td><td>{registered}</td><td>{approval}</td></tr>",
            id = d.id,
            label = d.label,
            venue = d.venue,
            registered = when(d.registered_at),
            approval = approval,
        ));
    }
    body.push_literal("</table></div>");
    staff_page(ui, status, account, title, body)
}

/// The same service call as `POST /v1/devices/{id}/approve`.
pub(crate) async fn approve(
    State(state): State<AppState>,
    Official { ui, account, .. }: Official<may::ApproveDevice>,
    PageId(id): PageId,
) -> Response {
    let result = state.service.venues().approve_device(&account, &id).await;
    let (state, account) = (&state, &account);
    redirect_or_refuse(
        ui,
        result,
        |_| "/staff/devices".into(),
        move |ui, status, problem| page(ui, state, account, status, Some(problem)),
    )
    .await
}
