//! What a person may see and ask about their own data: who read it and why (PIPL art.
//! 24), and complaints about their code with their answers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_domain::{ExtendedFunction, PersonId};
use healthcode_service::ServiceError;

use crate::pages::extract::{PersonPage, Posted};
use crate::pages::layout::{see_other, when, Ui};
use crate::pages::markup::{html, Markup};
use crate::pages::residents::complaint_view::complaint_html;
use crate::pages::residents::signin::reader_of;
use crate::AppState;

/// Who read the person's data, when, in what role and why, newest first.
pub(crate) async fn accesses(
    ui: Ui,
    State(state): State<AppState>,
    PersonPage(id): PersonPage,
) -> Result<Response, Response> {
    reader_of(&ui, &state, &id, "access log").await?;
    let list = state.service.residents().accesses(&id).await.map_err(|e| ui.internal("reading an access log", e))?;
    let mut body = html!(
        "<h1>{title}</h1><p>{intro}</p>",
        title = ui.t("谁查看了我的信息", "Who accessed my data"),
        intro = ui.t(
            "除您本人外，每一次查看您的信息（工作人员、代管家人、场所核验）都记录在此：谁、什么角色、为什么、什么时候。",
            "Every read of your data by anyone but you (staff, family proxies, venue checks) is listed here: who, in what role, why and when."
        )
    );
    if list.is_empty() {
        body.push(html!("<p>{none}</p>", none = ui.t("还没有人查看过。", "Nobody has read it yet.")));
    } else {
        body.push(html!(
            "<div class=\"scroll\"><table><tr><th scope=\"col\">{time}</th><th scope=\"col\">{who}</th><th scope=\"col\">{role}</th><th scope=\"col\">{purpose}</th><th scope=\"col\">{what}</th></tr>",
            time = ui.t("时间", "Time"),
            who = ui.t("谁", "Who"),
            role = ui.t("角色", "Role"),
            purpose = ui.t("目的", "Purpose"),
            what = ui.t("内容", "What"),
        ));
        for a in list.iter().take(300) {
            body.push(html!(
                "<tr><td>{at}</td><td>{actor}</td><td>{role}</td><td>{purpose}</td><td>{what}</td></tr>",
                at = when(a.at),
                actor = a.actor,
                role = a.role,
                purpose = a.purpose,
                what = a.what,
            ));
        }
        body.push_literal("</table></div>");
    }
    body.push(erasure_form(&ui, &id));
    body.push(html!(
        "<p><a href=\"/persons/{id}\">{back}</a></p>",
        id = id.as_str(),
        back = ui.t("返回健康码", "Back to the code")
    ));
    Ok(ui.page(StatusCode::OK, ui.t("访问记录", "Access log"), body))
}

/// The person's own request to erase everything about them (PIPL art. 47).
fn erasure_form(ui: &Ui, id: &PersonId) -> Markup {
    html!(
        r#"<h2>{title}</h2><p>{intro}</p><form method="post" action="/persons/{id}/erasure"><p><input type="checkbox" id="confirm-erasure" name="confirm" value="yes" required><label class="inline" for="confirm-erasure">{confirm}</label></p><button type="submit">{submit}</button></form>"#,
        title = ui.t("删除我的全部信息", "Erase everything about me"),
        intro = ui.t(
            "健康码为绿色且规则不再需要您的记录时（最近的记录已超过规则的时间窗口），可删除您的全部信息：登记信息、健康码、记录、访问记录和申诉。删除无法撤销，并记入透明日志（不含您的身份）。",
            "When your code is green and no rule needs your records any more (your latest record is older than the rules' window), you may erase everything about you: registration, code, records, access log and complaints. It cannot be undone, and it is recorded in the transparency log (without who you are)."
        ),
        id = id.as_str(),
        confirm = ui.t("我明白删除无法撤销", "I understand this cannot be undone"),
        submit = ui.t("删除我的信息", "Erase my data"),
    )
}

/// The erasure form's target: everything goes, and the device forgets the key.
pub(crate) async fn erase(
    State(state): State<AppState>,
    PersonPage(id): PersonPage,
    Posted { ui, form }: Posted,
) -> Result<Response, Response> {
    let reader = reader_of(&ui, &state, &id, "erasure").await?;
    if form.get("confirm").map(String::as_str) != Some("yes") {
        return Err(ui.error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "请确认删除无法撤销",
            "Confirm that this cannot be undone",
        ));
    }
    let result = state.service.residents().erase(&id, &reader).await;
    Ok(ui.outcome(result, "erasing a person", |_| {
        crate::pages::residents::signin::see_other_with_key("/?erased=1", None)
    }))
}

