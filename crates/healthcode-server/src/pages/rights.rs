//! What a person may see and ask about their own data: who read it and why (PIPL art.
//! 24), and complaints about their code with their answers.

use std::collections::HashMap;
use std::fmt::Write;

use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use healthcode_service::ServiceError;
use healthcode_store::ComplaintStatus;

use super::layout::{esc, see_other, when, Ui};
use super::signin::{posted_reader, reader_of};
use crate::AppState;

/// Who read the person's data, when, in what role and why, newest first.
pub(crate) async fn accesses(
    ui: Ui,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let (id, _) = match reader_of(&ui, &state, path, "access log").await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let list = match state.service.accesses(&id).await {
        Ok(list) => list,
        Err(e) => return ui.internal("reading an access log", e),
    };
    let mut body = format!(
        "<h1>{}</h1><p>{}</p>",
        ui.t("谁查看了我的信息", "Who accessed my data"),
        ui.t(
            "除您本人外，每一次查看您的信息（工作人员、代管家人、场所核验）都记录在此：谁、什么角色、为什么、什么时候。",
            "Every read of your data by anyone but you (staff, family proxies, venue checks) is listed here: who, in what role, why and when."
        )
    );
    if list.is_empty() {
        let _ = write!(body, "<p>{}</p>", ui.t("还没有人查看过。", "Nobody has read it yet."));
    } else {
        let _ = write!(
            body,
            "<div class=\"scroll\"><table><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr>",
            ui.t("时间", "Time"),
            ui.t("谁", "Who"),
            ui.t("角色", "Role"),
            ui.t("目的", "Purpose"),
            ui.t("内容", "What"),
        );
        for a in list.iter().take(300) {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&when(a.at)),
                esc(&a.actor),
                esc(&a.role),
                esc(&a.purpose),
                esc(&a.what)
            );
        }
        body.push_str("</table></div>");
    }
    let _ =
        write!(body, "<p><a href=\"/persons/{}\">{}</a></p>", esc(id.as_str()), ui.t("返回健康码", "Back to the code"));
    ui.page(StatusCode::OK, &ui.t("访问记录", "Access log"), &body)
}

/// A complaint's status, as residents and handlers both see it.
pub(crate) fn status_name(ui: &Ui, status: ComplaintStatus) -> String {
    match status {
        ComplaintStatus::Open => ui.t("处理中", "open"),
        ComplaintStatus::Upheld => ui.t("成立", "upheld"),
        ComplaintStatus::Dismissed => ui.t("不成立", "dismissed"),
        ComplaintStatus::Referred => ui.t("已转相关部门", "referred to the department"),
    }
}

/// A complaint's answer: when, by whom, what.
pub(crate) fn answer_html(ui: &Ui, answer: &healthcode_store::ComplaintAnswer) -> String {
    format!("<p>{} {} ({}): {}</p>", ui.t("答复", "Answer"), esc(&when(answer.at)), esc(&answer.by), esc(&answer.text))
}

/// The person's complaints with their answers, and the form to file one.
pub(crate) async fn complaints(
    ui: Ui,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let (id, _) = match reader_of(&ui, &state, path, "complaints").await {
        Ok(found) => found,
        Err(page) => return page,
    };
    complaints_page(ui.with_form(), &state, &id, StatusCode::OK, None).await
}

async fn complaints_page(
    ui: Ui,
    state: &AppState,
    id: &healthcode_domain::PersonId,
    status: StatusCode,
    problem: Option<String>,
) -> Response {
    let list = match state.service.complaints_of(id).await {
        Ok(list) => list,
        Err(e) => return ui.internal("reading complaints", e),
    };
    let pid = esc(id.as_str());
    let mut body = format!("<h1>{}</h1>", ui.t("申诉", "Complaints"));
    if let Some(problem) = problem {
        let _ = write!(body, "<p role=\"alert\" class=\"notice\"><strong>{}</strong></p>", esc(&problem));
    }
    let _ = write!(
        body,
        "<p>{}</p>",
        ui.t(
            "对健康码颜色或其依据有异议，可在此申诉。处理人员不会直接改颜色：若记录有误，由提供记录的部门更正，颜色随之重新计算。",
            "If you dispute your code's colour or its grounds, complain here. Handlers never set a colour: a wrong record is corrected by the department that made it, and the colour is computed again."
        )
    );
    for c in &list {
        let _ = write!(
            body,
            "<article class=\"notice\"><p><strong>{}</strong> · {} · {} {} ({})</p><p>{}</p>",
            status_name(&ui, c.status),
            esc(&when(c.filed_at)),
            ui.t("当时颜色", "colour then"),
            esc(&c.colour_at_filing),
            esc(&c.reasons_at_filing.join(", ")),
            esc(&c.text)
        );
        if let Some(answer) = &c.answer {
            body.push_str(&answer_html(&ui, answer));
        }
        body.push_str("</article>");
    }
    let _ = write!(
        body,
        r#"<form method="post" action="/persons/{pid}/complaints"><label for="subject">{subject}</label>
<select id="subject" name="subject"><option value="colour">{colour}</option><option value="evidence">{evidence}</option><option value="decision">{decision}</option><option value="other">{other}</option></select>
<label for="text">{text}</label><textarea id="text" name="text" required minlength="5" maxlength="2000" rows="5"></textarea>
<button type="submit">{submit}</button></form><p><a href="/persons/{pid}">{back}</a></p>"#,
        subject = ui.t("关于", "About"),
        colour = ui.t("颜色", "the colour"),
        evidence = ui.t("某条记录", "a record"),
        decision = ui.t("管理决定", "a management decision"),
        other = ui.t("其他", "something else"),
        text = ui.t("说明（5 至 2000 字）", "What is wrong (5 to 2,000 characters)"),
        submit = ui.t("提交申诉", "File the complaint"),
        back = ui.t("返回健康码", "Back to the code"),
    );
    ui.page(status, &ui.t("申诉", "Complaints"), &body)
}

