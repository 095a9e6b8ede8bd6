//! Family members a resident acts for (家庭代管): listed on the resident's own code page,
//! added by registering them (or, if registered, with their key as their agreement), and
//! ended by either side.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_domain::{AreaCode, IdDocument, PersonId};
use healthcode_service::{Registration, ServiceError};

use crate::pages::extract::{Fields, Posted, Resident};
use crate::pages::layout::{see_other, when, Ui};
use crate::pages::markup::{html, Markup};
use crate::pages::places::AreaPicker;
use crate::pages::residents::signin::RESIDENT_COOKIE;
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

fn relation_name<'a>(ui: &Ui, relation: &'a str) -> &'a str {
    RELATIONS.iter().find(|r| r.0 == relation).map(|r| ui.t(r.1, r.2)).unwrap_or(relation)
}

/// The family section of the resident's own code page.
pub(crate) async fn section(ui: &Ui, state: &AppState, me: &PersonId) -> Result<Markup, Response> {
    let family = state.service.residents().family(me).await.map_err(|e| ui.internal("reading a family", e))?;
    let mut out = html!(
        "<section aria-labelledby=\"family-title\"><h2 id=\"family-title\">{title}</h2>",
        title = ui.t("家人代管", "Family members I act for")
    );
    if family.dependants.is_empty() {
        out.push(html!("<p>{none}</p>", none = ui.t("您还没有代管家人。", "You do not act for anyone yet.")));
    } else {
        out.push_literal("<ul>");
        for link in &family.dependants {
            out.push(html!(
                "<li><a href=\"/persons/{id}\">{relation} · {id}</a> {end} {claim}</li>",
                id = link.dependant.as_str(),
                relation = relation_name(ui, &link.relation),
                end = end_button(ui, &link.proxy, &link.dependant),
                claim = claim_button(ui, &link.dependant),
            ));
        }
        out.push_literal("</ul>");
    }
    if !family.proxies.is_empty() {
        out.push(html!("<h3>{title}</h3><ul>", title = ui.t("代管我的人", "Who acts for me")));
        for link in &family.proxies {
            out.push(html!(
                "<li>{relation} · <code>{proxy}</code> {end}</li>",
                relation = relation_name(ui, &link.relation),
                proxy = link.proxy.as_str(),
                end = end_button(ui, &link.proxy, &link.dependant),
            ));
        }
        out.push_literal("</ul>");
    }
    out.push(html!(
        r#"<details><summary>{add}</summary>{form}</details></section>"#,
        add = ui
            .t("添加代管家人（如没有手机的老人）", "Act for a family member (e.g. an elderly parent without a phone)"),
        form = add_form(ui, &Fields::new()),
    ));
    Ok(out)
}

/// The form that adds a family member; shown again on its own page while its area picker
/// is in use (the ID number is never sent back into it).
fn add_form(ui: &Ui, kept: &Fields) -> Markup {
    let kept_value = |name: &str| kept.get(name).map(String::as_str).unwrap_or("");
    let options: Markup = RELATIONS
        .iter()
        .map(|(value, zh, en)| {
            html!(
                "<option value=\"{value}\"{selected}>{name}</option>",
                value = *value,
                selected = Markup::literal(if kept_value("relation") == *value { " selected" } else { "" }),
                name = ui.t(zh, en)
            )
        })
        .collect();
    html!(
        r#"<form method="post" action="/family">
{area_picker}
<label for="f_relation">{relation}</label><select id="f_relation" name="relation">{options}</select>
<label for="f_id_type">{id_type}</label><select id="f_id_type" name="id_type"><option value="resident_id">{resident_id}</option><option value="passport">{passport}</option></select>
<label for="f_id_number">{id_number}</label><input id="f_id_number" name="id_number" required maxlength="32" autocomplete="off">
<label for="f_name">{name}</label><input id="f_name" name="name" maxlength="64" value="{name_value}">
<label for="f_key">{key}</label><input id="f_key" name="dependant_key" maxlength="80" autocomplete="off" spellcheck="false">
<button type="submit" id="family-add">{submit}</button></form>"#,
        area_picker = AreaPicker::new("residence_area", kept).render(
            ui,
            ui.t("家人的常住地区（可选）", "Their area of residence (optional)"),
            false,
            Markup::new()
        ),
        relation = ui.t("关系", "Relation"),
        options = options,
        id_type = ui.t("证件类型", "ID type"),
        resident_id = ui.t("居民身份证", "Resident ID card"),
        passport = ui.t("护照", "Passport"),
        id_number = ui.t("证件号码", "ID number"),
        name = ui.t("姓名（可选）", "Name (optional)"),
        name_value = kept_value("name"),
        key = ui.t("若其已登记：其居民密钥（表示同意）", "If already registered: their resident key (their agreement)"),
        submit = ui.t("添加", "Add"),
    )
}

