//! A resident's sign-in: the key given at registration lives in an `HttpOnly` cookie, so
//! the pages of a person open only for that person and those who act for them. Sign in
//! on another device by pasting the key; sign out forgets it. On the demo region, a
//! visitor may sign in as a sample resident.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use healthcode_domain::{Colour, PersonId};
use healthcode_service::{Reader, ServiceError};

use crate::pages::extract::Posted;
use crate::pages::layout::{see_other, Ui};
use crate::pages::markup::html;
use crate::AppState;

/// The cookie that holds a resident's key.
pub(crate) const RESIDENT_COOKIE: &str = "hc_resident";

/// A redirect that also stores (or, with `None`, forgets) the resident's key.
pub(crate) fn see_other_with_key(location: &str, key: Option<&str>) -> Response {
    let mut response = see_other(location);
    let cookie = match key {
        Some(key) => format!("{RESIDENT_COOKIE}={key}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict"),
        None => format!("{RESIDENT_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"),
    };
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The signed-in resident, if any.
pub(crate) async fn signed_in(ui: &Ui, state: &AppState) -> Option<PersonId> {
    let key = ui.cookie(RESIDENT_COOKIE)?;
    state.service.residents().resident(key).await.ok()
}

/// The reader of `id`'s pages: the signed-in resident if they are the person or act for
/// them (a proxy's read goes into the person's access log, as `what`). `Err` is the
/// answer to give instead: the sign-in page, or a 403 page.
pub(crate) async fn reader_of(ui: &Ui, state: &AppState, id: &PersonId, what: &str) -> Result<Reader, Response> {
    let Some(key) = ui.cookie(RESIDENT_COOKIE) else {
        return Err(see_other("/signin"));
    };
    let reader = match state.service.residents().reader_for_resident(key, id).await {
        Ok(reader) => reader,
        // A key replaced at a counter: forget it and ask for the new one.
        Err(ServiceError::Unauthorised(_)) => return Err(see_other_with_key("/signin", None)),
        Err(ServiceError::Forbidden(_)) => {
            return Err(ui.error(
                StatusCode::FORBIDDEN,
                "您不能查看此人的健康码：只有本人和其代管人可以。",
                "You cannot see this person's code: only they and those who act for them can.",
            ))
        }
        Err(e) => return Err(ui.internal("checking a resident's key", e)),
    };
    if let Err(e) = state.service.residents().record_access(id, &reader, what).await {
        return Err(ui.internal("recording an access", e));
    }
    Ok(reader)
}

fn signin_page(ui: Ui, status: StatusCode, problem: Option<&str>) -> Response {
    let mut body = html!("<h1>{title}</h1>", title = ui.t("居民登录", "Resident sign-in"));
    if let Some(problem) = problem {
        body.push(html!("<p role=\"alert\" class=\"notice\"><strong>{problem}</strong></p>", problem = problem));
    }
    body.push(html!(
        r#"<p>{intro}</p><form method="post" action="/signin"><label for="key">{label}</label>
<input id="key" name="key" required maxlength="80" autocomplete="off" spellcheck="false"> <button type="submit">{submit}</button></form>
<p>{new} <a href="/register">{register}</a></p><p class="muted">{lost}</p>"#,
        intro = ui.t(
            "登记时您得到一个居民密钥（以 hcr_ 开头），本浏览器会记住它。换设备时在此粘贴。",
            "At registration you were given a resident key (starting hcr_), which this browser remembers. Paste it here on another device."
        ),
        label = ui.t("居民密钥", "Resident key"),
        submit = ui.t("登录", "Sign in"),
        new = ui.t("还没有登记？", "Not registered yet?"),
        register = ui.t("居民登记", "Register"),
        lost = ui.t(
            "密钥丢失时，请携带证件到社区服务点补发；补发后旧密钥失效。",
            "Lost your key? A community service point replaces it after checking your papers; the old key then stops working."
        ),
    ));
    let ui = ui.with_form();
    ui.page(status, ui.t("居民登录", "Sign in"), body)
}

pub(crate) async fn signin_form(ui: Ui) -> Response {
    signin_page(ui, StatusCode::OK, None)
}

pub(crate) async fn signin(State(state): State<AppState>, Posted { ui, form }: Posted) -> Response {
    let key = form.get("key").map(|k| k.trim().to_string()).unwrap_or_default();
    match state.service.residents().resident(&key).await {
        Ok(person) => see_other_with_key(&format!("/persons/{person}"), Some(&key)),
        Err(ServiceError::Unauthorised(_)) => {
            let problem = ui.t("没有这个密钥。请检查后重试。", "No such key. Please check it and try again.");
            signin_page(ui, StatusCode::UNAUTHORIZED, Some(problem))
        }
        Err(e) => ui.internal("signing a resident in", e),
    }
}

pub(crate) async fn signout(_: Posted) -> Response {
    see_other_with_key("/", None)
}

/// My code: the signed-in resident's own page, or the sign-in form.
pub(crate) async fn me(ui: Ui, State(state): State<AppState>) -> Response {
    match signed_in(&ui, &state).await {
        Some(person) => see_other(&format!("/persons/{person}")),
        None => see_other("/signin"),
    }
}

/// The demo region's sample residents of every colour, each with a button to sign in as
/// them. Only when the server runs with `--demo`.
pub(crate) async fn demo(ui: Ui, State(state): State<AppState>) -> Response {
    if !state.demo {
        return ui.error(
            StatusCode::NOT_FOUND,
            "示例居民只在演示模式（healthcode serve --demo）下提供",
            "Sample residents exist only on the demo region (healthcode serve --demo)",
        );
    }
    let ui = ui.with_form();
    let mut body = html!(
        "<h1>{title}</h1><p>{intro}</p>",
        title = ui.t("示例居民", "Sample residents"),
        intro = ui.t(
            "演示用：每种颜色最多 10 人，点击即以该居民身份登录。",
            "For the demo: up to 10 persons of each colour; a click signs you in as that resident."
        )
    );
    for colour in [Colour::Red, Colour::Orange, Colour::Yellow, Colour::Green] {
        let codes = match state.service.overview().codes_with_colour(colour, 10).await {
            Ok(codes) => codes,
            Err(e) => return ui.internal("listing codes by colour", e),
        };
        body.push(html!(
            "<h2><span class=\"swatch {c}\" aria-hidden=\"true\"></span>{name}</h2>",
            c = colour.as_str(),
            name = ui.colour(colour),
        ));
        if codes.is_empty() {
            body.push(html!("<p>{none}</p>", none = ui.t("无", "None")));
            continue;
        }
        body.push_literal("<ul>");
        for code in codes {
            body.push(html!(
                "<li><form method=\"post\" action=\"/demo/signin\" class=\"inline\"><input type=\"hidden\" name=\"person\" value=\"{id}\"><button type=\"submit\">{sign_in_as} {id}</button></form> {reasons}</li>",
                id = code.person.as_str(),
                sign_in_as = ui.t("登录为", "Sign in as"),
                reasons = code.reasons.join(", "),
            ));
        }
        body.push_literal("</ul>");
    }
    ui.page(StatusCode::OK, ui.t("示例居民", "Sample residents"), body)
}

pub(crate) async fn demo_signin(State(state): State<AppState>, Posted { ui, form }: Posted) -> Response {
    if !state.demo {
        return ui.error(StatusCode::NOT_FOUND, "仅限演示模式", "Only on the demo region");
    }
    let person = form.get("person").and_then(|p| PersonId::parse(p).ok());
    let Some(person) = person else {
        return ui.error(StatusCode::BAD_REQUEST, "这不是有效的编号", "not a valid person id");
    };
    match state.service.overview().person(&person).await {
        Ok(Some(_)) => {}
        Ok(None) => return ui.error(StatusCode::NOT_FOUND, "没有此人的登记", "no person is registered with this id"),
        Err(e) => return ui.internal("reading a person", e),
    }
    match state.service.residents().issue_resident_key(&person, "demo").await {
        Ok(key) => see_other_with_key(&format!("/persons/{person}"), Some(&key)),
        Err(e) => ui.internal("issuing a demo key", e),
    }
}