pub(crate) async fn file(
    ui: Ui,
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let (ui, id, reader) = match posted_reader(ui, &state, &headers, path, "complaints").await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let form = form.map(|Form(f)| f).unwrap_or_default();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    match state.service.file_complaint(&id, &reader, field("subject"), field("text")).await {
        Ok(_) => see_other(&format!("/persons/{id}/complaints")),
        Err(ServiceError::Invalid(v)) => {
            complaints_page(ui, &state, &id, StatusCode::UNPROCESSABLE_ENTITY, Some(v.message)).await
        }
        Err(ServiceError::Conflict(m)) => complaints_page(ui, &state, &id, StatusCode::CONFLICT, Some(m)).await,
        Err(e) => ui.internal("filing a complaint", e),
    }
}

fn function_words(ui: &Ui, function: healthcode_domain::ExtendedFunction) -> String {
    use healthcode_domain::ExtendedFunction::*;
    match function {
        CitizenCard => ui.t("市民卡", "Citizen card"),
        TransportCard => ui.t("交通卡（公交地铁闸机）", "Transport card (bus and metro gates)"),
        Parking => ui.t("停车场", "Car parks"),
        AccessControl => ui.t("门禁", "Building access control"),
    }
}

/// The extended functions on the person's own page: each off until switched on here.
pub(crate) async fn consent_section(
    ui: &Ui,
    state: &AppState,
    id: &healthcode_domain::PersonId,
) -> Result<String, Response> {
    let consents = state.service.consents(id).await.map_err(|e| ui.internal("reading consents", e))?;
    let mut out = format!(
        "<section aria-labelledby=\"ext-title\"><h2 id=\"ext-title\">{}</h2><p class=\"muted\">{}</p><ul>",
        ui.t("扩展功能（自愿开通）", "Extended functions (your choice)"),
        ui.t(
            "开通后，该类第三方系统（须经登记、有期限）只能读取其登记范围内的信息（颜色，至多加打码姓名），每次读取都记入您的访问记录。可随时关闭，立即生效。",
            "When on, registered outside systems of that kind (each with an expiry) read only what their registration allows (the colour, at most with the masked name), and each read is in your access log. Switch off at any time, at once."
        ),
    );
    for function in healthcode_domain::ExtendedFunction::ALL {
        let on = consents.iter().any(|c| c.purpose == function.as_str() && c.in_force());
        let _ = write!(
            out,
            "<li>{} · <strong>{}</strong> <form method=\"post\" action=\"/persons/{}/consents\" class=\"inline\"><input type=\"hidden\" name=\"function\" value=\"{}\"><input type=\"hidden\" name=\"granted\" value=\"{}\"><button type=\"submit\">{}</button></form></li>",
            function_words(ui, *function),
            if on { ui.t("已开通", "on") } else { ui.t("未开通", "off") },
            esc(id.as_str()),
            function.as_str(),
            !on,
            if on { ui.t("关闭", "Switch off") } else { ui.t("开通", "Switch on") },
        );
    }
    out.push_str("</ul></section>");
    Ok(out)
}

pub(crate) async fn set_consent(
    ui: Ui,
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let (ui, id, reader) = match posted_reader(ui, &state, &headers, path, "consents").await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let form = form.map(|Form(f)| f).unwrap_or_default();
    let function = form.get("function").and_then(|f| healthcode_domain::ExtendedFunction::parse(f));
    let granted = form.get("granted").map(String::as_str) == Some("true");
    let Some(function) = function else {
        return ui.error(StatusCode::BAD_REQUEST, "没有这个扩展功能", "no such extended function");
    };
    match state.service.set_consent(&id, &reader, function, granted).await {
        Ok(_) => see_other(&format!("/persons/{id}")),
        Err(ServiceError::Conflict(m)) => ui.error(StatusCode::CONFLICT, &m, &m),
        Err(e) => ui.internal("changing a consent", e),
    }
}