/// The person's complaints with their answers, and the form to file one.
/// `?q=` searches the knowledge base first: the answers that match are shown above the
/// form, whose text starts with what was searched (suggestions without scripts).
pub(crate) async fn complaints(
    ui: Ui,
    State(state): State<AppState>,
    PersonPage(id): PersonPage,
    query: crate::pages::extract::PageQuery,
) -> Result<Response, Response> {
    reader_of(&ui, &state, &id, "complaints").await?;
    let q = query.get("q").map(|q| q.chars().take(100).collect::<String>());
    Ok(complaints_page(ui.with_form(), &state, &id, StatusCode::OK, None, q.as_deref()).await)
}

async fn complaints_page(
    ui: Ui,
    state: &AppState,
    id: &PersonId,
    status: StatusCode,
    problem: Option<String>,
    searched: Option<&str>,
) -> Response {
    let list = match state.service.residents().complaints_of(id).await {
        Ok(list) => list,
        Err(e) => return ui.internal("reading complaints", e),
    };
    let mut body = html!("<h1>{title}</h1>", title = ui.t("申诉", "Complaints"));
    if let Some(problem) = problem {
        body.push(html!("<p role=\"alert\" class=\"notice\"><strong>{problem}</strong></p>", problem = problem));
    }
    body.push(html!(
        "<p>{intro}</p>",
        intro = ui.t(
            "对健康码颜色或其依据有异议，可在此申诉。处理人员不会直接改颜色：若记录有误，由提供记录的部门更正，颜色随之重新计算。",
            "If you dispute your code's colour or its grounds, complain here. Handlers never set a colour: a wrong record is corrected by the department that made it, and the colour is computed again."
        )
    ));
    for c in &list {
        body.push(html!("<article class=\"notice\">{complaint}</article>", complaint = complaint_html(&ui, c)));
    }
    // Common problems first: the answer may already be there.
    let action = format!("/persons/{}/complaints", id.as_str());
    body.push(crate::pages::residents::knowledge::search_form(&ui, &action, searched.unwrap_or_default()));
    if let Some(q) = searched.filter(|q| !q.trim().is_empty()) {
        match state.service.residents().search_knowledge(q).await {
            Ok(found) if found.is_empty() => body.push(html!(
                "<p>{none}</p>",
                none = ui.t("常见问题中没有找到，请在下面提交申诉。", "Not among the common problems: complain below.")
            )),
            Ok(found) => {
                body.push(html!(
                    "<h2>{title}</h2>",
                    title = ui.t("这些常见问题可能有您要的答案", "These common problems may answer yours")
                ));
                body.push(crate::pages::residents::knowledge::entries_html(&ui, &found));
            }
            Err(e) => return ui.internal("searching the knowledge base", e),
        }
    }
    // The records behind the colour now, to name the one disputed.
    let records = match state.service.codes().current_code(id).await {
        Ok(code) => code.reasons.into_iter().flat_map(|r| r.evidence).filter(|e| e.kind != "area_risk").collect(),
        Err(_) => Vec::new(),
    };
    let mut options = html!("<option value=\"\">{none}</option>", none = ui.t("不指定", "none in particular"));
    for record in &records {
        options.push(html!(
            "<option value=\"{id}\">{kind} · {at} ({id})</option>",
            id = record.id.as_str(),
            kind = record.kind,
            at = when(record.recorded_at),
        ));
    }
    body.push(html!(
        r#"<form method="post" action="/persons/{pid}/complaints"><label for="subject">{subject}</label>
<select id="subject" name="subject"><option value="colour">{colour}</option><option value="evidence">{evidence}</option><option value="decision">{decision}</option><option value="other">{other}</option></select>
<label for="event_id">{record}</label><select id="event_id" name="event_id">{options}</select>
<label for="blocks">{blocks}</label><select id="blocks" name="blocks"><option value="">{blocks_none}</option><option value="medical">{medical}</option><option value="travel">{travel}</option></select>
<label for="text">{text}</label><textarea id="text" name="text" required minlength="5" maxlength="2000" rows="5">{searched}</textarea>
<button type="submit">{submit}</button></form><p><a href="/persons/{pid}">{back}</a></p>"#,
        pid = id.as_str(),
        subject = ui.t("关于", "About"),
        colour = ui.t("颜色", "the colour"),
        evidence = ui.t("某条记录", "a record"),
        decision = ui.t("管理决定", "a management decision"),
        other = ui.t("其他", "something else"),
        record = ui.t("有异议的记录", "The record you dispute"),
        options = options,
        blocks = ui.t("今天是否因此无法就医或出行", "Does the code stop you getting medical care or travelling today"),
        blocks_none = ui.t("否", "No"),
        medical = ui.t("无法就医（紧急）", "Medical care (urgent)"),
        travel = ui.t("无法出行（紧急）", "Travel (urgent)"),
        text = ui.t("说明（5 至 2000 字）", "What is wrong (5 to 2,000 characters)"),
        searched = searched.unwrap_or_default(),
        submit = ui.t("提交申诉", "File the complaint"),
        back = ui.t("返回健康码", "Back to the code"),
    ));
    ui.page(status, ui.t("申诉", "Complaints"), body)
}

