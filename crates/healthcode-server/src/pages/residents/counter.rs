//! The service counter (社区服务窗口) on the pages: after checking a person's papers, an
//! official of their district registers them if need be, gives them a key on paper, or
//! prints them a card that lasts. Each act is in the person's access log as the
//! official's.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_domain::{AreaCode, IdDocument};
use healthcode_service::ServiceError;
use healthcode_store::Account;

use crate::api::policy::may;
use crate::pages::accounts::officials::staff_page;
use crate::pages::extract::{Fields, Official, Posted};
use crate::pages::layout::Ui;
use crate::pages::markup::{html, Markup};
use crate::pages::places::AreaPicker;
use crate::AppState;

pub(crate) async fn form(Official { ui, account, .. }: Official<may::ReplaceResidentKey>) -> Response {
    page(ui, &account, StatusCode::OK, None, &Fields::new())
}

fn page(ui: Ui, account: &Account, status: StatusCode, problem: Option<&str>, kept: &Fields) -> Response {
    let title = ui.t("服务窗口", "Service counter");
    let body = html!(
        r#"<h1>{title}</h1>{problem}<p class="muted">{note}</p><form method="post" action="/staff/counter">
{area_picker}
<label for="id_type">{id_type}</label><select id="id_type" name="id_type"><option value="resident_id">{resident_id}</option><option value="passport">{passport}</option><option value="hk_macao_permit">{hk}</option><option value="taiwan_permit">{tw}</option><option value="foreign_permanent_residence">{pr}</option></select>
<label for="id_number">{id_number}</label><input id="id_number" name="id_number" required maxlength="32" autocomplete="off">
<button type="submit" name="act" value="key">{key}</button> <button type="submit" name="act" value="card">{card}</button></form>"#,
        title = title,
        problem = match problem {
            Some(p) => html!("<p role=\"alert\" class=\"notice\"><strong>{p}</strong></p>", p = p),
            None => Markup::new(),
        },
        note = ui.t(
            "先核验本人证件。未登记的居民在此登记（须填常住地区，限本辖区）。发放密钥会使其旧密钥失效；每项操作都以您的名义记入居民的访问记录。",
            "Check the person's papers first. A person not yet registered is registered here (give their area of residence, inside your jurisdiction). Giving a key ends their old one; each act is in the person's access log as yours."
        ),
        id_type = ui.t("证件类型", "ID type"),
        resident_id = ui.t("居民身份证", "Resident ID card"),
        passport = ui.t("护照", "Passport"),
        hk = ui.t("港澳居民来往内地通行证", "Home Return Permit"),
        tw = ui.t("台湾居民来往大陆通行证", "Taiwan residents' travel permit"),
        pr = ui.t("外国人永久居留身份证", "Foreign permanent residence card"),
        id_number = ui.t("证件号码", "ID number"),
        area_picker = AreaPicker::new("residence_area", kept).render(
            &ui,
            ui.t("常住地区（新登记时必填）", "Area of residence (required to register)"),
            false,
            Markup::new()
        ),
        key = ui.t("登记并发放密钥", "Register and give a key"),
        card = ui.t("打印长期卡", "Print a card"),
    );
    staff_page(ui, status, account, title, body)
}

pub(crate) async fn act(
    State(state): State<AppState>,
    Official { account, .. }: Official<may::ReplaceResidentKey>,
    Posted { ui, form }: Posted,
) -> Response {
    let field = |name: &str| form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    if AreaPicker::acted("residence_area", &form) {
        return page(ui, &account, StatusCode::OK, None, &form);
    }
    let refuse = |ui: Ui, status: StatusCode, message: &str| page(ui, &account, status, Some(message), &form);
    let document = match IdDocument::parse(field("id_type").unwrap_or("resident_id"), field("id_number").unwrap_or(""))
    {
        Ok(document) => document,
        Err(e) => return refuse(ui, StatusCode::UNPROCESSABLE_ENTITY, &e.message),
    };
    let area = match field("residence_area").map(AreaCode::parse).transpose() {
        Ok(area) => area,
        Err(m) => return refuse(ui, StatusCode::UNPROCESSABLE_ENTITY, &m),
    };
    let refused = |ui: Ui, e: ServiceError| match e {
        ServiceError::Invalid(v) => refuse(ui, StatusCode::UNPROCESSABLE_ENTITY, &v.message),
        ServiceError::Forbidden(m) => refuse(ui, StatusCode::FORBIDDEN, &m),
        e @ ServiceError::UnknownArea { .. } => refuse(ui, StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
        ServiceError::UnknownPerson(_) => refuse(
            ui,
            StatusCode::NOT_FOUND,
            "此人尚未登记：请先登记并发放密钥 / not registered yet: register them and give a key first",
        ),
        e => ui.internal("serving a person at the counter", e),
    };
    match field("act") {
        Some("card") => match state.service.tokens().issue_card_at_counter(&account, &document).await {
            Ok((_, card)) => match healthcode_token::qr::svg(&card.token) {
                Ok(svg) => {
                    let body = crate::pages::codes::lasting::card_body(&ui, &card, &svg, "/staff/counter");
                    staff_page(ui, StatusCode::CREATED, &account, "健康码长期卡 / Health code card", body)
                }
                Err(e) => ui.internal("drawing a card's code", e),
            },
            Err(e) => refused(ui, e),
        },
        _ => match state.service.residents().replace_resident_key(&account, &document, area).await {
            Ok((person, key)) => {
                let body = html!(
                    "<div class=\"big\"><h1>{title}</h1><p>{person_word} <code>{person}</code></p><p>{key_word}</p><p><code>{key}</code></p><p class=\"muted\">{note}</p><p class=\"noprint\"><a href=\"/staff/counter\">{back}</a></p></div>",
                    title = ui.t("居民密钥", "Resident key"),
                    person_word = ui.t("居民编号", "Person id"),
                    person = person.id.as_str(),
                    key_word = ui.t("密钥（仅显示一次，请打印交给本人）", "Key (shown once: print it and hand it over)"),
                    key = key,
                    note = ui.t(
                        "凭此密钥可在任一设备登录查看本人健康码；遗失可再到窗口更换，旧密钥随即失效。",
                        "With this key the person signs in on any device; a lost one is replaced at a counter, and the old one stops working."
                    ),
                    back = ui.t("返回服务窗口", "Back to the counter"),
                );
                staff_page(ui, StatusCode::OK, &account, "居民密钥 / Resident key", body)
            }
            Err(e) => refused(ui, e),
        },
    }
}
