//! Family members a resident acts for (家庭代管): listed on the resident's own code page,
//! added by registering them (or, if registered, with their key as their agreement), and
//! ended by either side.

use std::collections::HashMap;
use std::fmt::Write;

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use healthcode_domain::{AreaCode, IdDocument, PersonId};
use healthcode_service::{Registration, ServiceError};

use super::layout::{esc, see_other, Ui};
use super::signin::signed_in;
use crate::AppState;

const RELATIONS: [(&str, &str, &str); 8] = [
    ("parent", "父母", "parent"),
    ("child", "子女", "child"),
    ("spouse", "配偶", "spouse"),
    ("sibling", "兄弟姐妹", "sibling"),
    ("grandparent", "祖父母/外祖父母", "grandparent"),
    ("grandchild", "孙子女/外孙子女", "grandchild"),
    ("relative", "其他亲属", "relative"),
    ("carer", "照护人", "carer"),
];

fn relation_name(ui: &Ui, relation: &str) -> String {
    RELATIONS.iter().find(|r| r.0 == relation).map(|r| ui.t(r.1, r.2)).unwrap_or_else(|| esc(relation))
}

/// The family section of the resident's own code page.
pub(crate) async fn section(ui: &Ui, state: &AppState, me: &PersonId) -> Result<String, Response> {
    let family = state.service.family(me).await.map_err(|e| ui.internal("reading a family", e))?;
    let mut out = format!(
        "<section aria-labelledby=\"family-title\"><h2 id=\"family-title\">{}</h2>",
        ui.t("家人代管", "Family members I act for")
    );
    if family.dependants.is_empty() {
        let _ = write!(out, "<p>{}</p>", ui.t("您还没有代管家人。", "You do not act for anyone yet."));
    } else {
        out.push_str("<ul>");
        for link in &family.dependants {
            let id = esc(link.dependant.as_str());
            let _ = write!(
                out,
                "<li><a href=\"/persons/{id}\">{} · {id}</a> {} {}</li>",
                relation_name(ui, &link.relation),
                end_button(ui, &link.proxy, &link.dependant),
                claim_button(ui, &link.dependant),
            );
        }
        out.push_str("</ul>");
    }
    if !family.proxies.is_empty() {
        let _ = write!(out, "<h3>{}</h3><ul>", ui.t("代管我的人", "Who acts for me"));
        for link in &family.proxies {
            let _ = write!(
                out,
                "<li>{} · <code>{}</code> {}</li>",
                relation_name(ui, &link.relation),
                esc(link.proxy.as_str()),
                end_button(ui, &link.proxy, &link.dependant),
            );
        }
        out.push_str("</ul>");
    }
    let mut options = String::new();
    for (value, zh, en) in RELATIONS {
        let _ = write!(options, "<option value=\"{value}\">{}</option>", ui.t(zh, en));
    }
    let _ = write!(
        out,
        r#"<details><summary>{add}</summary><form method="post" action="/family">
<label for="f_relation">{relation}</label><select id="f_relation" name="relation">{options}</select>
<label for="f_id_type">{id_type}</label><select id="f_id_type" name="id_type"><option value="resident_id">{resident_id}</option><option value="passport">{passport}</option></select>
<label for="f_id_number">{id_number}</label><input id="f_id_number" name="id_number" required maxlength="32" autocomplete="off">
<label for="f_name">{name}</label><input id="f_name" name="name" maxlength="64">
<label for="f_area">{area}</label><input id="f_area" name="residence_area" maxlength="12" inputmode="numeric">
<label for="f_key">{key}</label><input id="f_key" name="dependant_key" maxlength="80" autocomplete="off" spellcheck="false">
<button type="submit">{submit}</button></form></details></section>"#,
        add = ui
            .t("添加代管家人（如没有手机的老人）", "Act for a family member (e.g. an elderly parent without a phone)"),
        relation = ui.t("关系", "Relation"),
        id_type = ui.t("证件类型", "ID type"),
        resident_id = ui.t("居民身份证", "Resident ID card"),
        passport = ui.t("护照", "Passport"),
        id_number = ui.t("证件号码", "ID number"),
        name = ui.t("姓名（可选）", "Name (optional)"),
        area = ui.t("常住地区代码（可选）", "Area of residence (optional)"),
        key = ui.t("若其已登记：其居民密钥（表示同意）", "If already registered: their resident key (their agreement)"),
        submit = ui.t("添加", "Add"),
    );
    Ok(out)
}

/// A claim code lets the family member get their own key (once they have a phone).
fn claim_button(ui: &Ui, dependant: &PersonId) -> String {
    format!(
        "<form method=\"post\" action=\"/family/claim-code\" class=\"inline\"><input type=\"hidden\" name=\"dependant\" value=\"{}\"><button type=\"submit\">{}</button></form>",
        esc(dependant.as_str()),
        ui.t("给其认领码", "Give a claim code"),
    )
}