/// A claim code lets the family member get their own key (once they have a phone).
fn claim_button(ui: &Ui, dependant: &PersonId) -> Markup {
    html!(
        "<form method=\"post\" action=\"/family/claim-code\" class=\"inline\"><input type=\"hidden\" name=\"dependant\" value=\"{dependant}\"><button type=\"submit\">{give}</button></form>",
        dependant = dependant.as_str(),
        give = ui.t("给其认领码", "Give a claim code"),
    )
}

fn end_button(ui: &Ui, proxy: &PersonId, dependant: &PersonId) -> Markup {
    html!(
        "<form method=\"post\" action=\"/family/end\" class=\"inline\"><input type=\"hidden\" name=\"proxy\" value=\"{proxy}\"><input type=\"hidden\" name=\"dependant\" value=\"{dependant}\"><button type=\"submit\">{end}</button></form>",
        proxy = proxy.as_str(),
        dependant = dependant.as_str(),
        end = ui.t("结束代管", "End"),
    )
}

fn refused(ui: &Ui, e: ServiceError) -> Response {
    match e {
        ServiceError::Invalid(v) => ui.error(StatusCode::UNPROCESSABLE_ENTITY, &v.message, &v.message),
        ServiceError::Conflict(m) | ServiceError::Forbidden(m) => ui.error(StatusCode::CONFLICT, &m, &m),
        e @ ServiceError::UnknownArea { .. } => {
            let m = e.to_string();
            ui.error(StatusCode::UNPROCESSABLE_ENTITY, &m, &m)
        }
        e => ui.internal("a family change", e),
    }
}

pub(crate) async fn add(
    State(state): State<AppState>,
    Resident(me): Resident,
    Posted { ui, form }: Posted,
) -> Response {
    if AreaPicker::acted("residence_area", &form) {
        let title = ui.t("添加代管家人", "Act for a family member");
        let body = html!("<h1>{title}</h1>{form}", title = title, form = add_form(&ui, &form));
        return ui.page(StatusCode::OK, title, body);
    }
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
    let registration =
        Registration { document, residence_area, name, phone: None, international: false, accepted_notice: false };
    let relation = field("relation").unwrap_or("");
    match state.service.residents().add_dependant(&me, registration, relation, field("dependant_key")).await {
        Ok((person, _)) => see_other(&format!("/persons/{}", person.id)),
        Err(e) => refused(&ui, e),
    }
}

pub(crate) async fn end(
    State(state): State<AppState>,
    Resident(me): Resident,
    Posted { ui, form }: Posted,
) -> Response {
    let person = |name: &str| form.get(name).and_then(|p| PersonId::parse(p).ok());
    let (Some(proxy), Some(dependant)) = (person("proxy"), person("dependant")) else {
        return ui.error(StatusCode::BAD_REQUEST, "这不是有效的编号", "not a valid person id");
    };
    match state.service.residents().end_proxy(&me, &proxy, &dependant).await {
        Ok(()) => see_other(&format!("/persons/{me}")),
        Err(e) => refused(&ui, e),
    }
}

/// Gives a dependant who holds no key of their own a claim code, shown once: they
/// register with it and their ID number and get their own key.
pub(crate) async fn claim_code(
    State(state): State<AppState>,
    Resident(me): Resident,
    Posted { ui, form }: Posted,
) -> Response {
    let Some(dependant) = form.get("dependant").and_then(|p| PersonId::parse(p).ok()) else {
        return ui.error(StatusCode::BAD_REQUEST, "这不是有效的编号", "not a valid person id");
    };
    let residents = state.service.residents();
    let proxy = match ui.cookie(RESIDENT_COOKIE) {
        Some(key) => residents.reader_for_resident(key, &dependant).await,
        None => Err(ServiceError::Unauthorised("sign in again".into())),
    };
    match async { residents.issue_claim_code(&proxy?, &dependant).await }.await {
        Ok(code) => {
            let body = html!(
                "<h1>{title}</h1><p>{intro}</p><p><code id=\"claim-code\">{code}</code></p><p class=\"muted\">{until} {expires}</p><p><a href=\"/persons/{me}\">{back}</a></p>",
                title = ui.t("认领码", "Claim code"),
                intro = ui.t(
                    "请把此认领码交给您的家人：其在“居民登记”中填写本人证件号码和此认领码，即可领取自己的居民密钥。认领码只显示这一次，只能使用一次。",
                    "Give this claim code to your family member: they register with their own ID number and this code, and get their own resident key. It is shown this once and works once."
                ),
                code = code.claim_code,
                until = ui.t("有效期至", "Valid until"),
                expires = when(code.expires_at),
                me = me.as_str(),
                back = ui.t("返回我的健康码", "Back to my code"),
            );
            ui.page(StatusCode::CREATED, ui.t("认领码", "Claim code"), body)
        }
        Err(e) => refused(&ui, e),
    }
}
