//! The visitor's page (来浙申报, 转码): someone from another region registers here with
//! their home code, or declares where they come from and where they stayed, and is sent
//! to this region's code, judged by this region's rules (`Conversions::convert`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_domain::AreaCode;
use healthcode_service::{Conversion, DeclaredStay, ServiceError};

use crate::pages::extract::{Fields, Posted};
use crate::pages::layout::Ui;
use crate::pages::markup::{html, Markup};
use crate::pages::places::AreaPicker;
use crate::pages::residents::register::{document_options, notice, registration_from};
use crate::pages::residents::signin::see_other_with_key;
use crate::AppState;

pub(crate) async fn form(ui: Ui) -> Response {
    page(ui.with_form(), StatusCode::OK, None, &Fields::new())
}

fn page(ui: Ui, status: StatusCode, problem: Option<&str>, kept: &Fields) -> Response {
    let kept_value = |name: &str| kept.get(name).map(String::as_str).unwrap_or("");
    let body = html!(
        r#"<h1>{title}</h1>{problem}<p>{intro}</p>{notice}<form method="post" action="/visit">
<fieldset><legend>{origin_legend}</legend>{origin_picker}</fieldset>
<label for="home_code">{home_code} <span class="muted">{home_code_hint}</span></label><textarea id="home_code" name="home_code" rows="3" maxlength="2000" spellcheck="false">{home_code_value}</textarea>
<label for="id_type">{id_type}</label><select id="id_type" name="id_type">{documents}</select>
<label for="id_number">{id_number}</label><input id="id_number" name="id_number" required maxlength="32" autocomplete="off">
<label for="name">{name} <span class="muted">{name_hint}</span></label><input id="name" name="name" maxlength="64" value="{name_value}" autocomplete="name">
<label for="phone">{phone} <span class="muted">{optional}</span></label><input id="phone" name="phone" maxlength="20" inputmode="tel" autocomplete="tel">
<fieldset><legend>{stay_legend}</legend>{stay_picker}
<label for="stay_from">{from}</label><input id="stay_from" name="stay_from" maxlength="40" placeholder="2020-03-01T08:00:00+08:00" value="{from_value}">
<label for="stay_to">{to}</label><input id="stay_to" name="stay_to" maxlength="40" value="{to_value}"></fieldset>
<p><input type="checkbox" id="consent" name="consent" value="yes" required><label class="inline" for="consent">{consent}</label></p>
<button type="submit" id="visit-submit">{submit}</button></form>"#,
        title = ui.t("外地来访申报（转码）", "Visitors from other regions: declare and convert"),
        problem = match problem {
            Some(p) => html!("<p role=\"alert\" class=\"notice\"><strong>{p}</strong></p>", p = p),
            None => Markup::new(),
        },
        intro = ui.t(
            "来自其他地区的访客：出示本人的健康码（从家乡健康码应用复制），或如实申报来源地和旅居地。本地健康码由本地赋码规则根据全国共享的证据和您的申报判定；家乡健康码的颜色只作显示，不会照搬。",
            "Visitors from another region: show your own home code (copy it from your home region's app), or declare truthfully where you come from and where you stayed. Your code here is judged by this region's rules from the evidence shared nationally and what you declare; your home code's colour is shown, never copied."
        ),
        notice = notice(&ui),
        origin_legend = ui.t("来源地（必填）", "Where you come from (required)"),
        origin_picker = AreaPicker::new("origin", kept).render(&ui, ui.t("来源地", "Coming from"), true, Markup::new()),
        home_code = ui.t("家乡健康码", "Home code"),
        home_code_hint = ui.t(
            "（可选：以 HC1: 开头；出示时须填写姓名以便核对）",
            "(optional: starts with HC1:; with it, give your name so that it can be checked)"
        ),
        home_code_value = kept_value("home_code"),
        id_type = ui.t("证件类型", "ID type"),
        documents = document_options(&ui, kept_value("id_type")),
        id_number = ui.t("证件号码", "ID number"),
        name = ui.t("姓名", "Name"),
        name_hint = ui.t("（出示家乡健康码时必填，只保存打码形式）", "(required with a home code; kept masked only)"),
        name_value = kept_value("name"),
        phone = ui.t("手机号", "Mobile number"),
        optional = ui.t("（可选，加密保存）", "(optional; kept encrypted)"),
        stay_legend = ui.t("近14天旅居地（可选）", "A stay in the past 14 days (optional)"),
        stay_picker = AreaPicker::new("stay_area", kept).render(&ui, ui.t("地区", "Area"), false, Markup::new()),
        from = ui.t("到达时间", "Arrived"),
        from_value = kept_value("stay_from"),
        to = ui.t("离开时间（仍在当地则不填）", "Left (empty if still there)"),
        to_value = kept_value("stay_to"),
        consent = ui.t("我已阅读并同意上述个人信息收集告知，并承诺如实申报", "I have read the collection notice and consent, and I declare truthfully"),
        submit = ui.t("提交并领取本地健康码", "Submit and get my code here"),
    );
    ui.page(status, ui.t("来访申报", "Visitors"), body)
}

/// The form's target: converts the visitor and sends them to their code here.
pub(crate) async fn convert(State(state): State<AppState>, Posted { ui, form }: Posted) -> Response {
    let field = |name: &str| form.get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let refuse = |ui: Ui, message: &str| page(ui, StatusCode::UNPROCESSABLE_ENTITY, Some(message), &form);
    if AreaPicker::acted("origin", &form) || AreaPicker::acted("stay_area", &form) {
        return page(ui, StatusCode::OK, None, &form);
    }
    if field("consent").as_deref() != Some("yes") {
        let message = ui.t("请阅读并同意收集告知", "Please read and accept the collection notice");
        return refuse(ui, message);
    }
    let registration = match registration_from(&form) {
        Ok(registration) => registration,
        Err((zh, en)) => {
            let message = ui.t(&zh, &en).to_string();
            return refuse(ui, &message);
        }
    };
    let origin = match field("origin").map(|o| AreaCode::parse(&o)) {
        Some(Ok(origin)) => origin,
        Some(Err(m)) => {
            let message = ui.t(&format!("来源地有误：{m}"), &format!("Where you come from: {m}")).to_string();
            return refuse(ui, &message);
        }
        None => {
            let message = ui.t("请选择来源地", "Choose where you come from");
            return refuse(ui, message);
        }
    };
    let stays = match (field("stay_area"), field("stay_from")) {
        (Some(area), Some(from)) => vec![DeclaredStay { area, from, to: field("stay_to") }],
        (None, None) => Vec::new(),
        _ => {
            let message = ui.t("旅居地请同时填写地区和到达时间", "For a stay give both the area and the arrival time");
            return refuse(ui, message);
        }
    };
    let conversion = Conversion { registration, origin, home_code: field("home_code"), stays };
    match state.service.conversions().convert(conversion).await {
        Ok(converted) => {
            see_other_with_key(&format!("/persons/{}?welcome=1", converted.person.id), Some(&converted.resident_key))
        }
        Err(ServiceError::Invalid(e)) => refuse(ui, &e.message),
        Err(ServiceError::Conflict(m)) => {
            let zh = "此证件在本地已登记或已有记录：请用居民密钥登录（/signin），或携带证件到社区服务点领取密钥。";
            let message = ui.t(zh, &m).to_string();
            page(ui, StatusCode::CONFLICT, Some(&message), &form)
        }
        Err(e @ ServiceError::UnknownArea { .. }) => refuse(ui, &e.to_string()),
        Err(e) => ui.internal("converting a visitor's code", e),
    }
}