fn end_button(ui: &Ui, proxy: &PersonId, dependant: &PersonId) -> String {
    format!(
        "<form method=\"post\" action=\"/family/end\" class=\"inline\"><input type=\"hidden\" name=\"proxy\" value=\"{}\"><input type=\"hidden\" name=\"dependant\" value=\"{}\"><button type=\"submit\">{}</button></form>",
        esc(proxy.as_str()),
        esc(dependant.as_str()),
        ui.t("结束代管", "End"),
    )
}

type FormResult = Result<Form<HashMap<String, String>>, FormRejection>;

/// Checks the post and the sign-in: the signed-in resident and the form, or the page to show.
async fn posted_by_resident(
    ui: Ui,
    state: &AppState,
    headers: &HeaderMap,
    form: FormResult,
) -> Result<(Ui, PersonId, HashMap<String, String>), Response> {
    let ui = ui.posted(headers)?;
    let Some(me) = signed_in(&ui, state).await else {
        return Err(see_other("/signin"));
    };
    let Ok(Form(form)) = form else {
        return Err(ui.error(StatusCode::BAD_REQUEST, "表单无法读取", "the form could not be read"));
    };
    Ok((ui, me, form))
}

fn refused(ui: &Ui, e: ServiceError) -> Response {
    match e {
        ServiceError::Invalid(v) => ui.error(StatusCode::UNPROCESSABLE_ENTITY, &v.message, &v.message),
        ServiceError::Conflict(m) | ServiceError::Forbidden(m) => ui.error(StatusCode::CONFLICT, &m, &m),
        e => ui.internal("a family change", e),
    }
}

pub(crate) async fn add(ui: Ui, State(state): State<AppState>, headers: HeaderMap, form: FormResult) -> Response {
    let (ui, me, form) = match posted_by_resident(ui, &state, &headers, form).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let field = |name: &str| form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let document = match IdDocument::parse(field("id_type").unwrap_or("resident_id"), field("id_number").unwrap_or(""))
    {
        Ok(d) => d,
        Err(e) => return ui.error(StatusCode::UNPROCESSABLE_ENTITY, &format!("证件号码有误：{e}"), &e.to_string()),
    };
    let residence_area = match field("residence_area").map(AreaCode::parse).transpose() {
        Ok(a) => a,
        Err(m) => return ui.error(StatusCode::UNPROCESSABLE_ENTITY, &format!("地区代码有误：{m}"), &m.to_string()),
    };
    let name = match field("name").map(healthcode_domain::check_name).transpose() {
        Ok(n) => n,
        Err(_) => {
            return ui.error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "姓名应为 1 至 64 个字符",
                "The name must be 1 to 64 characters",
            )
        }
    };
    let registration = Registration { document, residence_area, name, phone: None };
    let relation = field("relation").unwrap_or("");
    match state.service.add_dependant(&me, registration, relation, field("dependant_key")).await {
        Ok((person, _)) => see_other(&format!("/persons/{}", person.id)),
        Err(e) => refused(&ui, e),
    }
}

pub(crate) async fn end(ui: Ui, State(state): State<AppState>, headers: HeaderMap, form: FormResult) -> Response {
    let (ui, me, form) = match posted_by_resident(ui, &state, &headers, form).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let person = |name: &str| form.get(name).and_then(|p| PersonId::parse(p).ok());
    let (Some(proxy), Some(dependant)) = (person("proxy"), person("dependant")) else {
        return ui.error(StatusCode::BAD_REQUEST, "这不是有效的编号", "not a valid person id");
    };
    match state.service.end_proxy(&me, &proxy, &dependant).await {
        Ok(()) => see_other(&format!("/persons/{me}")),
        Err(e) => refused(&ui, e),
    }
}

/// Gives a dependant who holds no key of their own a claim code, shown once: they
/// register with it and their ID number and get their own key.
pub(crate) async fn claim_code(
    ui: Ui,
    State(state): State<AppState>,
    headers: HeaderMap,
    form: FormResult,
) -> Response {
    let (ui, me, form) = match posted_by_resident(ui, &state, &headers, form).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let Some(dependant) = form.get("dependant").and_then(|p| PersonId::parse(p).ok()) else {
        return ui.error(StatusCode::BAD_REQUEST, "这不是有效的编号", "not a valid person id");
    };
    match state.service.issue_claim_code(&me, &dependant).await {
        Ok(code) => {
            let body = format!(
                "<h1>{}</h1><p>{}</p><p><code id=\"claim-code\">{}</code></p><p class=\"muted\">{} {}</p><p><a href=\"/persons/{}\">{}</a></p>",
                ui.t("认领码", "Claim code"),
                ui.t(
                    "请把此认领码交给您的家人：其在“居民登记”中填写本人证件号码和此认领码，即可领取自己的居民密钥。认领码只显示这一次，只能使用一次。",
                    "Give this claim code to your family member: they register with their own ID number and this code, and get their own resident key. It is shown this once and works once."
                ),
                esc(&code.claim_code),
                ui.t("有效期至", "Valid until"),
                esc(&super::layout::when(code.expires_at)),
                esc(me.as_str()),
                ui.t("返回我的健康码", "Back to my code"),
            );
            ui.page(StatusCode::CREATED, &ui.t("认领码", "Claim code"), &body)
        }
        Err(e) => refused(&ui, e),
    }
}
