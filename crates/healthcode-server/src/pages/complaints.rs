//! The complaints queue (申诉): the complaints of residents within the officer's
//! jurisdiction, newest first, open ones with a form to answer. An answer never sets a
//! colour; the page says so next to the form.

use std::collections::HashMap;
use std::fmt::Write;

use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use healthcode_store::Account;

use super::layout::{esc, see_other, when, Ui};
use super::rights::{answer_html, status_name};
use super::staff::{official, posted_official, refusal, staff_page};
use crate::api::policy::{permits, Action};
use crate::api::{query_params, RawQuery};
use crate::AppState;

pub(crate) async fn queue(ui: Ui, State(state): State<AppState>, query: RawQuery) -> Response {
    let account = match official(&ui, &state, Action::ReadComplaints).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    let all = query_params(query).ok().and_then(|q| q.get("status").cloned()).is_some_and(|s| s == "all");
    queue_page(ui, &state, &account, all, StatusCode::OK, None).await
}

async fn queue_page(
    ui: Ui,
    state: &AppState,
    account: &Account,
    all: bool,
    status: StatusCode,
    problem: Option<String>,
) -> Response {
    let list = match state.service.complaint_queue(account, !all).await {
        Ok(list) => list,
        Err(e) => return ui.internal("listing complaints", e),
    };
    let title = ui.t("申诉", "Complaints");
    let mut body = format!("<h1>{title}</h1>");
    if let Some(problem) = problem {
        // Already HTML: `refusal` builds it from escaped parts.
        body.push_str(&problem);
    }
    let _ = write!(
        body,
        "<p>{} · <a href=\"/staff/complaints{}\">{}</a></p><p class=\"muted\">{}</p>",
        if all { ui.t("全部申诉", "All complaints") } else { ui.t("待处理的申诉", "Open complaints") },
        if all { "" } else { "?status=all" },
        if all { ui.t("只看待处理", "Open only") } else { ui.t("查看全部", "Show all") },
        ui.t(
            "答复不会改变健康码颜色：记录有误时转交提供记录的部门更正，颜色随证据重新计算。查看本页已记入相关居民的访问记录。",
            "An answer changes no colour: a wrong record goes to the department that made it, and the colour follows the corrected evidence. Viewing this page is in each resident's access log."
        ),
    );
    if list.is_empty() {
        let _ = write!(body, "<p>{}</p>", ui.t("没有申诉。", "No complaints."));
    }
    let may_answer = permits(Action::AnswerComplaints, account.role);
    for c in &list {
        let id = esc(&c.id);
        let _ = write!(
            body,
            "<article class=\"notice\" id=\"{id}\"><p><strong>{}</strong> · {} · {} <code>{}</code> · {} {}</p><p>{} {} ({})</p><p>{}</p>",
            status_name(&ui, c.status),
            esc(&when(c.filed_at)),
            ui.t("居民", "resident"),
            esc(c.person.as_str()),
            ui.t("地区", "area"),
            esc(c.area.as_deref().unwrap_or("—")),
            ui.t("申诉时颜色", "colour when filed"),
            esc(&c.colour_at_filing),
            esc(&c.reasons_at_filing.join(", ")),
            esc(&c.text),
        );
        if let Some(answer) = &c.answer {
            body.push_str(&answer_html(&ui, answer));
        } else if may_answer {
            let _ = write!(
                body,
                r#"<form method="post" action="/staff/complaints/{id}/answer"><label for="status-{id}">{outcome}</label>
<select id="status-{id}" name="status"><option value="referred">{referred}</option><option value="upheld">{upheld}</option><option value="dismissed">{dismissed}</option></select>
<label for="text-{id}">{text}</label><textarea id="text-{id}" name="text" required minlength="5" maxlength="2000" rows="3"></textarea>
<button type="submit">{submit}</button></form>"#,
                outcome = ui.t("处理结果", "Outcome"),
                referred = ui.t("转相关部门核对", "Refer to the department"),
                upheld = ui.t("成立（已更正）", "Upheld (corrected)"),
                dismissed = ui.t("不成立", "Dismissed"),
                text = ui.t("答复居民", "Answer to the resident"),
                submit = ui.t("答复", "Answer"),
            );
        }
        body.push_str("</article>");
    }
    staff_page(ui, status, account, &title, &body)
}

pub(crate) async fn answer(
    ui: Ui,
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let (ui, account) = match posted_official(ui, &state, &headers, Action::AnswerComplaints).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Ok(Path(id)) = path else {
        return ui.error(StatusCode::NOT_FOUND, "没有这个申诉", "no such complaint");
    };
    let form = form.map(|Form(f)| f).unwrap_or_default();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    match state.service.answer_complaint(&account, &id, field("status"), field("text")).await {
        Ok(_) => see_other("/staff/complaints?status=all"),
        Err(e) => match refusal(&ui, e) {
            Ok((status, problem)) => queue_page(ui, &state, &account, false, status, Some(problem)).await,
            Err(response) => response,
        },
    }
}