pub(crate) async fn file(
    State(state): State<AppState>,
    PersonPage(id): PersonPage,
    Posted { ui, form }: Posted,
) -> Result<Response, Response> {
    let reader = reader_of(&ui, &state, &id, "complaints").await?;
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    Ok(
        match state
            .service
            .residents()
            .file_complaint(
                &id,
                &reader,
                &healthcode_service::ComplaintForm {
                    subject: field("subject"),
                    text: field("text"),
                    event: form.get("event_id").map(String::as_str),
                    blocks: form.get("blocks").map(String::as_str),
                },
            )
            .await
        {
            Ok(_) => see_other(&format!("/persons/{id}/complaints")),
            Err(ServiceError::Invalid(v)) => {
                complaints_page(ui, &state, &id, StatusCode::UNPROCESSABLE_ENTITY, Some(v.message), None).await
            }
            Err(ServiceError::Conflict(m)) => {
                complaints_page(ui, &state, &id, StatusCode::CONFLICT, Some(m), None).await
            }
            Err(e) => ui.internal("filing a complaint", e),
        },
    )
}

fn function_words(ui: &Ui, function: ExtendedFunction) -> &'static str {
    match function {
        ExtendedFunction::CitizenCard => ui.t("市民卡", "Citizen card"),
        ExtendedFunction::TransportCard => ui.t("交通卡（公交地铁闸机）", "Transport card (bus and metro gates)"),
        ExtendedFunction::Parking => ui.t("停车场", "Car parks"),
        ExtendedFunction::AccessControl => ui.t("门禁", "Building access control"),
    }
}

/// The extended functions on the person's own page: each off until switched on here.
pub(crate) async fn consent_section(ui: &Ui, state: &AppState, id: &PersonId) -> Result<Markup, Response> {
    let consents = state.service.residents().consents(id).await.map_err(|e| ui.internal("reading consents", e))?;
    let mut out = html!(
        "<section aria-labelledby=\"ext-title\"><h2 id=\"ext-title\">{title}</h2><p class=\"muted\">{intro}</p><ul>",
        title = ui.t("扩展功能（自愿开通）", "Extended functions (your choice)"),
        intro = ui.t(
            "开通后，该类第三方系统（须经登记、有期限）只能读取其登记范围内的信息（颜色，至多加打码姓名），每次读取都记入您的访问记录。可随时关闭，立即生效。",
            "When on, registered outside systems of that kind (each with an expiry) read only what their registration allows (the colour, at most with the masked name), and each read is in your access log. Switch off at any time, at once."
        ),
    );
    for function in ExtendedFunction::ALL {
        let on = consents.iter().any(|c| c.purpose == function.as_str() && c.in_force());
        out.push(html!(
            "<li>{name} · <strong>{state}</strong> <form method=\"post\" action=\"/persons/{id}/consents\" class=\"inline\"><input type=\"hidden\" name=\"function\" value=\"{function}\"><input type=\"hidden\" name=\"granted\" value=\"{granted}\"><button type=\"submit\">{switch}</button></form></li>",
            name = function_words(ui, *function),
            state = if on { ui.t("已开通", "on") } else { ui.t("未开通", "off") },
            id = id.as_str(),
            function = function.as_str(),
            granted = if on { "false" } else { "true" },
            switch = if on { ui.t("关闭", "Switch off") } else { ui.t("开通", "Switch on") },
        ));
    }
    out.push_literal("</ul>");
    // What was consented to besides: the collection notice (by version), a guardian's
    // consent for a child.
    let given: Vec<_> = consents.iter().filter(|c| ExtendedFunction::parse(&c.purpose).is_none()).collect();
    if !given.is_empty() {
        out.push(html!("<h3>{title}</h3><ul>", title = ui.t("已记录的同意", "Consents recorded")));
        for consent in given {
            let what = match consent.purpose.split_once(':') {
                Some(("collection_notice", version)) => {
                    html!(
                        "{words} {version}",
                        words = ui.t("收集告知，版本", "Collection notice, version"),
                        version = version
                    )
                }
                Some(("guardian_consent", by)) => {
                    html!(
                        "{words} <code>{by}</code>",
                        words = ui.t("监护人同意，由", "Guardian's consent, given by"),
                        by = by
                    )
                }
                _ => Markup::text(&consent.purpose),
            };
            out.push(html!("<li>{what} · {at}</li>", what = what, at = when(consent.granted_at)));
        }
        out.push_literal("</ul>");
    }
    out.push_literal("</section>");
    Ok(out)
}

