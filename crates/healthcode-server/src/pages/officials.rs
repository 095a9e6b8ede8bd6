//! The officials' lists with their Approve buttons: area designations proposed by local
//! offices, management decisions (R5/Y3), and the alarms raised for auditors. Each action
//! is the JSON API's service call behind the same policy check (`staff::official`).

use std::fmt::Write;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use healthcode_domain::DecisionColour;
use healthcode_store::{Account, DecisionStatus};

use super::layout::{esc, see_other, when, Ui};
use super::staff::{four_eyes_note, official, refusal, staff_page};
use crate::api::policy::{permits, Action};
use crate::api::{query_params, RawQuery};
use crate::AppState;

/// How many decisions and alarms a list shows (the newest).
const SHOWN: usize = 200;

fn approve_button(ui: &Ui, action: &str, label_zh: &str, label_en: &str) -> String {
    format!(
        "<form class=\"inline\" method=\"post\" action=\"{}\"><button type=\"submit\">{}</button></form>",
        esc(action),
        ui.t(label_zh, label_en)
    )
}

/// "Your approval is recorded" after a successful approval (`?approved=1`).
fn done_message(ui: &Ui, query: RawQuery) -> Option<String> {
    let approved = query_params(query).ok().is_some_and(|q| q.contains_key("approved"));
    approved.then(|| {
        format!("<p role=\"status\" class=\"done\">{}</p>", ui.t("您的批准已记录。", "Your approval is recorded."))
    })
}

pub(crate) async fn designations(ui: Ui, State(state): State<AppState>, query: RawQuery) -> Response {
    let account = match official(&ui, &state, Action::ReadDesignationProposals).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    let message = done_message(&ui, query);
    designations_page(ui, &state, &account, StatusCode::OK, message).await
}

async fn designations_page(
    ui: Ui,
    state: &AppState,
    account: &Account,
    status: StatusCode,
    message: Option<String>,
) -> Response {
    let proposals = match state.service.designation_proposals().await {
        Ok(p) => p,
        Err(e) => return ui.internal("listing designation proposals", e),
    };
    let title = ui.t("风险地区认定", "Area designations");
    let mut body = format!(
        "<h1>{title}</h1>{}<p>{}</p>",
        message.unwrap_or_default(),
        ui.t(
            "地方防控办的认定（包括升级为红码地区）须经一位省级官员（非提议人）批准后才生效。",
            "A local office's designation (an escalation to red included) takes effect only when a provincial officer other than the proposer approves it."
        )
    );
    if proposals.is_empty() {
        let _ = write!(body, "<p>{}</p>", ui.t("尚无认定提议。", "No designation proposals yet."));
        return staff_page(ui, status, account, &title, &body);
    }
    let may_approve = permits(Action::ApproveDesignation, account.role);
    let _ = write!(
        body,
        "<div class=\"scroll\"><table id=\"designations\"><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr>",
        ui.t("地区", "Area"),
        ui.t("风险等级", "Risk level"),
        ui.t("提议人", "Proposed by"),
        ui.t("批准", "Approval"),
    );
    for p in &proposals {
        let level = match p.level.as_str() {
            "high" => ui.t("高风险", "high"),
            "medium" => ui.t("中风险", "medium"),
            _ => ui.t("低风险", "low"),
        };
        let red = if p.escalate_to_red {
            format!("<br><strong>{}</strong>", ui.t("升级为红码地区", "escalated to red"))
        } else {
            String::new()
        };
        let approval = match (&p.approved_by, p.approved_at) {
            (Some(by), Some(at)) => format!(
                "{} {}<br><span class=\"muted\">{}</span>",
                ui.t("已批准：", "approved by"),
                esc(by),
                esc(&when(at))
            ),
            _ if may_approve => match four_eyes_note(&ui, account, &p.proposed_by, &[]) {
                Some(why) => format!("{}<br><span class=\"muted\">{why}</span>", ui.t("待批准", "awaiting approval")),
                None => format!(
                    "{}{}",
                    ui.t("待批准", "awaiting approval"),
                    approve_button(&ui, &format!("/staff/designations/{}/approve", p.id), "批准", "Approve")
                ),
            },
            _ => ui.t("待批准", "awaiting approval"),
        };
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{level}{red}</td><td>{}<br><span class=\"muted\">{}</span></td><td>{approval}</td></tr>",
            esc(p.area.as_str()),
            esc(&p.proposed_by),
            esc(&when(p.proposed_at)),
        );
    }
    body.push_str("</table></div>");
    staff_page(ui, status, account, &title, &body)
}

