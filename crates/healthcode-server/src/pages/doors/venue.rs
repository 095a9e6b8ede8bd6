//! A venue's pages: registration, the operator's page (today's check-ins), the full-screen
//! rotating venue code, and the scan page where a resident checks in.
//!
//! The operator key lives in an HttpOnly, SameSite=Strict cookie whose `Path` is the
//! venue's own pages (`/venues/{id}`): other venues' pages and the rest of the site never
//! receive it, and no script can read it.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use healthcode_domain::{AccessOutcome, AreaCode, PersonId, VenueCategory};
use healthcode_service::{DoorDecision, NewVenue, ServiceError};
use healthcode_store::VenueRecord;

use crate::pages::extract::{Fields, PageId, PageQuery, Posted};
use crate::pages::layout::{see_other, when, Ui};
use crate::pages::markup::{html, Markup};
use crate::pages::places::AreaPicker;
use crate::AppState;

const KEY_COOKIE: &str = "operator_key";

/// A venue id as we issue them (`v` + hex): safe in a path and a cookie as is.
fn venue_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn key_cookie(venue: &str, key: &str) -> HeaderValue {
    // Keys are `hcv_` + URL-safe characters: valid in a cookie value.
    HeaderValue::from_str(&format!("{KEY_COOKIE}={key}; Path=/venues/{venue}; HttpOnly; SameSite=Strict"))
        .unwrap_or_else(|_| HeaderValue::from_static("operator_key=; Max-Age=0"))
}

pub(crate) fn category_name(ui: &Ui, category: VenueCategory) -> &'static str {
    let (zh, en) = category.title();
    ui.t(zh, en)
}

/// Every category as `<option>`s, `chosen` selected.
pub(crate) fn category_options(ui: &Ui, chosen: VenueCategory) -> Markup {
    VenueCategory::ALL
        .iter()
        .map(|category| {
            html!(
                "<option value=\"{value}\"{selected}>{name}</option>",
                value = category.as_str(),
                selected = Markup::literal(if *category == chosen { " selected" } else { "" }),
                name = category_name(ui, *category),
            )
        })
        .collect()
}

pub(crate) async fn register_form(ui: Ui) -> Response {
    register_page(ui.with_form(), StatusCode::OK, None, &Fields::new())
}

fn register_page(ui: Ui, status: StatusCode, problem: Option<&str>, kept: &Fields) -> Response {
    let mut body = html!("<h1>{title}</h1>", title = ui.t("场所登记", "Register a venue"));
    if let Some(problem) = problem {
        body.push(html!("<p role=\"alert\" class=\"notice\"><strong>{problem}</strong></p>", problem = problem));
    }
    body.push(html!(
        r#"<form method="post" action="/venues/new">
<label for="name">{name}</label><input id="name" name="name" required maxlength="64" value="{name_value}">
<label for="category">{category}</label><select id="category" name="category">{options}</select>
{area_picker}
<button type="submit" id="venue-submit">{submit}</button></form><p class="muted">{note}</p>"#,
        name = ui.t("场所名称", "Venue name"),
        category = ui.t("场所类别（决定各色码的管理措施）", "Category (decides the measures for each colour)"),
        name_value = kept.get("name").map(String::as_str).unwrap_or(""),
        options = category_options(
            &ui,
            kept.get("category").and_then(|c| VenueCategory::parse(c).ok()).unwrap_or(VenueCategory::General)
        ),
        area_picker = AreaPicker::new("area", kept).render(
            &ui,
            ui.t("所在地区（可选）", "Area (optional)"),
            false,
            Markup::new()
        ),
        submit = ui.t("登记场所", "Register the venue"),
        note = ui.t(
            "登记后会显示一次管理密钥，并保存在本浏览器中（仅限本场所页面）。",
            "After registering, the operator key is shown once and kept in this browser (for this venue's pages only)."
        ),
    ));
    ui.page(status, ui.t("场所登记", "Register a venue"), body)
}

