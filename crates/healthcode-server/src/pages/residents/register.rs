//! Registration: the collection notice (收集告知), shown before consent and at `/notice`,
//! and the form that registers a resident (or claims the code a family member
//! registered) and sends them to their code.

use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_domain::{AreaCode, IdDocument};
use healthcode_service::{Registered, Registration, ServiceError};

use crate::pages::extract::{Fields, Posted};
use crate::pages::layout::Ui;
use crate::pages::markup::{html, Markup};
use crate::pages::places::AreaPicker;
use crate::pages::residents::signin::see_other_with_key;
use crate::AppState;

/// The published collection notice (收集告知), shown before consent and at `/notice`.
pub(crate) fn notice(ui: &Ui) -> Markup {
    let items: [(&str, &str); 5] = [
        (
            "收集什么：证件类型和号码（只用于生成不可逆的编号，号码本身不保存）、姓名（核验时只显示打码形式，如“张*丰”；全名与手机号用只属于您的密钥加密保存）、手机号和常住地区代码（可选）。疫情结束后全部销毁。",
            "What we collect: your ID type and number (used only to derive an irreversible pseudonym; the number itself is not kept), your name (checkpoints see it masked, e.g. “Z*F”; the full name and phone are encrypted with a key of your own) and, optionally, a mobile number and your area of residence. All of it is destroyed when the epidemic is over.",
        ),
        (
            "为什么：依据公布的赋码规则计算健康码颜色，并在场所和卡口核验。",
            "Why: to compute your code's colour under the published rules and to check it at venues and gates.",
        ),
        (
            "谁能看到：核验者只看到颜色和打码姓名；卫生部门提供的证据（检测、密接名单等）只用于计算颜色。",
            "Who sees what: verifiers see only the colour and the masked name; evidence from health departments (tests, contact lists …) is used only to compute the colour.",
        ),
        (
            "透明：每次颜色变化都记入公开的透明日志，日志里只有加盐承诺，没有您的身份；您可以查看自己的记录。",
            "Transparency: every colour change goes into a public transparency log that holds a salted commitment, never your identity; you can see your own entries.",
        ),
        (
            "未经您同意，不向他人提供您的个人信息，经处理无法识别且不能复原的统计数据除外。",
            "Your personal information is not given to others without your consent, except statistics that cannot identify you or be traced back.",
        ),
    ];
    let mut out = html!(
        "<section class=\"notice\" aria-labelledby=\"notice-title\"><h2 id=\"notice-title\">{title}</h2><ul>",
        title = ui.t("个人信息收集告知", "Collection notice")
    );
    out.extend(items.iter().map(|(zh, en)| html!("<li>{item}</li>", item = ui.t(zh, en))));
    out.push_literal("</ul></section>");
    out
}

pub(crate) async fn notice_page(ui: Ui) -> Response {
    let body = html!(
        "<h1>{title}</h1>{notice}<p>{rules} <a href=\"/v1/collection-rules\">/v1/collection-rules</a></p>",
        title = ui.t("个人信息收集告知", "Collection notice"),
        notice = notice(&ui),
        rules = ui.t(
            "机器可读的收集规则（字段、目的、保存期限、接收方）：",
            "The collection rules, machine-readable (fields, purposes, retention, recipients):"
        ),
    );
    ui.page(StatusCode::OK, ui.t("收集告知", "Collection notice"), body)
}

/// The registration form shown again with what was posted, as after a step of its area
/// picker, the body read by the extractor every page form goes through (`Posted`). Only
/// `crate::fuzzing` calls it: the fuzz target `form_body` (fuzz/).
pub(crate) async fn shown_again(request: Request) -> Response {
    match Posted::<Fields>::from_request(request, &()).await {
        Ok(Posted { ui, form }) => register_page(ui, StatusCode::OK, None, &form),
        Err(refused) => refused,
    }
}

pub(crate) async fn register_form(ui: Ui) -> Response {
    register_page(ui.with_form(), StatusCode::OK, None, &Fields::new())
}

