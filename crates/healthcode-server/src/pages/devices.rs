//! Checkpoint devices for officials: every device a venue registered, and an Approve
//! button for a provincial officer. A device reads codes and ID cards, and so can look
//! people up; it checks nobody until approved (`POST /v1/devices/{id}/approve` is the same
//! service call).

use std::fmt::Write;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::layout::{esc, see_other, when, Ui};
use super::staff::{official, posted_official, refusal, staff_page};
use crate::api::policy::{permits, Action};
use crate::AppState;

/// How many devices the list shows (the newest).
const SHOWN: usize = 500;

pub(crate) async fn list(ui: Ui, State(state): State<AppState>) -> Response {
    let account = match official(&ui, &state, Action::ReadDevices).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    page(ui, &state, &account, StatusCode::OK, None).await
}

async fn page(
    ui: Ui,
    state: &AppState,
    account: &healthcode_store::Account,
    status: StatusCode,
    problem: Option<String>,
) -> Response {
    let devices = match state.service.devices(account, SHOWN).await {
        Ok(devices) => devices,
        Err(e) => return ui.internal("listing devices", e),
    };
    let title = ui.t("场所核验设备", "Checkpoint devices");
    let mut body = format!(
        "<h1>{title}</h1>{}<p>{}</p>",
        problem.unwrap_or_default(),
        ui.t(
            "核验设备读取健康码和身份证，可以查询人员：须经辖区覆盖该场所的省级官员批准后才能使用，并受每分钟查询次数限制。",
            "A device reads codes and ID cards, and so can look people up: it works only once a provincial officer whose jurisdiction covers the venue approves it, and within a limit of lookups a minute."
        )
    );
    if devices.is_empty() {
        let _ = write!(body, "<p>{}</p>", ui.t("尚无核验设备。", "No checkpoint devices yet."));
        return staff_page(ui, status, account, &title, &body);
    }
    let may_approve = permits(Action::ApproveDevice, account.role);
    let _ = write!(
        body,
        "<div class=\"scroll\"><table id=\"devices\"><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr>",
        ui.t("设备", "Device"),
        ui.t("场所", "Venue"),
        ui.t("登记时间", "Registered"),
        ui.t("批准", "Approval"),
    );
    for d in &devices {
        let approval = match (&d.approved_by, d.approved_at) {
            (Some(by), Some(at)) => format!("{} {} · {}", ui.t("已批准：", "Approved by"), esc(by), esc(&when(at))),
            _ if may_approve => format!(
                "<form class=\"inline\" method=\"post\" action=\"/staff/devices/{}/approve\"><button type=\"submit\">{}</button></form>",
                esc(&d.id),
                ui.t("批准此设备", "Approve")
            ),
            _ => ui.t("待批准", "Awaiting approval"),
        };
        let _ = write!(
            body,
            "<tr data-device=\"{id}\"><td><code>{id}</code> {}</td><td><code>{}</code></td><td>{}</td><td>{approval}</td></tr>",
            esc(&d.label),
            esc(&d.venue),
            esc(&when(d.registered_at)),
            id = esc(&d.id),
        );
    }
    body.push_str("</table></div>");
    staff_page(ui, status, account, &title, &body)
}

/// The same service call as `POST /v1/devices/{id}/approve`.
pub(crate) async fn approve(
    ui: Ui,
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let (ui, account) = match posted_official(ui, &state, &headers, Action::ApproveDevice).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Ok(Path(id)) = path else { return ui.error(StatusCode::NOT_FOUND, "没有这个设备", "no such device") };
    match state.service.approve_device(&account, &id).await {
        Ok(_) => see_other("/staff/devices"),
        Err(e) => match refusal(&ui, e) {
            Ok((status, problem)) => page(ui, &state, &account, status, Some(problem)).await,
            Err(response) => response,
        },
    }
}