pub(crate) async fn register(State(state): State<AppState>, Posted { ui, form }: Posted) -> Response {
    if AreaPicker::acted("area", &form) {
        return register_page(ui, StatusCode::OK, None, &form);
    }
    let field = |name: &str| form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let Ok(category) = VenueCategory::parse(field("category").unwrap_or("")) else {
        let m = ui.t("请选择场所类别", "Choose a category");
        return register_page(ui, StatusCode::UNPROCESSABLE_ENTITY, Some(m), &form);
    };
    let area = match field("area").map(AreaCode::parse).transpose() {
        Ok(area) => area,
        Err(e) => {
            let (zh, en) = (format!("地区代码有误：{e}"), format!("The area code is not valid: {e}"));
            let m = ui.t(&zh, &en).to_string();
            return register_page(ui, StatusCode::UNPROCESSABLE_ENTITY, Some(&m), &form);
        }
    };
    let name = field("name").unwrap_or("").to_string();
    match state.service.venues().register(NewVenue { name, category, area }).await {
        Ok(registered) => {
            let id = &registered.venue.id;
            let mut response = see_other(&format!("/venues/{id}?new=1"));
            response.headers_mut().append(header::SET_COOKIE, key_cookie(id, &registered.operator_key));
            response
        }
        Err(ServiceError::Invalid(_)) => {
            let m = ui.t("场所名称应为 1 至 64 个字符", "The name must be 1 to 64 characters");
            register_page(ui, StatusCode::UNPROCESSABLE_ENTITY, Some(m), &form)
        }
        Err(e @ ServiceError::UnknownArea { .. }) => {
            let m = e.to_string();
            register_page(ui, StatusCode::UNPROCESSABLE_ENTITY, Some(&m), &form)
        }
        Err(e) => ui.internal("registering a venue from the page", e),
    }
}

/// The venue named in the path, if the visitor's cookie holds its operator key.
async fn operated(ui: &Ui, state: &AppState, id: &str) -> Result<Option<VenueRecord>, Response> {
    let Some(key) = ui.cookie(KEY_COOKIE) else { return Ok(None) };
    match state.service.venues().venue_for_operator(id, key).await {
        Ok(venue) => Ok(Some(venue)),
        Err(ServiceError::Unauthorised(_)) => Ok(None),
        Err(e) => Err(ui.internal("checking an operator key", e)),
    }
}

async fn public(ui: &Ui, state: &AppState, id: &str) -> Result<VenueRecord, Response> {
    if !venue_id(id) {
        return Err(ui.error(StatusCode::NOT_FOUND, "没有这个场所", "no such venue"));
    }
    match state.service.venues().venue(id).await {
        Ok(venue) => Ok(venue),
        Err(ServiceError::UnknownVenue(_)) => Err(ui.error(StatusCode::NOT_FOUND, "没有这个场所", "no such venue")),
        Err(e) => Err(ui.internal("reading a venue", e)),
    }
}

/// The operator's page: today's check-ins and the display, or the form for the key.
pub(crate) async fn venue(
    ui: Ui,
    State(state): State<AppState>,
    PageId(id): PageId,
    query: PageQuery,
) -> Result<Response, Response> {
    let ui = ui.with_form();
    let venue = public(&ui, &state, &id).await?;
    let operated = operated(&ui, &state, &venue.id).await?;
    let mut body = html!(
        "<h1>{name}</h1><p>{category} · <code>{id}</code></p>",
        name = venue.name,
        category = category_name(&ui, venue.category),
        id = venue.id,
    );
    if operated.is_none() {
        body.push(html!(
            r#"<form method="post" action="/venues/{id}/key"><label for="key">{label}</label><input id="key" name="key" required autocomplete="off" maxlength="128"><button type="submit">{save}</button></form>"#,
            id = venue.id,
            label = ui.t(
                "输入管理密钥以展示场所码和查看今日登记",
                "Enter the operator key to display the venue code and see today's check-ins"
            ),
            save = ui.t("保存密钥", "Save the key"),
        ));
        return Ok(ui.page(StatusCode::OK, &venue.name, body));
    }
    if query.get("new").is_some() {
        if let Some(key) = ui.cookie(KEY_COOKIE) {
            body.push(html!(
                "<div class=\"notice\" role=\"status\"><p>{note}</p><p><code id=\"operator-key\">{key}</code></p></div>",
                note = ui.t(
                    "场所已登记。请抄下管理密钥：只显示这一次。",
                    "The venue is registered. Write down the operator key: it is shown this once."
                ),
                key = key,
            ));
        }
    }
    let (from, to) = crate::api::doors::today(state.service.now());
    let counts = state
        .service
        .venues()
        .checkin_counts(&venue.id, from, to)
        .await
        .map_err(|e| ui.internal("counting check-ins", e))?;
    let count = |o: AccessOutcome| counts.iter().find(|(c, _)| *c == o).map_or(0, |(_, n)| *n);
    body.push(html!(
        "<h2>{today}</h2><table id=\"today\"><tr><th scope=\"row\">{allowed}</th><td data-outcome=\"allow\">{allow}</td></tr><tr><th scope=\"row\">{masked}</th><td data-outcome=\"allow_with_mask\">{mask}</td></tr><tr><th scope=\"row\">{denied}</th><td data-outcome=\"deny\">{deny}</td></tr></table>",
        today = ui.t("今日登记", "Today's check-ins"),
        allowed = ui.t("通行", "Allowed"),
        allow = count(AccessOutcome::Allow),
        masked = ui.t("戴口罩通行", "Allowed with a mask"),
        mask = count(AccessOutcome::AllowWithMask),
        denied = ui.t("劝阻", "Denied"),
        deny = count(AccessOutcome::Deny),
    ));
    body.push(html!(
        "<p><a href=\"/venues/{id}/display\">{display}</a></p>",
        id = venue.id,
        display = ui.t("全屏展示场所码", "Show the venue code full screen"),
    ));
    Ok(ui.page(StatusCode::OK, &venue.name, body))
}

