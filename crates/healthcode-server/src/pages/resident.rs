//! A resident's pages: the collection notice, registration with consent, my code (QR,
//! colour, why, what turns it green), my history from the transparency log, and a
//! printable code card.

use std::collections::HashMap;
use std::fmt::Write;

use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use healthcode_domain::{AreaCode, IdDocument, PersonId, RuleColour, Timestamp};
use healthcode_log::Entry;
use healthcode_service::{Explanation, Reader, Registered, Registration, ServiceError};

use super::layout::{esc, when, Ui};
use super::signin::{reader_of, see_other_with_key};
use crate::api::{parse_at, query_params, RawQuery};
use crate::AppState;

/// The published collection notice (收集告知), shown before consent and at `/notice`.
fn notice(ui: &Ui) -> String {
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
    let mut out = format!(
        "<section class=\"notice\" aria-labelledby=\"notice-title\"><h2 id=\"notice-title\">{}</h2><ul>",
        ui.t("个人信息收集告知", "Collection notice")
    );
    for (zh, en) in items {
        let _ = write!(out, "<li>{}</li>", ui.t(zh, en));
    }
    out.push_str("</ul></section>");
    out
}

pub(crate) async fn notice_page(ui: Ui) -> Response {
    let body = format!(
        "<h1>{}</h1>{}<p>{} <a href=\"/v1/collection-rules\">/v1/collection-rules</a></p>",
        ui.t("个人信息收集告知", "Collection notice"),
        notice(&ui),
        ui.t(
            "机器可读的收集规则（字段、目的、保存期限、接收方）：",
            "The collection rules, machine-readable (fields, purposes, retention, recipients):"
        ),
    );
    ui.page(StatusCode::OK, &ui.t("收集告知", "Collection notice"), &body)
}

pub(crate) async fn register_form(ui: Ui) -> Response {
    register_page(ui.with_form(), StatusCode::OK, None, &HashMap::new())
}

fn register_page(ui: Ui, status: StatusCode, problem: Option<String>, kept: &HashMap<String, String>) -> Response {
    let kept = |name: &str| esc(kept.get(name).map(String::as_str).unwrap_or(""));
    let mut body = format!("<h1>{}</h1>", ui.t("居民登记", "Register as a resident"));
    if let Some(problem) = problem {
        let _ = write!(body, "<p role=\"alert\" class=\"notice\"><strong>{problem}</strong></p>");
    }
    body.push_str(&notice(&ui));
    let passport_selected = if kept("id_type") == "passport" { " selected" } else { "" };
    let _ = write!(
        body,
        r#"<form method="post" action="/register">
<label for="id_type">{id_type}</label><select id="id_type" name="id_type"><option value="resident_id">{resident_id}</option><option value="passport"{passport_selected}>{passport}</option></select>
<label for="id_number">{id_number}</label><input id="id_number" name="id_number" required maxlength="32" autocomplete="off" inputmode="text">
<label for="name">{name} <span class="muted">{optional}</span></label><input id="name" name="name" maxlength="64" value="{name_value}" autocomplete="name">
<label for="phone">{phone} <span class="muted">{phone_hint}</span></label><input id="phone" name="phone" maxlength="20" inputmode="tel" autocomplete="tel">
<label for="residence_area">{area} <span class="muted">{area_hint}</span></label><input id="residence_area" name="residence_area" maxlength="12" inputmode="numeric" value="{area_value}">
<label for="claim_code">{claim} <span class="muted">{claim_hint}</span></label><input id="claim_code" name="claim_code" maxlength="80" autocomplete="off" spellcheck="false">
<p><input type="checkbox" id="consent" name="consent" value="yes" required><label class="inline" for="consent">{consent}</label></p>
<button type="submit">{submit}</button></form>"#,
        id_type = ui.t("证件类型", "ID type"),
        resident_id = ui.t("居民身份证", "Resident ID card"),
        passport = ui.t("护照", "Passport"),
        id_number = ui.t("证件号码", "ID number"),
        name = ui.t("姓名", "Name"),
        optional = ui.t("（可选，只保存打码形式）", "(optional; kept masked only)"),
        name_value = kept("name"),
        phone = ui.t("手机号", "Mobile number"),
        phone_hint = ui.t(
            "（可选，加密保存，仅用于疾控联系您）",
            "(optional; kept encrypted, used only by health officers to reach you)"
        ),
        area = ui.t("常住地区代码", "Area of residence (code)"),
        area_hint = ui.t("（可选，如 330106）", "(optional, e.g. 330106)"),
        area_value = kept("residence_area"),
        claim = ui.t("认领码", "Claim code"),
        claim_hint =
            ui.t("（可选：家人代您登记过时，由其给您）", "(optional: from the family member who registered you)"),
        consent = ui.t("我已阅读并同意上述个人信息收集告知", "I have read the collection notice above and consent"),
        submit = ui.t("登记并领取健康码", "Register and get my code"),
    );
    ui.page(status, &ui.t("居民登记", "Register"), &body)
}

