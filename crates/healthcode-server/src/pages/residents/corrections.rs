//! A department's correction requests on the pages: the record to check and why (never
//! the resident's words); the department withdraws the record (a retraction, evidence
//! like any other) or finds it right.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_service::{AtPolicy, ServiceError, Source};
use healthcode_store::Account;
use serde_json::json;

use crate::api::policy::may;
use crate::pages::accounts::officials::{redirect_or_refuse, staff_page};
use crate::pages::extract::{Official, PageId, Posted};
use crate::pages::layout::{when, Ui};
use crate::pages::markup::{html, Markup};
use crate::AppState;

pub(crate) async fn queue(
    State(state): State<AppState>,
    Official { ui, account, .. }: Official<may::SubmitEvidence>,
) -> Response {
    queue_page(ui, &state, &account, StatusCode::OK, None).await
}

async fn queue_page(
    ui: Ui,
    state: &AppState,
    account: &Account,
    status: StatusCode,
    problem: Option<Markup>,
) -> Response {
    let list = match state.service.residents().correction_queue(account).await {
        Ok(list) => list,
        Err(ServiceError::Forbidden(m)) => return ui.error(StatusCode::FORBIDDEN, &m, &m),
        Err(e) => return ui.internal("listing correction requests", e),
    };
    let title = ui.t("更正请求", "Correction requests");
    let mut body = html!(
        "<h1>{title}</h1>{problem}<p class=\"muted\">{note}</p>",
        title = title,
        problem = problem.unwrap_or_default(),
        note = ui.t(
            "申诉处理人员请本部门核查的记录。记录有误请撤回（撤回记入透明日志，相关健康码立即重新计算）；无误请说明理由。查看本页已记入相关居民的访问记录。",
            "Records a complaint handler asks this department to check. Withdraw a wrong record (the withdrawal is in the transparency log and the code is computed again at once); otherwise say why it stands. Viewing this page is in each resident's access log."
        ),
    );
    if list.is_empty() {
        body.push(html!("<p>{none}</p>", none = ui.t("没有待核查的请求。", "No requests waiting.")));
    }
    for r in &list {
        body.push(html!(
            r#"<article class="notice" id="{id}"><p><strong>{grade}</strong> · {due_word} {due} · <code>{event}</code> ({kind}, {recorded}) · {person_word} <code>{person}</code></p><p>{by} {asked}: {text}</p>
<form method="post" action="/staff/corrections/{id}/retract"><label for="reason-{id}">{reason}</label><textarea id="reason-{id}" name="reason" required minlength="5" maxlength="500" rows="2"></textarea><button type="submit">{retract}</button></form>
<form method="post" action="/staff/corrections/{id}/decline"><label for="decline-{id}">{why}</label><textarea id="decline-{id}" name="text" required minlength="5" maxlength="1000" rows="2"></textarea><button type="submit">{decline}</button></form></article>"#,
            id = r.complaint_id,
            grade = if r.grade == "urgent" { ui.t("紧急", "urgent") } else { ui.t("一般", "normal") },
            due_word = ui.t("办结时限", "due by"),
            due = r.due_at.map(when).unwrap_or_default(),
            event = r.event_id.as_str(),
            kind = r.kind,
            recorded = r.recorded_at.map(when).unwrap_or_default(),
            person_word = ui.t("居民", "resident"),
            person = r.person_id.as_str(),
            by = r.requested_by,
            asked = when(r.requested_at),
            text = r.text,
            reason = ui.t("撤回理由（记入居民的解释）", "Why it is withdrawn (the resident reads it)"),
            retract = ui.t("撤回该记录", "Withdraw the record"),
            why = ui.t("记录无误的理由", "Why the record stands"),
            decline = ui.t("记录无误", "The record stands"),
        ));
    }
    staff_page(ui, status, account, title, body)
}

/// Withdraws the record a request names: a retraction from this department, checked and
/// logged like any other, after which the complaint follows.
pub(crate) async fn retract(
    State(state): State<AppState>,
    Official { account, .. }: Official<may::SubmitEvidence>,
    PageId(id): PageId,
    Posted { ui, form }: Posted,
) -> Response {
    let reason = form.get("reason").map(String::as_str).unwrap_or_default();
    let result = async {
        let request = state.service.residents().waiting_correction(&account, &id).await?;
        let department = account.department.ok_or_else(|| ServiceError::Forbidden("no department".into()))?;
        let row = json!({"id": format!("retract-{id}"), "person_id": request.person_id, "type": "retraction",
                         "retracts": request.event_id, "reason": reason})
        .to_string();
        let report = state
            .service
            .evidence()
            .ingest_owned(
                Source::Department(department),
                Some(&account.username),
                &[1],
                &[row],
                AtPolicy::ServerClock,
                "page",
            )
            .await?;
        if let Some(refused) = report.rows.iter().find(|r| r.error.is_some()) {
            return Err(
                healthcode_domain::ValidationError::field("reason", refused.error.clone().unwrap_or_default()).into()
            );
        }
        state.service.residents().follow_up_complaints().await?;
        Ok::<_, ServiceError>(())
    }
    .await;
    back(ui, &state, &account, result).await
}

pub(crate) async fn decline(
    State(state): State<AppState>,
    Official { account, .. }: Official<may::SubmitEvidence>,
    PageId(id): PageId,
    Posted { ui, form }: Posted,
) -> Response {
    let text = form.get("text").map(String::as_str).unwrap_or_default();
    let result = state.service.residents().decline_correction(&account, &id, text).await;
    back(ui, &state, &account, result).await
}

async fn back<T>(ui: Ui, state: &AppState, account: &Account, result: Result<T, ServiceError>) -> Response {
    redirect_or_refuse(
        ui,
        result,
        |_| "/staff/corrections".into(),
        move |ui, status, problem| queue_page(ui, state, account, status, Some(problem)),
    )
    .await
}
