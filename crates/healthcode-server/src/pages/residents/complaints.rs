//! The complaints queue (申诉): the complaints of residents within the officer's
//! jurisdiction, newest first, open ones with a form to answer. An answer never sets a
//! colour; the page says so next to the form.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_domain::Department;
use healthcode_store::{Account, Complaint, ComplaintStatus};

use crate::api::policy::{may, permits, Action};
use crate::pages::accounts::officials::{redirect_or_refuse, staff_page};
use crate::pages::extract::{Official, PageId, PageQuery, Posted};
use crate::pages::layout::Ui;
use crate::pages::markup::{html, Markup};
use crate::pages::residents::complaint_view::complaint_html;
use crate::AppState;

pub(crate) async fn queue(
    State(state): State<AppState>,
    Official { ui, account, .. }: Official<may::ReadComplaints>,
    query: PageQuery,
) -> Response {
    let all = query.get("status") == Some("all");
    queue_page(ui, &state, &account, all, StatusCode::OK, None).await
}

async fn queue_page(
    ui: Ui,
    state: &AppState,
    account: &Account,
    all: bool,
    status: StatusCode,
    problem: Option<Markup>,
) -> Response {
    let list = match state.service.residents().complaint_queue(account, !all, false).await {
        Ok(list) => list,
        Err(e) => return ui.internal("listing complaints", e),
    };
    let title = ui.t("申诉", "Complaints");
    let mut body = html!(
        "<h1>{title}</h1>{problem}<p>{showing} · <a href=\"/staff/complaints{query}\">{other}</a></p><p class=\"muted\">{note}</p>",
        title = title,
        problem = problem.unwrap_or_default(),
        showing = if all { ui.t("全部申诉", "All complaints") } else { ui.t("待处理的申诉", "Open complaints") },
        query = if all { "" } else { "?status=all" },
        other = if all { ui.t("只看待处理", "Open only") } else { ui.t("查看全部", "Show all") },
        note = ui.t(
            "答复不会改变健康码颜色：记录有误时转交提供记录的部门更正，颜色随证据重新计算。查看本页已记入相关居民的访问记录。",
            "An answer changes no colour: a wrong record goes to the department that made it, and the colour follows the corrected evidence. Viewing this page is in each resident's access log."
        ),
    );
    if list.is_empty() {
        body.push(html!("<p>{none}</p>", none = ui.t("没有申诉。", "No complaints.")));
    }
    let may_answer = permits(Action::AnswerComplaints, account.role);
    for c in &list {
        body.push(html!(
            "<article class=\"notice\" id=\"{id}\"><p>{resident} <code>{person}</code> · {area_word} {area}</p>{complaint}",
            id = c.id,
            resident = ui.t("居民", "resident"),
            person = c.person.as_str(),
            area_word = ui.t("地区", "area"),
            area = c.area.as_deref().unwrap_or("—"),
            complaint = complaint_html(&ui, c),
        ));
        let open = c.status == ComplaintStatus::Open;
        if open && may_answer && c.event.is_some() && c.awaiting().is_none() {
            body.push(correction_form(&ui, c));
        }
        if open && may_answer {
            body.push(html!(
                r#"<form method="post" action="/staff/complaints/{id}/answer"><label for="status-{id}">{outcome}</label>
<select id="status-{id}" name="status"><option value="referred">{referred}</option><option value="upheld">{upheld}</option><option value="dismissed">{dismissed}</option></select>
<label for="text-{id}">{text}</label><textarea id="text-{id}" name="text" required minlength="5" maxlength="2000" rows="3"></textarea>
<button type="submit">{submit}</button></form>"#,
                id = c.id,
                outcome = ui.t("处理结果", "Outcome"),
                referred = ui.t("转相关部门核对", "Refer to the department"),
                upheld = ui.t("成立（已更正）", "Upheld (corrected)"),
                dismissed = ui.t("不成立", "Dismissed"),
                text = ui.t("答复居民", "Answer to the resident"),
                submit = ui.t("答复", "Answer"),
            ));
        }
        body.push_literal("</article>");
    }
    staff_page(ui, status, account, title, body)
}

pub(crate) async fn answer(
    State(state): State<AppState>,
    Official { account, .. }: Official<may::AnswerComplaints>,
    PageId(id): PageId,
    Posted { ui, form }: Posted,
) -> Response {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    let result = state.service.residents().answer_complaint(&account, &id, field("status"), field("text")).await;
    let (state, account) = (&state, &account);
    redirect_or_refuse(
        ui,
        result,
        |_| "/staff/complaints?status=all".into(),
        move |ui, status, problem| queue_page(ui, state, account, false, status, Some(problem)),
    )
    .await
}

/// The form that asks the department whose record is disputed to check it.
fn correction_form(ui: &Ui, c: &Complaint) -> Markup {
    let mut departments = Markup::new();
    for d in Department::ALL {
        departments.push(html!("<option value=\"{value}\">{value}</option>", value = d.as_str()));
    }
    html!(
        r#"<form method="post" action="/staff/complaints/{id}/correction"><label for="department-{id}">{ask}</label>
<select id="department-{id}" name="department">{departments}</select>
<label for="request-{id}">{what}</label><textarea id="request-{id}" name="text" required minlength="5" maxlength="1000" rows="2"></textarea>
<button type="submit">{submit}</button></form>"#,
        id = c.id,
        ask = ui.t("请提供记录的部门核查", "Ask the department that made the record"),
        departments = departments,
        what = ui.t("请部门核查什么", "What to check"),
        submit = ui.t("请求更正", "Ask for a correction"),
    )
}

pub(crate) async fn request_correction(
    State(state): State<AppState>,
    Official { account, .. }: Official<may::AnswerComplaints>,
    PageId(id): PageId,
    Posted { ui, form }: Posted,
) -> Response {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    let result = state.service.residents().request_correction(&account, &id, field("department"), field("text")).await;
    let (state, account) = (&state, &account);
    redirect_or_refuse(
        ui,
        result,
        |_| "/staff/complaints".into(),
        move |ui, status, problem| queue_page(ui, state, account, false, status, Some(problem)),
    )
    .await
}
