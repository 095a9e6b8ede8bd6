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
use crate::pages::places::place_label;
use crate::pages::residents::complaint_view::complaint_html;
use crate::AppState;

pub(crate) async fn queue(
    State(state): State<AppState>,
    Official { ui, account, .. }: Official<may::ReadComplaints>,
    query: PageQuery,
) -> Response {
    let listing = match (query.get("status"), query.get("escalated")) {
        (_, Some("true")) => Listing::Escalated,
        (Some("all"), _) => Listing::All,
        _ => Listing::Open,
    };
    queue_page(ui, &state, &account, listing, StatusCode::OK, None).await
}

/// Which complaints the queue lists.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Listing {
    Open,
    All,
    /// Past their deadline: the provincial office's to chase.
    Escalated,
}

async fn queue_page(
    ui: Ui,
    state: &AppState,
    account: &Account,
    listing: Listing,
    status: StatusCode,
    problem: Option<Markup>,
) -> Response {
    let (open_only, escalated_only) = match listing {
        Listing::Open => (true, false),
        Listing::All => (false, false),
        Listing::Escalated => (false, true),
    };
    let list = match state.service.residents().complaint_queue(account, open_only, escalated_only).await {
        Ok(list) => list,
        Err(e) => return ui.internal("listing complaints", e),
    };
    let title = ui.t("申诉", "Complaints");
    let link = |shown: Listing, href: &'static str, zh: &'static str, en: &'static str| {
        if shown == listing {
            html!("<strong>{name}</strong>", name = ui.t(zh, en))
        } else {
            html!("<a href=\"{href}\">{name}</a>", href = href, name = ui.t(zh, en))
        }
    };
    let mut body = html!(
        "<h1>{title}</h1>{problem}<p>{open} · {all} · {escalated}</p><p class=\"muted\">{note}</p>",
        title = title,
        problem = problem.unwrap_or_default(),
        open = link(Listing::Open, "/staff/complaints", "待处理的申诉", "Open complaints"),
        all = link(Listing::All, "/staff/complaints?status=all", "全部申诉", "All complaints"),
        escalated = link(Listing::Escalated, "/staff/complaints?escalated=true", "逾期督办", "Past their deadline"),
        note = ui.t(
            "答复不会改变健康码颜色：记录有误时请提供记录的部门核查更正（撤回记录），颜色随证据重新计算。查看本页已记入相关居民的访问记录。",
            "An answer changes no colour: a wrong record is checked and withdrawn by the department that made it, and the colour follows the evidence. Viewing this page is in each resident's access log."
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
            area = c.area.as_deref().map_or_else(|| "—".to_string(), |a| place_label(&ui, a)),
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
    if may_answer {
        body.push(knowledge_form(&ui));
    }
    staff_page(ui, status, account, title, body)
}

/// The form that adds a common problem to the knowledge base, in the handler's words.
fn knowledge_form(ui: &Ui) -> Markup {
    html!(
        r#"<section aria-labelledby="kb-title"><h2 id="kb-title">{title}</h2><p class="muted">{note}</p><form method="post" action="/staff/knowledge">
<label for="kb-qzh">{qzh}</label><input id="kb-qzh" name="question_zh" required maxlength="200">
<label for="kb-qen">{qen}</label><input id="kb-qen" name="question_en" required maxlength="300">
<label for="kb-azh">{azh}</label><textarea id="kb-azh" name="answer_zh" required maxlength="2000" rows="3"></textarea>
<label for="kb-aen">{aen}</label><textarea id="kb-aen" name="answer_en" required maxlength="3000" rows="3"></textarea>
<label for="kb-from">{from}</label><input id="kb-from" name="from_complaint" maxlength="64" autocomplete="off">
<button type="submit">{submit}</button></form></section>"#,
        title = ui.t("加入常见问题知识库", "Add to the knowledge base of common problems"),
        note = ui.t(
            "用您自己的话写问题和答复，不写任何居民的信息；知识库公开（/help）。",
            "Write the question and answer in your own words, with nothing about any resident: the knowledge base is public (/help)."
        ),
        qzh = ui.t("问题（中文）", "Question (Chinese)"),
        qen = ui.t("问题（英文）", "Question (English)"),
        azh = ui.t("答复（中文）", "Answer (Chinese)"),
        aen = ui.t("答复（英文）", "Answer (English)"),
        from = ui.t("源于哪件已答复的申诉（可选，申诉编号）", "From which answered complaint (optional, its id)"),
        submit = ui.t("加入知识库", "Add"),
    )
}

pub(crate) async fn add_knowledge(
    State(state): State<AppState>,
    Official { account, .. }: Official<may::AnswerComplaints>,
    Posted { ui, form }: Posted,
) -> Response {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    let new = healthcode_service::NewKnowledge {
        question_zh: field("question_zh"),
        question_en: field("question_en"),
        answer_zh: field("answer_zh"),
        answer_en: field("answer_en"),
        from_complaint: form.get("from_complaint").map(String::as_str),
    };
    let result = state.service.residents().add_knowledge(&account, &new).await;
    back_to_queue(ui, &state, &account, result, "/help").await
}

pub(crate) async fn answer(
    State(state): State<AppState>,
    Official { account, .. }: Official<may::AnswerComplaints>,
    PageId(id): PageId,
    Posted { ui, form }: Posted,
) -> Response {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    let result = state.service.residents().answer_complaint(&account, &id, field("status"), field("text")).await;
    back_to_queue(ui, &state, &account, result, "/staff/complaints?status=all").await
}

/// After a handler's act on a complaint: to `then`, or the open queue with the refusal.
async fn back_to_queue<T>(
    ui: Ui,
    state: &AppState,
    account: &Account,
    result: Result<T, healthcode_service::ServiceError>,
    then: &'static str,
) -> Response {
    redirect_or_refuse(
        ui,
        result,
        |_| then.into(),
        move |ui, status, problem| queue_page(ui, state, account, Listing::Open, status, Some(problem)),
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
    back_to_queue(ui, &state, &account, result, "/staff/complaints").await
}