fn register_page(ui: Ui, status: StatusCode, problem: Option<&str>, kept_fields: &Fields) -> Response {
    let kept = |name: &str| kept_fields.get(name).map(String::as_str).unwrap_or("");
    let mut body = html!("<h1>{title}</h1>", title = ui.t("居民登记", "Register as a resident"));
    if let Some(problem) = problem {
        body.push(html!("<p role=\"alert\" class=\"notice\"><strong>{problem}</strong></p>", problem = problem));
    }
    body.push(notice(&ui));
    let documents = document_options(&ui, kept("id_type"));
    body.push(html!(
        r#"<form method="post" action="/register">
{area_picker}
<label for="id_type">{id_type}</label><select id="id_type" name="id_type">{documents}</select>
<p><input type="checkbox" id="international" name="international" value="yes"><label class="inline" for="international">{international}</label></p>
<label for="id_number">{id_number}</label><input id="id_number" name="id_number" required maxlength="32" autocomplete="off" inputmode="text">
<label for="name">{name} <span class="muted">{optional}</span></label><input id="name" name="name" maxlength="64" value="{name_value}" autocomplete="name">
<label for="phone">{phone} <span class="muted">{phone_hint}</span></label><input id="phone" name="phone" maxlength="20" inputmode="tel" autocomplete="tel">
<label for="claim_code">{claim} <span class="muted">{claim_hint}</span></label><input id="claim_code" name="claim_code" maxlength="80" autocomplete="off" spellcheck="false">
<p><input type="checkbox" id="consent" name="consent" value="yes" required><label class="inline" for="consent">{consent}</label></p>
<button type="submit" id="register-submit">{submit}</button></form>"#,
        id_type = ui.t("证件类型", "ID type"),
        documents = documents,
        international = ui.t(
            "申领国际版健康码（港澳台居民和外籍人士自愿；持护照者均为国际版）",
            "Ask for the international code (voluntary for permit and residence card holders; passports always get it)"
        ),
        id_number = ui.t("证件号码", "ID number"),
        name = ui.t("姓名", "Name"),
        optional = ui.t("（可选，只保存打码形式）", "(optional; kept masked only)"),
        name_value = kept("name"),
        phone = ui.t("手机号", "Mobile number"),
        phone_hint = ui.t(
            "（可选，加密保存，仅用于疾控联系您）",
            "(optional; kept encrypted, used only by health officers to reach you)"
        ),
        area_picker = AreaPicker::new("residence_area", kept_fields).render(
            &ui,
            ui.t("常住地区（可选）", "Area of residence (optional)"),
            false,
            html!(
                r#"<p class="muted">{hint}</p>"#,
                hint = ui.t(
                    "请先选择地区：省 → 市 → 区县 → 街道（乡镇），再填写证件。",
                    "Choose your area first (province → city → county → street), then fill in your papers."
                )
            ),
        ),
        claim = ui.t("认领码", "Claim code"),
        claim_hint =
            ui.t("（可选：家人代您登记过时，由其给您）", "(optional: from the family member who registered you)"),
        consent = ui.t("我已阅读并同意上述个人信息收集告知", "I have read the collection notice above and consent"),
        submit = ui.t("登记并领取健康码", "Register and get my code"),
    ));
    ui.page(status, ui.t("居民登记", "Register"), body)
}

/// The `<option>`s of the identity documents a person registers with, `chosen` selected.
pub(crate) fn document_options(ui: &Ui, chosen: &str) -> Markup {
    let mut documents = Markup::new();
    for (value, zh, en) in [
        ("resident_id", "居民身份证", "Resident ID card"),
        ("passport", "护照", "Passport"),
        ("hk_macao_permit", "港澳居民来往内地通行证", "Home Return Permit (Hong Kong, Macao)"),
        ("taiwan_permit", "台湾居民来往大陆通行证", "Travel permit for Taiwan residents"),
        ("foreign_permanent_residence", "外国人永久居留身份证", "Foreign permanent residence card"),
    ] {
        documents.push(html!(
            "<option value=\"{value}\"{selected}>{name}</option>",
            value = value,
            selected = Markup::literal(if chosen == value { " selected" } else { "" }),
            name = ui.t(zh, en),
        ));
    }
    documents
}

