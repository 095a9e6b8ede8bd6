//! Contact tracing for health officers: find the persons admitted at the same venues as
//! a case, nearest in time first, then confirm those the investigation bears out. Nothing
//! changes colour before a provincial officer other than the one who confirmed approves
//! the confirmation; then it is the health department's evidence like any other.

use std::fmt::Write;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use healthcode_domain::{PersonId, Timestamp};
use healthcode_service::Trace;
use healthcode_store::Account;

use super::layout::{esc, see_other, when, Ui};
use super::staff::{four_eyes_note, official, posted_official, refusal, staff_page};
use crate::api::policy::{permits, Action};
use crate::AppState;

fn trace_form(ui: &Ui) -> String {
    format!(
        r#"<form method="post" action="/staff/traces"><label for="case">{case}</label><input id="case" name="case" required maxlength="64" autocomplete="off">
<label for="days">{days}</label><input id="days" name="days" type="number" min="1" max="28" value="14" inputmode="numeric">
<label for="window">{window}</label><input id="window" name="window" type="number" min="1" max="240" value="30" inputmode="numeric">
<button type="submit">{submit}</button></form>"#,
        case = ui.t("确诊病例的编号", "The confirmed case's person id"),
        days = ui.t("回溯天数（传染期）", "Days to look back (contagious period)"),
        window = ui.t("同场所时间窗口（分钟）", "Window at the same venue (minutes)"),
        submit = ui.t("查找密接", "Find contacts"),
    )
}

pub(crate) async fn page(ui: Ui, State(state): State<AppState>) -> Response {
    let account = match official(&ui, &state, Action::TraceContacts).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    let title = ui.t("场所密接排查", "Contact tracing from check-ins");
    let body = format!(
        "<h1>{title}</h1><p class=\"muted\">{}</p>{}",
        ui.t(
            "列出与病例（阳性或确诊、疑似、无症状，且在您的辖区内）在同一场所、时间窗口内登记的人员。您的确认须经另一位省级官员批准后，才作为卫健部门的密接证据改变健康码。每次查找都记入相关人员的访问记录。",
            "Lists the persons admitted at the venues of a case (a positive test, or a confirmed, suspected or asymptomatic diagnosis, within your jurisdiction) within the window. Your confirmation changes codes, as the health department's close-contact evidence, only when another provincial officer approves it. Every search is in each listed person's access log."
        ),
        trace_form(&ui)
    );
    staff_page(ui, StatusCode::OK, &account, &title, &body)
}

fn trace_page(ui: Ui, account: &Account, trace: &Trace, status: StatusCode, problem: Option<String>) -> Response {
    let title = ui.t("密接排查结果", "Contacts found");
    let mut body = format!("<h1>{title}</h1>");
    if let Some(problem) = problem {
        body.push_str(&problem);
    }
    let _ = write!(
        body,
        "<p>{} <code>{}</code> · {} – {} · {} {} {}</p>",
        ui.t("病例", "Case"),
        esc(trace.case.as_str()),
        esc(&when(trace.from)),
        esc(&when(trace.to)),
        ui.t("窗口", "window"),
        trace.window_minutes,
        ui.t("分钟", "minutes"),
    );
    if let Some(pending) = &trace.pending {
        let action = if !permits(Action::ApproveTrace, account.role) {
            String::new()
        } else if let Some(why) = four_eyes_note(&ui, account, &pending.proposed_by, &[]) {
            format!("<p class=\"muted\">{why}</p>")
        } else {
            format!(
                "<form method=\"post\" action=\"/staff/traces/{}/approve\"><button type=\"submit\" id=\"approve-trace\">{}</button></form>",
                esc(&trace.id),
                ui.t("批准：这些人员成为密接", "Approve: these persons become close contacts")
            )
        };
        let _ = write!(
            body,
            "<article class=\"notice\" id=\"pending\"><h2>{}</h2><p>{} {} · {} · {} {}</p>{action}</article>",
            ui.t("待批准的确认", "Confirmation awaiting approval"),
            ui.t("确认人：", "Confirmed by"),
            esc(&pending.proposed_by),
            esc(&when(pending.proposed_at)),
            pending.persons.len(),
            ui.t("人", "persons"),
        );
    }
    if trace.contacts.is_empty() {
        let _ = write!(body, "<p>{}</p>", ui.t("没有找到同场所的人员。", "Nobody was admitted near the case."));
        return staff_page(ui, status, account, &title, &body);
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/staff/traces/{}/confirm\"><div class=\"scroll\"><table id=\"contacts\"><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr>",
        esc(&trace.id),
        ui.t("确认", "Confirm"),
        ui.t("人员", "Person"),
        ui.t("场所", "Venue"),
        ui.t("病例 / 此人到场", "Case / contact admitted"),
        ui.t("相隔", "Gap"),
    );
    for (i, c) in trace.contacts.iter().enumerate() {
        let pending = trace.pending.as_ref().is_some_and(|p| p.persons.contains(&c.person));
        let check = if trace.confirmed.contains(&c.person) {
            ui.t("已确认", "confirmed")
        } else if pending {
            ui.t("待批准", "awaiting approval")
        } else {
            format!(
                "<input type=\"checkbox\" id=\"c{i}\" name=\"person\" value=\"{}\"><label class=\"inline\" for=\"c{i}\">{}</label>",
                esc(c.person.as_str()),
                ui.t("密接", "contact")
            )
        };
        let _ = write!(
            body,
            "<tr><td>{check}</td><td><code>{}</code></td><td>{}</td><td>{} / {}</td><td>{} {}</td></tr>",
            esc(c.person.as_str()),
            esc(&c.venue),
            esc(&when(c.case_at)),
            esc(&when(c.contact_at)),
            c.gap_minutes,
            ui.t("分钟", "min"),
        );
    }
    let _ = write!(
        body,
        "</table></div><button type=\"submit\">{}</button></form>",
        ui.t("确认所选为密接", "Confirm the chosen as close contacts")
    );
    staff_page(ui, status, account, &title, &body)
}