pub(crate) async fn set_consent(
    State(state): State<AppState>,
    PersonPage(id): PersonPage,
    Posted { ui, form }: Posted,
) -> Result<Response, Response> {
    let reader = reader_of(&ui, &state, &id, "consents").await?;
    let Some(function) = form.get("function").and_then(|f| ExtendedFunction::parse(f)) else {
        return Err(ui.error(StatusCode::BAD_REQUEST, "没有这个扩展功能", "no such extended function"));
    };
    let granted = form.get("granted").map(String::as_str) == Some("true");
    let result = state.service.residents().set_consent(&id, &reader, function, granted).await;
    Ok(ui.outcome(result, "changing a consent", |_| see_other(&format!("/persons/{id}"))))
}

/// The credit records made about the person, with their basis and the appeal, if any.
pub(crate) async fn credit_section(ui: &Ui, state: &AppState, id: &PersonId) -> Result<Markup, Response> {
    let records =
        state.service.governance().credit_records_of(id).await.map_err(|e| ui.internal("reading credit records", e))?;
    if records.is_empty() {
        return Ok(Markup::new());
    }
    let mut out = html!(
        "<section aria-labelledby=\"credit-title\" class=\"notice\"><h2 id=\"credit-title\">{title}</h2><p class=\"muted\">{intro}</p>",
        title = ui.t("信用记录", "Credit record"),
        intro = ui.t(
            "因隐瞒事实被记入信用记录（经两名省级工作人员批准）。信用记录不改变健康码颜色。",
            "Recorded for concealing facts (approved by two provincial officers). A credit record never changes your code's colour."
        ),
    );
    for r in &records {
        out.push(html!(
            "<p><strong>{basis}</strong> · {at}</p><p>{facts}</p>",
            basis = r.basis,
            at = r.recorded_at.map(when).unwrap_or_default(),
            facts = r.facts,
        ));
        match (&r.appeal, r.appeal_until) {
            (Some(appeal), _) => out.push(html!(
                "<p>{word} {at}: {text}</p>",
                word = ui.t("已申辩", "Appealed"),
                at = when(appeal.at),
                text = appeal.text
            )),
            (None, Some(until)) => out.push(html!(
                r#"<form method="post" action="/persons/{pid}/credit-records/{rid}/appeal"><label for="appeal-{rid}">{label} {until}</label><textarea id="appeal-{rid}" name="text" required minlength="5" maxlength="2000" rows="3"></textarea><button type="submit">{submit}</button></form>"#,
                pid = id.as_str(),
                rid = r.id,
                label = ui.t("申辩（截止）", "Appeal (until)"),
                until = when(until),
                submit = ui.t("提交申辩", "Appeal"),
            )),
            (None, None) => {}
        }
    }
    out.push_literal("</section>");
    Ok(out)
}

pub(crate) async fn appeal_credit(
    State(state): State<AppState>,
    PersonPage(id): PersonPage,
    crate::pages::extract::PageId(record): crate::pages::extract::PageId,
    Posted { ui, form }: Posted,
) -> Result<Response, Response> {
    reader_of(&ui, &state, &id, "credit record appeal").await?;
    let text = form.get("text").map(String::as_str).unwrap_or_default();
    let result = state.service.governance().appeal_credit_record(&id, &record, text).await;
    Ok(ui.outcome(result, "appealing a credit record", |_| see_other(&format!("/persons/{id}"))))
}