/// The key form's target: keeps a correct key in the venue's cookie.
pub(crate) async fn save_key(
    State(state): State<AppState>,
    PageId(id): PageId,
    Posted { ui, form }: Posted,
) -> Result<Response, Response> {
    let venue = public(&ui, &state, &id).await?;
    let key = form.get("key").map(|k| k.trim().to_string()).unwrap_or_default();
    Ok(match state.service.venues().venue_for_operator(&venue.id, &key).await {
        Ok(_) => {
            let mut response = see_other(&format!("/venues/{}", venue.id));
            response.headers_mut().append(header::SET_COOKIE, key_cookie(&venue.id, &key));
            response
        }
        Err(ServiceError::Unauthorised(_)) => {
            ui.error(StatusCode::UNAUTHORIZED, "这不是本场所的管理密钥", "this is not the operator key of this venue")
        }
        Err(e) => ui.internal("checking an operator key", e),
    })
}

/// The venue code, full screen, reloaded when its window ends.
pub(crate) async fn display(ui: Ui, State(state): State<AppState>, PageId(id): PageId) -> Result<Response, Response> {
    let venue = public(&ui, &state, &id).await?;
    if operated(&ui, &state, &venue.id).await?.is_none() {
        return Err(ui.error(
            StatusCode::UNAUTHORIZED,
            "请先在场所页面输入管理密钥",
            "enter the operator key on the venue's page first",
        ));
    }
    let issued =
        state.service.tokens().issue_venue_token(&venue).map_err(|e| ui.internal("issuing a venue code", e))?;
    let svg = healthcode_token::qr::svg(&issued.token).map_err(|e| ui.internal("drawing a QR", e))?;
    let left = (issued.window_end.as_millis() - state.service.now().as_millis()).div_euclid(1000);
    let head = html!("<meta http-equiv=\"refresh\" content=\"{seconds}\">", seconds = left.clamp(1, 60) + 1);
    let body = html!(
        "<div class=\"big\"><h1>{name}</h1><p>{category} · {scan}</p><div class=\"qr\">{qr}</div><p>{until} {window_end}</p><details><summary>{copy}</summary><code id=\"venue-token\">{token}</code></details><p><a href=\"/venues/{id}\">{back}</a></p></div>",
        name = venue.name,
        category = category_name(&ui, venue.category),
        scan = ui.t("请扫码登记", "Scan to check in"),
        qr = Markup::qr_svg(&svg, ui.t("场所码", "Venue code")),
        until = ui.t("本码有效至", "This code is valid until"),
        window_end = when(issued.window_end),
        copy = ui.t("无法扫码？复制场所码文本", "Cannot scan? Copy the venue code as text"),
        token = issued.token,
        id = venue.id,
        back = ui.t("返回场所页面", "Back to the venue's page"),
    );
    Ok(ui.frame(StatusCode::OK, &venue.name, body, head))
}