/// The registration form's target: registers (or finds) the resident and sends them to
/// their code. The ID number is neither kept nor echoed back into the form.
pub(crate) async fn register(
    ui: Ui,
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let ui = match ui.posted(&headers) {
        Ok(ui) => ui,
        Err(refused) => return refused,
    };
    let Ok(Form(form)) = form else {
        return register_page(ui, StatusCode::BAD_REQUEST, Some("表单无法读取".into()), &HashMap::new());
    };
    let field = |name: &str| form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let refuse = |ui: Ui, zh: &str, en: &str| {
        let message = ui.t(zh, en);
        register_page(ui, StatusCode::UNPROCESSABLE_ENTITY, Some(message), &form)
    };
    if field("consent") != Some("yes") {
        return refuse(ui, "登记前请阅读并同意收集告知", "Please read and accept the collection notice to register");
    }
    let document = match IdDocument::parse(field("id_type").unwrap_or("resident_id"), field("id_number").unwrap_or(""))
    {
        Ok(document) => document,
        Err(e) => {
            let message = e.to_string();
            return refuse(ui, &format!("证件号码有误：{message}"), &format!("The ID number is not valid: {message}"));
        }
    };
    let residence_area = match field("residence_area").map(AreaCode::parse).transpose() {
        Ok(area) => area,
        Err(m) => return refuse(ui, &format!("地区代码有误：{m}"), &format!("The area code is not valid: {m}")),
    };
    let name = match field("name").map(healthcode_domain::check_name).transpose() {
        Ok(name) => name,
        Err(_) => return refuse(ui, "姓名应为 1 至 64 个字符", "The name must be 1 to 64 characters"),
    };
    let phone = match field("phone").map(healthcode_service::check_phone).transpose() {
        Ok(phone) => phone,
        Err(_) => return refuse(ui, "手机号应为 1 开头的 11 位数字", "A mobile number is 11 digits starting with 1"),
    };
    let registration = Registration { document, residence_area, name, phone };
    match state.service.register_resident(registration, field("claim_code")).await {
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
        Err(e) => ui.internal("registering from the page", e),
    }
}