/// The same service call as `POST /v1/designations/proposals/{id}/approve`.
pub(crate) async fn approve_designation(
    ui: Ui,
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let ui = match ui.posted(&headers) {
        Ok(ui) => ui,
        Err(refused) => return refused,
    };
    let account = match official(&ui, &state, Action::ApproveDesignation).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    let Ok(Path(id)) = path else {
        return ui.error(StatusCode::NOT_FOUND, "没有这个认定提议", "no such designation proposal");
    };
    match state.service.approve_designation(&account, &id).await {
        Ok(_) => see_other("/staff/designations?approved=1"),
        Err(e) => match refusal(&ui, e) {
            Ok((status, problem)) => designations_page(ui, &state, &account, status, Some(problem)).await,
            Err(response) => response,
        },
    }
}

pub(crate) async fn decisions(ui: Ui, State(state): State<AppState>, query: RawQuery) -> Response {
    let account = match official(&ui, &state, Action::ReadDecisions).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    let message = done_message(&ui, query);
    decisions_page(ui, &state, &account, StatusCode::OK, message).await
}

async fn decisions_page(
    ui: Ui,
    state: &AppState,
    account: &Account,
    status: StatusCode,
    message: Option<String>,
) -> Response {
    let decisions = match state.service.store().decisions(SHOWN).await {
        Ok(d) => d,
        Err(e) => return ui.internal("listing decisions", e),
    };
    let title = ui.t("管理决定", "Management decisions");
    let mut body = format!(
        "<h1>{title}</h1>{}<p>{}</p>",
        message.unwrap_or_default(),
        ui.t(
            "管理决定须写明法律依据和期限，经两位省级官员（均非提议人）批准后，才作为证据改变所列人员的健康码。",
            "A decision states its legal basis and term; only when two provincial officers, neither the proposer, approve it does it become evidence that changes the codes of the persons it names."
        )
    );
    if decisions.is_empty() {
        let _ = write!(body, "<p>{}</p>", ui.t("尚无管理决定。", "No management decisions yet."));
        return staff_page(ui, status, account, &title, &body);
    }
    let may_approve = permits(Action::ApproveDecision, account.role);
    for d in &decisions {
        let colour = match d.colour {
            DecisionColour::Red => ui.t("红码", "red"),
            DecisionColour::Yellow => ui.t("黄码", "yellow"),
        };
        let approvers: Vec<String> =
            d.approvals.iter().map(|a| format!("{} ({})", esc(&a.by), esc(&when(a.at)))).collect();
        let state_words = match d.status {
            DecisionStatus::Applied => ui.t("已批准并执行", "approved and applied"),
            DecisionStatus::Proposed => format!("{} ({}/2)", ui.t("待批准", "awaiting approval"), d.approvals.len()),
        };
        let _ = write!(
            body,
            "<article class=\"notice\" id=\"{id}\"><h2>{colour} · {} {}</h2><dl><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{} · {}{}</dd><dt>{}</dt><dd>{}</dd></dl>",
            d.persons.len(),
            ui.t("人", "persons"),
            ui.t("法律依据", "Legal basis"),
            esc(&d.basis),
            ui.t("有效期至", "Until"),
            esc(&when(d.until)),
            ui.t("状态", "Status"),
            state_words,
            ui.t("提议", "Proposed"),
            esc(&d.proposed_by),
            esc(&when(d.proposed_at)),
            d.jurisdiction.as_deref().map(|j| format!(" · {} {}", ui.t("辖区", "jurisdiction"), esc(j))).unwrap_or_default(),
            ui.t("批准人", "Approved by"),
            if approvers.is_empty() { ui.t("（尚无）", "(none yet)") } else { approvers.join(", ") },
            id = esc(&d.id),
        );
        if may_approve && d.status == DecisionStatus::Proposed {
            match four_eyes_note(&ui, account, &d.proposed_by, &d.approvals) {
                Some(why) => {
                    let _ = write!(body, "<p class=\"muted\">{why}</p>");
                }
                None => body.push_str(&approve_button(
                    &ui,
                    &format!("/staff/decisions/{}/approve", d.id),
                    "批准此决定",
                    "Approve this decision",
                )),
            }
        }
        body.push_str("</article>");
    }
    staff_page(ui, status, account, &title, &body)
}