/// The scan form, for the signed-in resident or, with `?person=`, a family member they
/// act for.
pub(crate) async fn scan_form(ui: Ui, State(state): State<AppState>, query: PageQuery) -> Response {
    let signed_in = crate::pages::residents::signin::signed_in(&ui, &state).await;
    let person = match query.get("person") {
        Some(person) => person.to_string(),
        None => signed_in.as_ref().map(|p| p.to_string()).unwrap_or_default(),
    };
    // The family members the signed-in resident acts for may come along (同行).
    let family = match &signed_in {
        Some(me) => match state.service.residents().family(me).await {
            Ok(family) => family.dependants.into_iter().map(|l| (l.dependant, l.relation)).collect(),
            Err(e) => return ui.internal("reading a family", e),
        },
        None => Vec::new(),
    };
    scan_page(ui.with_form(), StatusCode::OK, &person, &family, Markup::new())
}

/// The form field that brings a family member along: `companion-<person id>`.
const COMPANION_FIELD: &str = "companion-";

fn scan_page(ui: Ui, status: StatusCode, person: &str, family: &[(PersonId, String)], result: Markup) -> Response {
    let mut companions = Markup::new();
    if !family.is_empty() {
        companions.push(html!(
            "<fieldset><legend>{legend}</legend>",
            legend = ui.t("同行的家人（一次扫码一起登记）", "Family members with me (checked in with one scan)")
        ));
        for (member, relation) in family {
            companions.push(html!(
                "<p><input type=\"checkbox\" id=\"{field}{id}\" name=\"{field}{id}\" value=\"yes\"><label class=\"inline\" for=\"{field}{id}\">{relation} <code>{id}</code></label></p>",
                field = COMPANION_FIELD,
                id = member.as_str(),
                relation = relation,
            ));
        }
        companions.push_literal("</fieldset>");
    }
    let body = html!(
        r#"<h1>{title}</h1>{result}<form method="post" action="/scan"><label for="person_id">{person_label}</label><input id="person_id" name="person_id" required maxlength="64" autocomplete="off" value="{person}">
<label for="venue_code">{code_label}</label><textarea id="venue_code" name="venue_code" rows="3" required></textarea>
{companions}<button type="submit">{submit}</button></form>"#,
        title = ui.t("扫场所码登记", "Check in at a venue"),
        result = result,
        companions = companions,
        person_label = ui.t("我的编号", "My person id"),
        person = person,
        code_label =
            ui.t("场所码（扫描或粘贴 HV1: 开头的文本）", "Venue code (scanned, or pasted text starting with HV1:)"),
        submit = ui.t("登记", "Check in"),
    );
    ui.page(status, ui.t("扫码登记", "Check in"), body)
}

/// A refusal at the scan form: the deny box with `why` and a code or nothing.
fn scan_refused(why: &str, code: &'static str) -> Markup {
    decision_box("deny", Markup::text(why), Markup::text(code))
}

