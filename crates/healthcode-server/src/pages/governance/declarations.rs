//! Declarations waiting for a second official, on the officials' pages: what a key given
//! at a service counter declared (the official who gave it has seen it, so it does not
//! count on their word alone). An official of the person's district other than the giver
//! opens one with a purpose (into the person's access log), then confirms or refuses it.
//! The same service calls as `/v1/declarations/…`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_service::{OpenedDeclaration, ServiceError};
use healthcode_store::Account;

use crate::api::policy::may;
use crate::pages::accounts::officials::{redirect_or_refuse, staff_page};
use crate::pages::extract::{Official, PageId, Posted};
use crate::pages::layout::{when, Ui};
use crate::pages::markup::{html, Markup};
use crate::AppState;

fn title(ui: &Ui) -> &'static str {
    ui.t("待核实的健康申报", "Declarations to confirm")
}

fn intro(ui: &Ui) -> Markup {
    html!(
        "<p class=\"muted\">{text}</p>",
        text = ui.t(
            "以下申报所用的密钥由服务窗口工作人员发放：发放人见过该密钥，所以申报须经另一名工作人员核实后才计入健康码。您发放的密钥所作的申报不在此列。查看内容须说明用途，并记入本人的访问记录。",
            "These declarations were made with keys given at a service counter: the official who gave the key has seen it, so a declaration counts only once another official confirms it. Those made with keys you gave are not listed. Reading one takes a purpose, which goes into the person's access log."
        )
    )
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Official { ui, account, .. }: Official<may::DecideDeclarations>,
) -> Response {
    let waiting = match state.service.residents().waiting_declarations(&account).await {
        Ok(waiting) => waiting,
        Err(e) => return ui.internal("listing waiting declarations", e),
    };
    let mut body = html!("<h1>{title}</h1>{intro}", title = title(&ui), intro = intro(&ui));
    if waiting.is_empty() {
        body.push(html!("<p id=\"none-waiting\">{none}</p>", none = ui.t("没有待核实的申报。", "Nothing waits.")));
        let title = title(&ui);
        return staff_page(ui, StatusCode::OK, &account, title, body);
    }
    body.push(html!(
        "<div class=\"scroll\"><table id=\"waiting\"><tr><th scope=\"col\">{person}</th><th scope=\"col\">{declarer}</th><th scope=\"col\">{given}</th><th scope=\"col\">{at}</th><th scope=\"col\">{items}</th><th scope=\"col\">{open}</th></tr>",
        person = ui.t("人员", "Person"),
        declarer = ui.t("申报人", "Declared by"),
        given = ui.t("密钥发放人", "Key given by"),
        at = ui.t("申报时间", "Declared"),
        items = ui.t("项数", "Items"),
        open = ui.t("查看（须说明用途）", "Open (with a purpose)"),
    ));
    for d in &waiting {
        body.push(html!(
            "<tr><td><code>{person}</code></td><td>{declarer}</td><td>{given}</td><td>{at}</td><td>{items}</td><td><form method=\"get\" action=\"/staff/declarations/{id}\"><input name=\"purpose\" required minlength=\"4\" maxlength=\"200\" aria-label=\"{purpose}\"><button type=\"submit\">{open}</button></form></td></tr>",
            person = d.person.as_str(),
            declarer = d.declarer,
            given = d.key_seen_by.join(", "),
            at = when(d.declared_at),
            items = d.items,
            id = d.id,
            purpose = ui.t("用途", "Purpose"),
            open = ui.t("查看", "Open"),
        ));
    }
    body.push(Markup::text("</table></div>"));
    let title = title(&ui);
    staff_page(ui, StatusCode::OK, &account, title, body)
}

fn opened_page(ui: Ui, account: &Account, opened: &OpenedDeclaration, status: StatusCode, problem: Markup) -> Response {
    let d = &opened.declaration;
    let mut body = html!(
        "<h1>{title}</h1>{problem}<p><code>{person}</code> · {declarer} · {at} · {given_word} {given}</p><ul id=\"records\">",
        title = title(&ui),
        problem = problem,
        person = d.person.as_str(),
        declarer = d.declarer,
        at = when(d.declared_at),
        given_word = ui.t("密钥发放人：", "key given by"),
        given = d.key_seen_by.join(", "),
    );
    for record in &opened.records {
        let what = match (&record.area, &record.from) {
            (Some(area), Some(from)) => format!(
                "{} {area} {from} – {}",
                ui.t("旅居", "stay in"),
                record.to.as_deref().unwrap_or(ui.t("至今", "now"))
            ),
            _ => format!(
                "{} {}",
                record.item.as_deref().unwrap_or_default(),
                record.since.as_deref().map(|s| format!("({s})")).unwrap_or_default()
            ),
        };
        body.push(html!("<li>{what}</li>", what = what));
    }
    body.push(html!(
        r#"</ul><form method="post" action="/staff/declarations/{id}/confirm"><button type="submit" id="confirm-declaration">{confirm}</button></form>
<form method="post" action="/staff/declarations/{id}/refuse"><label for="reason">{reason}</label><input id="reason" name="reason" required minlength="4" maxlength="500"><button type="submit" id="refuse-declaration">{refuse}</button></form>"#,
        id = d.id,
        confirm = ui.t("核实无误：计入健康码", "Confirm: it counts towards the code"),
        reason = ui.t("驳回理由（本人可见）", "Why it is refused (the person reads it)"),
        refuse = ui.t("驳回", "Refuse"),
    ));
    let title = title(&ui);
    staff_page(ui, status, account, title, body)
}

pub(crate) async fn open(
    State(state): State<AppState>,
    Official { ui, account, .. }: Official<may::DecideDeclarations>,
    PageId(id): PageId,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let purpose = query.get("purpose").map(String::as_str);
    match state.service.residents().open_declaration(&account, &id, purpose).await {
        Ok(opened) => opened_page(ui, &account, &opened, StatusCode::OK, Markup::new()),
        Err(e) => refused(ui, e),
    }
}

pub(crate) async fn confirm(
    State(state): State<AppState>,
    Official { account, .. }: Official<may::DecideDeclarations>,
    PageId(id): PageId,
    Posted { ui, .. }: Posted,
) -> Response {
    let result = state.service.residents().confirm_declaration(&account, &id).await;
    back_to_list(ui, result).await
}

pub(crate) async fn refuse(
    State(state): State<AppState>,
    Official { account, .. }: Official<may::DecideDeclarations>,
    PageId(id): PageId,
    Posted { ui, form }: Posted,
) -> Response {
    let reason = form.get("reason").map(String::as_str).unwrap_or_default();
    let result = state.service.residents().refuse_declaration(&account, &id, reason).await;
    back_to_list(ui, result).await
}

/// After a decision: back to the list, or the refusal's page.
async fn back_to_list<T>(ui: Ui, result: Result<T, ServiceError>) -> Response {
    redirect_or_refuse(
        ui,
        result,
        |_| "/staff/declarations".into(),
        |ui, status, problem| async move { ui.page(status, title_of_error(&ui), problem) },
    )
    .await
}

fn title_of_error(ui: &Ui) -> &'static str {
    ui.t("无法完成", "Not done")
}

/// A refusal shown as its page (a wrong purpose, another's declaration, decided already).
fn refused(ui: Ui, e: ServiceError) -> Response {
    match crate::pages::accounts::officials::refusal(&ui, e) {
        Ok((status, problem)) => ui.page(status, title_of_error(&ui), problem),
        Err(response) => response,
    }
}