pub(crate) async fn trace(
    ui: Ui,
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (ui, account) = match posted_official(ui, &state, &headers, Action::TraceContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let form = form.map(|Form(f)| f).unwrap_or_default();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string());
    let Some(case) = field("case").and_then(|c| PersonId::parse(&c).ok()) else {
        return ui.error(StatusCode::UNPROCESSABLE_ENTITY, "病例编号无效", "not a valid person id");
    };
    let days: i64 = field("days").and_then(|d| d.parse().ok()).unwrap_or(14);
    let window: i64 = field("window").and_then(|w| w.parse().ok()).unwrap_or(30);
    let to = state.service.now();
    let from = Timestamp::from_millis(to.as_millis() - days.clamp(1, 28) * 86_400_000);
    match state.service.trace_contacts(&account, case, from, to, window).await {
        Ok(trace) => see_other(&format!("/staff/traces/{}", trace.id)),
        Err(e) => match refusal(&ui, e) {
            Ok((status, problem)) => {
                let title = ui.t("场所密接排查", "Contact tracing from check-ins");
                let body = format!("<h1>{title}</h1>{problem}{}", trace_form(&ui));
                staff_page(ui, status, &account, &title, &body)
            }
            Err(response) => response,
        },
    }
}

pub(crate) async fn show(ui: Ui, State(state): State<AppState>, path: Result<Path<String>, PathRejection>) -> Response {
    let account = match official(&ui, &state, Action::TraceContacts).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    let Ok(Path(id)) = path else { return ui.error(StatusCode::NOT_FOUND, "没有这次排查", "no such trace") };
    match state.service.trace(&account, &id).await {
        Ok(Some(trace)) => trace_page(ui, &account, &trace, StatusCode::OK, None),
        Ok(None) => ui.error(StatusCode::NOT_FOUND, "没有这次排查", "no such trace"),
        Err(e) => ui.internal("reading a trace", e),
    }
}

pub(crate) async fn confirm(
    ui: Ui,
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    form: Result<Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (ui, account) = match posted_official(ui, &state, &headers, Action::TraceContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Ok(Path(id)) = path else { return ui.error(StatusCode::NOT_FOUND, "没有这次排查", "no such trace") };
    let persons: Vec<PersonId> = form
        .map(|Form(f)| f)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k == "person")
        .filter_map(|(_, v)| PersonId::parse(&v).ok())
        .collect();
    match state.service.confirm_trace(&account, &id, &persons).await {
        Ok(_) => see_other(&format!("/staff/traces/{id}")),
        Err(e) => match (refusal(&ui, e), state.service.trace(&account, &id).await) {
            (Ok((status, problem)), Ok(Some(trace))) => trace_page(ui, &account, &trace, status, Some(problem)),
            (Ok((status, problem)), _) => ui.page(status, &ui.t("错误", "Error"), &problem),
            (Err(response), _) => response,
        },
    }
}

/// The same service call as `POST /v1/traces/{id}/approve`.
pub(crate) async fn approve(
    ui: Ui,
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let (ui, account) = match posted_official(ui, &state, &headers, Action::ApproveTrace).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Ok(Path(id)) = path else { return ui.error(StatusCode::NOT_FOUND, "没有这次排查", "no such trace") };
    match state.service.approve_trace(&account, &id).await {
        Ok(_) => see_other(&format!("/staff/traces/{id}")),
        Err(e) => match (refusal(&ui, e), state.service.trace(&account, &id).await) {
            (Ok((status, problem)), Ok(Some(trace))) => trace_page(ui, &account, &trace, status, Some(problem)),
            (Ok((status, problem)), _) => ui.page(status, &ui.t("错误", "Error"), &problem),
            (Err(response), _) => response,
        },
    }
}