/// The scan form's target. The decision is the answer (a 200 page, not a redirect): the
/// check-in is recorded once, and a resubmitted venue code is refused as soon as its
/// 60-second window is over.
pub(crate) async fn scan(State(state): State<AppState>, Posted { ui, form }: Posted) -> Response {
    let person_text = form.get("person_id").map(|p| p.trim().to_string()).unwrap_or_default();
    let code = form.get("venue_code").map(|c| c.trim().to_string()).unwrap_or_default();
    let Ok(person) = PersonId::parse(&person_text) else {
        let r = scan_refused(ui.t("编号无效", "Not a valid person id"), "");
        return scan_page(ui, StatusCode::UNPROCESSABLE_ENTITY, &person_text, &[], r);
    };
    let mut persons = vec![person];
    let mut ticked: Vec<&String> = form.keys().filter(|k| k.starts_with(COMPANION_FIELD)).collect();
    ticked.sort();
    for field in ticked {
        match PersonId::parse(&field[COMPANION_FIELD.len()..]) {
            Ok(companion) if !persons.contains(&companion) => persons.push(companion),
            Ok(_) => {}
            Err(_) => {
                let r = scan_refused(ui.t("同行人编号无效", "Not a valid companion id"), "");
                return scan_page(ui, StatusCode::UNPROCESSABLE_ENTITY, &person_text, &[], r);
            }
        }
    }
    // Only the person, or someone who acts for them, checks them in: a check-in is
    // evidence for contact tracing and must not be forged for others.
    let key = ui.cookie(crate::pages::residents::signin::RESIDENT_COOKIE).unwrap_or_default().to_string();
    for person in &persons {
        match state.service.residents().reader_for_resident(&key, person).await {
            Ok(reader) => {
                if let Err(e) = state.service.residents().record_access(person, &reader, "check-in").await {
                    return ui.internal("recording an access", e);
                }
            }
            Err(ServiceError::Unauthorised(_) | ServiceError::Forbidden(_)) => {
                let why = ui.t(
                    "请先登录（/signin）；只能为自己或代管的家人登记。",
                    "Sign in first (/signin); you can check in only yourself or family members you act for.",
                );
                let r = scan_refused(why, "");
                return scan_page(ui, StatusCode::FORBIDDEN, &person_text, &[], r);
            }
            Err(e) => return ui.internal("checking a resident's key", e),
        }
    }
    let (status, result) = match state.service.doors().check_in_together(&persons, &code).await {
        Ok(decisions) => {
            let mut shown = Markup::new();
            for (who, d) in persons.iter().zip(&decisions) {
                // The decision names the venue by id; people know it by its name. Another
                // region's venue is known here by its id and region only.
                let name = match &d.venue_region {
                    Some(region) => format!("{} ({} {region})", d.venue, ui.t("外地场所，地区", "a venue of region")),
                    None => match state.service.venues().venue(&d.venue).await {
                        Ok(venue) => venue.name,
                        Err(_) => d.venue.clone(),
                    },
                };
                if decisions.len() > 1 {
                    shown.push(html!("<p><code>{who}</code></p>", who = who.as_str()));
                }
                shown.push(door_decision(&ui, d, &name));
            }
            (StatusCode::OK, shown)
        }
        Err(ServiceError::Invalid(e)) => (StatusCode::UNPROCESSABLE_ENTITY, scan_refused(&e.message, "")),
        Err(ServiceError::Token(refused)) => {
            let why = match refused.code() {
                "replayed" => ui.t(
                    "场所码已过期（旧照片或转发的码），请重新扫描现场的码",
                    "This venue code is over (an old or forwarded picture): scan the one on site",
                ),
                "trust_list_expired" => ui.t(
                    "暂时无法核验外地场所码（国家平台数据过旧），请向场所出示本人健康码",
                    "Another region's venue code cannot be checked now (national data too old): show your code to the staff",
                ),
                _ => ui.t("这不是有效的场所码", "This is not a valid venue code"),
            };
            (StatusCode::UNPROCESSABLE_ENTITY, scan_refused(why, refused.code()))
        }
        Err(ServiceError::UnknownPerson(_)) => {
            (StatusCode::NOT_FOUND, scan_refused(ui.t("没有此人的登记", "No person is registered with this id"), ""))
        }
        Err(ServiceError::UnknownVenue(_)) => {
            (StatusCode::NOT_FOUND, scan_refused(ui.t("没有这个场所", "No such venue"), ""))
        }
        Err(e) => return ui.internal("checking in from the page", e),
    };
    scan_page(ui, status, &person_text, &[], result)
}

pub(crate) fn outcome_words(ui: &Ui, outcome: AccessOutcome) -> (&'static str, &'static str) {
    match outcome {
        AccessOutcome::Allow => ("allow", ui.t("通行", "Allowed")),
        AccessOutcome::AllowWithMask => ("allow_with_mask", ui.t("戴口罩通行", "Allowed with a mask")),
        AccessOutcome::Deny => ("deny", ui.t("劝阻", "Denied")),
    }
}

fn door_decision(ui: &Ui, d: &DoorDecision, venue_name: &str) -> Markup {
    let (class, words) = outcome_words(ui, d.decision.outcome);
    let (zh, en) = d.decision.reason.message();
    let detail = html!(
        "{reason} · {colour} · {venue} · {category}<br><code>{code}</code>",
        reason = ui.t(zh, en),
        colour = ui.colour(d.colour),
        venue = venue_name,
        category = category_name(ui, d.category),
        code = d.decision.reason.code(),
    );
    decision_box(class, Markup::text(words), detail)
}

/// A large, colour-coded decision: `class` is `allow`, `allow_with_mask` or `deny`; the words
/// say it too (colour is never the only signal).
pub(crate) fn decision_box(class: &'static str, words: Markup, detail: Markup) -> Markup {
    html!(
        "<div class=\"decision {class}\" role=\"status\" data-outcome=\"{class}\"><strong>{words}</strong><p>{detail}</p></div>",
        class = class,
        words = words,
        detail = detail,
    )
}