/// A person's code: now (with a fresh QR), or `?at=` as it was known then.
pub(crate) async fn code(
    ui: Ui,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: RawQuery,
) -> Response {
    let query = query_params(query).unwrap_or_default();
    let welcome = query.get("welcome").is_some_and(|v| v == "1");
    let at = match query.get("at").map(|t| parse_at(t)).transpose() {
        Ok(at) => at,
        Err(_) => {
            return ui.error(
                StatusCode::BAD_REQUEST,
                "时间格式应如 2020-06-01T08:00:00+08:00",
                "write the time like 2020-06-01T08:00:00+08:00",
            )
        }
    };
    let (id, reader) = match reader_of(&ui, &state, path, "code and its explanation").await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let explained = match at {
        Some(at) => state.service.explain_at(&id, at).await,
        None => state.service.current_code(&id).await,
    };
    let explanation = match explained {
        Ok(e) => e,
        Err(e) => return ui.internal("explaining a code", e),
    };
    let mut body = format!("<h1>{}</h1>", ui.t("我的健康码", "My health code"));
    let mut head = String::new();
    if at.is_none() {
        let (issued, svg) = match signed_qr(&ui, &state, &id).await {
            Ok(signed) => signed,
            Err(page) => return page,
        };
        // No scripts: the browser reloads the page a minute before the code expires.
        let left = (issued.expires_at.as_millis() - state.service.now().as_millis()) / 1000;
        let _ = write!(head, "<meta http-equiv=\"refresh\" content=\"{}\">", (left - 60).max(30));
        let _ = write!(
            body,
            "<div class=\"code {c}\" role=\"status\">{}<div class=\"qr\">{}</div><div>{}</div></div>",
            colour_heading(&ui, explanation.colour),
            inline_svg(&svg, &ui.t("健康码二维码", "QR code of my health code")),
            esc(if issued.masked_name.is_empty() { "—" } else { &issued.masked_name }),
            c = explanation.colour.as_str()
        );
        let _ = write!(
            body,
            "<p>{} {} · {} {}</p><p class=\"muted\">{}</p>",
            ui.t("生成于", "Issued"),
            esc(&when(issued.issued_at)),
            ui.t("有效至", "valid until"),
            esc(&when(issued.expires_at)),
            ui.t(
                "二维码每几分钟更新一次，页面会自动刷新；截图无效。",
                "The QR changes every few minutes and this page reloads itself; a screenshot will not work."
            ),
        );
    } else {
        let _ = write!(
            body,
            "<p>{} {}</p><div class=\"code {c}\" role=\"status\">{}</div>",
            ui.t("按当时已知的证据：", "As known at"),
            esc(&when(explanation.at)),
            colour_heading(&ui, explanation.colour),
            c = explanation.colour.as_str()
        );
    }
    body.push_str(&why(&ui, &explanation));
    let pid = esc(id.as_str());
    let _ = write!(
        body,
        "<p>{}: <code>{pid}</code></p><p class=\"noprint\"><a href=\"/persons/{pid}/history\">{}</a> · <a href=\"/persons/{pid}/card\">{}</a> · <a href=\"/scan?person={pid}\">{}</a> · <a href=\"/persons/{pid}/accesses\">{}</a> · <a href=\"/persons/{pid}/complaints\">{}</a></p>",
        ui.t("编号", "Person id"),
        ui.t("我的记录", "My history"),
        ui.t("打印健康码卡片", "Printable code card"),
        ui.t("扫场所码登记", "Check in at a venue"),
        ui.t("谁查看了我的信息", "Who accessed my data"),
        ui.t("申诉", "Complaints"),
    );
    match reader {
        Reader::Person(_) => {
            if welcome {
                body.push_str(&welcome_note(&ui));
            }
            match super::family::section(&ui, &state, &id).await {
                Ok(section) => body.push_str(&section),
                Err(page) => return page,
            }
            match super::rights::consent_section(&ui, &state, &id).await {
                Ok(section) => body.push_str(&section),
                Err(page) => return page,
            }
        }
        _ => {
            let _ = write!(
                body,
                "<p class=\"muted\">{}</p>",
                ui.t(
                    "您以家人代管身份查看；本次查看已记入其访问记录。",
                    "You are viewing as a family proxy; this view is in their access log."
                )
            );
        }
    }
    ui.frame(StatusCode::OK, &ui.t("我的健康码", "My health code"), &body, &head)
}

/// The colour in words (the block's colour is never the only signal): in Chinese with the
/// English word beside it, which many verifiers read; in English once.
fn colour_heading(ui: &Ui, colour: healthcode_domain::Colour) -> String {
    if ui.en() {
        ui.colour(colour)
    } else {
        format!("{} <span lang=\"en\">{}</span>", ui.colour(colour), colour.as_str())
    }
}

/// The QR as inline SVG (no image request: `img-src` is 'none'), labelled for screen readers.
pub(crate) fn inline_svg(svg: &str, label: &str) -> String {
    let start = svg.find("<svg").unwrap_or(0);
    svg[start..].replacen("<svg", &format!("<svg role=\"img\" aria-label=\"{label}\""), 1)
}

/// Why this colour, in plain words, and what will turn it green.
fn why(ui: &Ui, e: &Explanation) -> String {
    let mut out = format!("<h2>{}</h2>", ui.t("为什么是这个颜色", "Why this colour"));
    if e.reasons.is_empty() {
        let _ = write!(out, "<p>{}</p>", ui.t("没有任何规则适用：绿码。", "No rule holds: the code is green."));
    } else {
        out.push_str("<ul>");
        for r in &e.reasons {
            let colour = match r.colour {
                RuleColour::Red => ui.t("红码规则", "red rule"),
                RuleColour::Yellow => ui.t("黄码规则", "yellow rule"),
            };
            let _ =
                write!(out, "<li><strong>{} {}</strong> ({colour})<ul>", esc(&r.rule), ui.t(&r.title.zh, &r.title.en));
            for ev in &r.evidence {
                let (zh, en) = evidence_name(&ev.kind);
                let _ = write!(
                    out,
                    "<li>{} · {} {} {}</li>",
                    ui.t(zh, en),
                    ui.t("记录于", "recorded"),
                    esc(&when(ev.recorded_at)),
                    esc(&details(&ev.details))
                );
            }
            let (zh, en) = what_clears(&r.rule);
            let _ = write!(out, "</ul><p>{} {}</p></li>", ui.t("怎样变回：", "What changes it:"), ui.t(zh, en));
        }
        out.push_str("</ul>");
    }
    let _ = write!(out, "<h2>{}</h2>", ui.t("什么时候变绿", "What will turn it green"));
    match (e.reasons.is_empty(), e.next_change) {
        (true, _) => {
            let _ = write!(out, "<p>{}</p>", ui.t("已经是绿码。", "It is green already."));
        }
        (false, Some(t)) => {
            let _ = write!(
                out,
                "<p>{} <strong>{}</strong>{}</p>",
                ui.t("若没有新的证据，健康码将在", "If nothing new is recorded, the code changes at"),
                esc(&when(t)),
                ui.t(" 重新计算颜色。", "."),
            );
        }
        (false, None) => {
            let _ = write!(
                out,
                "<p>{}</p>",
                ui.t(
                    "时间推移不会改变它：需要上面所说的新证据。",
                    "Time alone will not change it: it needs the new evidence described above."
                )
            );
        }
    }
    let _ = write!(
        out,
        "<p class=\"muted\">{}: {} {} <code>{}</code></p>",
        ui.t("规则", "Rules"),
        esc(&e.rules.name),
        esc(&e.rules.version),
        esc(&e.rules.digest)
    );
    out
}