/// The registration form's target: registers (or finds) the resident and sends them to
/// their code. The ID number is neither kept nor echoed back into the form.
pub(crate) async fn register(State(state): State<AppState>, Posted { ui, form }: Posted) -> Response {
    let field = |name: &str| form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let refuse = |ui: Ui, zh: &str, en: &str| {
        let message = ui.t(zh, en);
        register_page(ui, StatusCode::UNPROCESSABLE_ENTITY, Some(message), &form)
    };
    if AreaPicker::acted("residence_area", &form) {
        return register_page(ui, StatusCode::OK, None, &form);
    }
    if field("consent") != Some("yes") {
        return refuse(ui, "登记前请阅读并同意收集告知", "Please read and accept the collection notice to register");
    }
    let registration = match registration_from(&form) {
        Ok(registration) => registration,
        Err((zh, en)) => return refuse(ui, &zh, &en),
    };
    match state.service.residents().register_resident(registration, field("claim_code")).await {
        Ok((person, registered)) => match registered {
            Registered::Created { key } | Registered::Claimed { key } => {
                see_other_with_key(&format!("/persons/{}?welcome=1", person.id), Some(&key))
            }
            Registered::AlreadyRegistered => refuse(
                ui,
                "此证件已登记。请用登记时得到的居民密钥登录（/signin）；密钥丢失请到社区服务点补发。",
                "This ID is already registered. Sign in with the resident key you were given (/signin); a lost key is replaced at a community service point.",
            ),
            Registered::ClaimRequired => refuse(
                ui,
                "此证件已由他人代为登记（家人代管或部门名单）。请向代管您的家人索取认领码后再登记，或携带证件到社区服务点领取居民密钥。",
                "Someone else registered this ID (a family member acting for you, or a department's list). Ask the family member for a claim code and register with it, or take your papers to a community service point for your key.",
            ),
        },
        Err(ServiceError::Forbidden(m)) => refuse(ui, "认领码无效、已使用或已过期。", &m),
        Err(e @ ServiceError::UnknownArea { .. }) => {
            let message = e.to_string();
            refuse(ui, &format!("地区代码有误：{message}"), &format!("The area is not valid: {message}"))
        }
        Err(e) => ui.internal("registering from the page", e),
    }
}

/// A registration from a page's form (`id_type`, `id_number`, `name`, `phone`,
/// `residence_area`, `international`), consent given; or what is wrong, in both languages.
pub(crate) fn registration_from(form: &Fields) -> Result<Registration, (String, String)> {
    let field = |name: &str| form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let document = IdDocument::parse(field("id_type").unwrap_or("resident_id"), field("id_number").unwrap_or(""))
        .map_err(|e| (format!("证件号码有误：{e}"), format!("The ID number is not valid: {e}")))?;
    let residence_area = field("residence_area")
        .map(AreaCode::parse)
        .transpose()
        .map_err(|m| (format!("地区代码有误：{m}"), format!("The area code is not valid: {m}")))?;
    let name = field("name")
        .map(healthcode_domain::check_name)
        .transpose()
        .map_err(|_| ("姓名应为 1 至 64 个字符".to_string(), "The name must be 1 to 64 characters".to_string()))?;
    let phone = field("phone").map(healthcode_service::check_phone).transpose().map_err(|_| {
        ("手机号应为 1 开头的 11 位数字".to_string(), "A mobile number is 11 digits starting with 1".to_string())
    })?;
    let international = field("international") == Some("yes");
    Ok(Registration { document, residence_area, name, phone, international, accepted_notice: true })
}