/// The same service call as `POST /v1/decisions/{id}/approve`.
pub(crate) async fn approve_decision(
    ui: Ui,
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let ui = match ui.posted(&headers) {
        Ok(ui) => ui,
        Err(refused) => return refused,
    };
    let account = match official(&ui, &state, Action::ApproveDecision).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    let Ok(Path(id)) = path else {
        return ui.error(StatusCode::NOT_FOUND, "没有这个管理决定", "no such decision");
    };
    match state.service.approve_decision(&account, &id).await {
        Ok(_) => see_other("/staff/decisions?approved=1"),
        Err(e) => match refusal(&ui, e) {
            Ok((status, problem)) => decisions_page(ui, &state, &account, status, Some(problem)).await,
            Err(response) => response,
        },
    }
}

/// The alarms, newest first: mass decisions, bursts of small ones, unusual approvers,
/// forwarded venue codes. Each is also in the transparency log.
pub(crate) async fn alarms(ui: Ui, State(state): State<AppState>) -> Response {
    let account = match official(&ui, &state, Action::ReadAlarms).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    // The store reads alarms oldest first after an id; the page wants the newest, and
    // alarms are few (each one is an event worth an auditor's time), so read them all.
    let mut alarms = Vec::new();
    let mut after = 0;
    loop {
        let page = match state.service.store().alarms(after, 1000).await {
            Ok(page) => page,
            Err(e) => return ui.internal("listing alarms", e),
        };
        let Some(last) = page.last() else { break };
        after = last.id;
        let full = page.len() == 1000;
        alarms.extend(page);
        if alarms.len() > SHOWN {
            alarms.drain(..alarms.len() - SHOWN);
        }
        if !full {
            break;
        }
    }
    alarms.reverse();
    let title = ui.t("告警", "Alarms");
    let mut body = format!("<h1>{title}</h1>");
    if alarms.is_empty() {
        let _ = write!(body, "<p>{}</p>", ui.t("没有告警。", "No alarms."));
        return staff_page(ui, StatusCode::OK, &account, &title, &body);
    }
    let _ = write!(
        body,
        "<div class=\"scroll\"><table id=\"alarms\"><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr>",
        ui.t("时间", "At"),
        ui.t("类型", "Kind"),
        ui.t("辖区", "Jurisdiction"),
        ui.t("详情", "Detail"),
    );
    for a in &alarms {
        let kind = match a.alarm.kind.as_str() {
            "mass_decision" => ui.t("大规模管理决定", "mass decision"),
            "decision_burst" => ui.t("短时间内大量管理决定", "burst of decisions"),
            "approver_share" => ui.t("同一官员批准比例过高", "one approver's unusual share"),
            "forwarded_venue_code" => ui.t("场所码被转发", "forwarded venue code"),
            other => esc(other),
        };
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{kind}<br><code>{}</code></td><td>{}</td><td>{}{}</td></tr>",
            esc(&when(a.alarm.at)),
            esc(&a.alarm.kind),
            esc(&a.alarm.jurisdiction),
            esc(&a.alarm.detail),
            a.alarm
                .log_index
                .map(|i| format!(" <span class=\"muted\">({} #{i})</span>", ui.t("透明日志", "log entry")))
                .unwrap_or_default(),
        );
    }
    body.push_str("</table></div>");
    staff_page(ui, StatusCode::OK, &account, &title, &body)
}