/// What clears each reference rule, in plain words (REFERENCE-RULES.md).
fn what_clears(rule: &str) -> (&'static str, &'static str) {
    match rule {
        "R1" => ("只有“排除”或“出院”的诊断才能解除；阴性检测不能解除。", "Only a diagnosis of “excluded” or “discharged” clears it; negative tests do not."),
        "R2" => ("解除隔离或疾控解除密接后变回。", "It ends when you are released from quarantine or the contact is cleared."),
        "R3" => ("入境满 14 天后自动解除。", "It ends 14 days after your entry."),
        "R4" => ("解除隔离后变回。", "It ends when you are released from quarantine."),
        "R5" | "Y3" => ("管理决定到期后解除。", "It ends when the management decision expires."),
        "R6" => ("离开该地区满 14 天后解除。", "It ends 14 days after your stay there."),
        "Y1" => (
            "发热后采样的核酸检测阴性可解除；没有流行病学史的，退热后也可解除。",
            "A negative test sampled after the fever began clears it; without epidemiological history, so does the fever ending.",
        ),
        "Y2" => (
            "离开该地区后采样的核酸检测阴性可解除，或停留结束满 14 天。",
            "A negative test sampled after you left the area clears it, or 14 days after the stay.",
        ),
        _ => ("依据该规则的条件。", "As that rule says."),
    }
}

pub(crate) fn evidence_name(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "fever" => ("发热", "fever"),
        "fever_resolved" => ("退热", "fever resolved"),
        "test" => ("核酸检测", "test"),
        "diagnosis" => ("诊断", "diagnosis"),
        "close_contact" => ("密切接触", "close contact"),
        "contact_cleared" => ("解除密接", "contact cleared"),
        "entry" => ("入境", "entry from abroad"),
        "stay" => ("停留", "stay"),
        "quarantine_order" => ("隔离", "quarantine order"),
        "quarantine_release" => ("解除隔离", "quarantine release"),
        "management_decision" => ("管理决定", "management decision"),
        "area_risk" => ("风险地区", "area risk"),
        _ => ("证据", "evidence"),
    }
}

/// An event's own fields (dates, area, result …) as `key: value` text.
fn details(value: &serde_json::Value) -> String {
    match value.as_object() {
        Some(o) if !o.is_empty() => {
            let parts: Vec<String> = o
                .iter()
                .map(|(k, v)| format!("{k}: {}", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
                .collect();
            format!("({})", parts.join(", "))
        }
        _ => String::new(),
    }
}

/// The person's own entries in the transparency log.
pub(crate) async fn history(
    ui: Ui,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let id = match reader_of(&ui, &state, path, "history of colour changes").await {
        Ok((id, _)) => id,
        Err(page) => return page,
    };
    let log = match state.service.person_log(&id).await {
        Ok(log) => log,
        Err(e) => return ui.internal("reading a person's log", e),
    };
    let pid = esc(id.as_str());
    let mut body = format!(
        "<h1>{}</h1><p>{}</p>",
        ui.t("我的记录", "My history"),
        ui.t(
            "每次颜色变化都写入公开的透明日志（日志中只有加盐承诺，没有您的身份）。以下是您的条目。",
            "Every colour change is written to the public transparency log (which holds a salted commitment, not your identity). These are your entries."
        )
    );
    if log.entries.is_empty() {
        let _ = write!(
            body,
            "<p>{}</p>",
            ui.t("还没有条目：一直是绿码。", "No entries yet: the code has always been green.")
        );
    } else {
        let _ = write!(
            body,
            "<div class=\"scroll\"><table><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr>",
            ui.t("时间", "Time"),
            ui.t("变化", "Change"),
            ui.t("规则", "Rules"),
            ui.t("日志序号", "Log index"),
        );
        for item in log.entries.iter().rev() {
            let Entry::ColourChange(change) = &item.entry else { continue };
            let colour = |c: &str| healthcode_domain::Colour::parse(c).map(|c| ui.colour(c)).unwrap_or_else(|| esc(c));
            let from = change.old_colour.as_deref().map(colour).unwrap_or_else(|| ui.t("首次赋码", "first code"));
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{from} → {}</td><td>{}</td><td>{}</td></tr>",
                esc(&when(Timestamp::from_millis(change.at))),
                colour(&change.new_colour),
                esc(&change.rules.join(", ")),
                item.index
            );
        }
        body.push_str("</table></div>");
    }
    let _ = write!(
        body,
        "<p class=\"muted\">{} <a href=\"/v1/persons/{pid}/log\">/v1/persons/{pid}/log</a></p><p><a href=\"/persons/{pid}\">{}</a></p>",
        ui.t("含包含证明的机器可读版本：", "Machine-readable, with inclusion proofs:"),
        ui.t("返回我的健康码", "Back to my code"),
    );
    ui.page(StatusCode::OK, &ui.t("我的记录", "My history"), &body)
}

/// A freshly signed code for the person and its QR as inline SVG.
async fn signed_qr(
    ui: &Ui,
    state: &AppState,
    id: &PersonId,
) -> Result<(healthcode_service::IssuedCode, String), Response> {
    let issued = state.service.issue_code_token(id).await.map_err(|e| ui.internal("issuing a code", e))?;
    let svg = healthcode_token::qr::svg(&issued.token).map_err(|e| ui.internal("drawing a QR", e))?;
    Ok((issued, svg))
}

/// A card to print: the code as it is now, its colour, masked name and validity.
pub(crate) async fn card(ui: Ui, State(state): State<AppState>, path: Result<Path<String>, PathRejection>) -> Response {
    let id = match reader_of(&ui, &state, path, "printable code card").await {
        Ok((id, _)) => id,
        Err(page) => return page,
    };
    let (issued, svg) = match signed_qr(&ui, &state, &id).await {
        Ok(signed) => signed,
        Err(page) => return page,
    };
    let body = format!(
        "<h1>{}</h1><div class=\"code {c}\">{}<div class=\"qr\">{}</div><div>{}</div></div><p>{} {} · {} {}</p><p class=\"muted\">{}</p><p class=\"noprint\"><a href=\"/persons/{}\">{}</a></p>",
        ui.t("健康码卡片", "Health code card"),
        ui.colour(issued.colour),
        inline_svg(&svg, &ui.t("健康码二维码", "QR code")),
        esc(if issued.masked_name.is_empty() { "—" } else { &issued.masked_name }),
        ui.t("生成于", "Issued"),
        esc(&when(issued.issued_at)),
        ui.t("有效至", "valid until"),
        esc(&when(issued.expires_at)),
        ui.t(
            "打印的二维码只在有效期内可用；没有手机的居民可在卡口出示身份证。",
            "A printed QR works only until it expires; residents without a phone can show their ID card at gates."
        ),
        esc(id.as_str()),
        ui.t("返回我的健康码", "Back to my code"),
        c = issued.colour.as_str(),
    );
    ui.page(StatusCode::OK, &ui.t("健康码卡片", "Health code card"), &body)
}

/// Shown once after registration: the key this browser now holds, for other devices.
fn welcome_note(ui: &Ui) -> String {
    let key = ui.cookie(super::signin::RESIDENT_COOKIE).unwrap_or_default();
    format!(
        "<section class=\"notice\" aria-labelledby=\"key-title\"><h2 id=\"key-title\">{}</h2><p>{}</p><p><code>{}</code></p></section>",
        ui.t("您的居民密钥", "Your resident key"),
        ui.t(
            "本浏览器已记住它。请抄下并妥善保管：在其他设备上登录、或让家人代管时需要它。它只显示这一次。",
            "This browser remembers it. Write it down and keep it safe: you need it to sign in on another device or to let a family member act for you. It is shown only this once."
        ),
        esc(key),
    )
}
