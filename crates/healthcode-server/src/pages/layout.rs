//! What every page shares: the visitor's language and text size, the HTML frame with its
//! one stylesheet, escaping, and the same-origin check of form posts.
//!
//! Pages are [`Markup`], made with `html!`: text is escaped when it is placed in a
//! template, so the translations [`Ui::t`] picks are plain text like any other.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use healthcode_domain::{Colour, Timestamp};

use crate::pages::markup::{html, Markup};

/// Percent-encodes a query value (everything but unreserved characters).
pub(crate) fn url_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Zh,
    En,
}

/// The visitor's choices, read from `?lang=` / `?text=` (which also set the cookies that
/// remember them) or from the `lang` / `text` cookies. zh-CN unless English was chosen.
pub(crate) struct Ui {
    pub lang: Lang,
    pub large: bool,
    path: String,
    query: Vec<(String, String)>,
    remember: Vec<String>,
    cookies: HashMap<String, String>,
    /// Form pages send their origin on POST (`same-origin`); other pages send nothing.
    referrer_same_origin: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Ui {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let cookies = cookies(&parts.headers);
        let query: Vec<(String, String)> =
            Query::<Vec<(String, String)>>::try_from_uri(&parts.uri).map(|Query(q)| q).unwrap_or_default();
        let asked = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let mut remember = Vec::new();
        let lang = match asked("lang") {
            Some("en") => {
                remember.push("lang=en".to_string());
                Lang::En
            }
            Some("zh") => {
                remember.push("lang=zh".to_string());
                Lang::Zh
            }
            _ if cookies.get("lang").map(String::as_str) == Some("en") => Lang::En,
            _ => Lang::Zh,
        };
        let large = match asked("text") {
            Some("large") => {
                remember.push("text=large".to_string());
                true
            }
            Some("normal") => {
                remember.push("text=normal".to_string());
                false
            }
            _ => cookies.get("text").map(String::as_str) == Some("large"),
        };
        Ok(Ui {
            lang,
            large,
            path: parts.uri.path().to_string(),
            query,
            remember,
            cookies,
            referrer_same_origin: false,
        })
    }
}

/// The request's cookies, by name (the first of a name wins).
pub(crate) fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            if let Some((name, value)) = pair.trim().split_once('=') {
                out.entry(name.trim().to_string()).or_insert_with(|| value.trim().to_string());
            }
        }
    }
    out
}

const STYLE: &str = r#"
*{box-sizing:border-box}
html{font-size:100%}html.large{font-size:137.5%}
body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;max-width:46rem;margin:0 auto;padding:1rem;color:#111;background:#fff;line-height:1.5;overflow-wrap:anywhere}
a{color:#0b4f9c} :focus-visible{outline:3px solid #0b4f9c;outline-offset:2px}
.skip{position:absolute;left:-999rem}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
header nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center;border-bottom:1px solid #ccc;padding-bottom:.5rem}
header .brand{font-weight:700;text-decoration:none;margin-right:auto}
.muted{color:#3d3d3d;font-size:.9em}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse}td,th{padding:.25rem .6rem;border-bottom:1px solid #ccc;text-align:left;vertical-align:top}
.code{padding:1.5rem;border-radius:.75rem;font-size:2rem;font-weight:700;text-align:center;margin:1rem 0}
.green{background:#0a6b2b;color:#fff}.yellow{background:#f2c200;color:#111}.orange{background:#a84300;color:#fff}.red{background:#b00020;color:#fff}
.allow{background:#0a6b2b;color:#fff}.allow_with_mask{background:#f2c200;color:#111}.deny{background:#b00020;color:#fff}
.swatch{display:inline-block;width:.9em;height:.9em;border-radius:.2em;vertical-align:-.1em;margin-right:.3em;border:1px solid #555}
.designated{background:#5b2a86;color:#fff}.swatch.dashed{background:#fff;border:2px dashed #111}
.legend{list-style:none;padding:0;margin:.5rem 0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
table.counties{overflow-wrap:normal}.counties td,.counties th{padding:.25rem .4rem;white-space:nowrap}.counties th[scope=row]{white-space:normal;min-width:6.5em}.counties .name{white-space:nowrap}.counties th .muted{font-weight:400}.counties .designation{white-space:normal;min-width:7em}
.qr{background:#fff;padding:.5rem;text-align:center}.qr svg{width:100%;max-width:18rem;height:auto}
.big .qr svg{max-width:min(80vh,100%)} body:has(.big) header{display:none} .big h1{text-align:center;font-size:2.5rem;margin:.5rem 0}.big p{text-align:center;font-size:1.25rem}
label{display:block;font-weight:600;margin-top:.75rem}label.inline{display:inline;font-weight:400}form.inline{display:inline}
input,select,button,textarea{font:inherit;max-width:100%}input,select,textarea{padding:.45rem;border:1px solid #555;border-radius:.25rem;width:100%}
input[type=checkbox]{width:auto;transform:scale(1.4);margin-right:.5rem}
fieldset{min-width:0}.picker{border:1px solid #bbb;border-radius:.3rem;padding:.5rem .75rem;margin:.75rem 0}.picker .choices{display:flex;flex-wrap:wrap;gap:.35rem;margin:.4rem 0}.picker .choices button{margin-top:0;padding:.3rem .7rem;background:#e8f0fa;color:#0b3a70;border:1px solid #0b4f9c}.picker button.crumb{margin:0;padding:.1rem .3rem;background:none;color:#0b4f9c;text-decoration:underline}.picker-search{display:flex;gap:.4rem;align-items:flex-end;flex-wrap:wrap}.picker-search label{flex-basis:100%}.picker-search input{flex:1 1 10rem;width:auto}.picker-search button{margin-top:0}
button{padding:.55rem 1.1rem;margin-top:.75rem;background:#0b4f9c;color:#fff;border:0;border-radius:.3rem;cursor:pointer}
.notice{border:1px solid #999;padding:.75rem;border-radius:.4rem;background:#f6f6f6}
.incident{border:2px solid #7a4a00;padding:.75rem;border-radius:.4rem;background:#fff4d6;color:#3d2500}
.decision{padding:2rem 1rem;border-radius:.75rem;text-align:center;margin:1rem 0}.decision strong{display:block;font-size:2.5rem}
figure{margin:1rem 0}.chart{width:100%;height:auto;max-width:36rem}
code{font-size:.85em}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f6f6;padding:.5rem;font-size:.85em}
textarea{font-family:ui-monospace,monospace;font-size:.85em}
.problem{border:2px solid #b00020;padding:.75rem;border-radius:.4rem;background:#fff}.done{border:2px solid #0a6b2b;padding:.75rem;border-radius:.4rem}
.staffbar{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center;border-bottom:1px solid #ccc;padding:.25rem 0 .5rem}.staffbar form{margin-left:auto}.staffbar button{margin-top:0;padding:.3rem .8rem}
ul.changes{padding-left:1.2rem}ul.changes li{margin:.4rem 0}del,ins{text-decoration:none}
@media print{header,.noprint{display:none}body{max-width:none}}
"#;

impl Ui {
    /// `zh` or `en`, as the visitor chose: text, escaped where it is placed.
    pub fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The path of the page asked for (where to come back to after signing in).
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn en(&self) -> bool {
        self.lang == Lang::En
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// This page holds a form that posts: let the browser send its origin (see `same_origin`).
    pub fn with_form(mut self) -> Self {
        self.referrer_same_origin = true;
        self
    }

    /// The current page with one query parameter set (for the language and text switches).
    fn link_with(&self, name: &str, value: &str) -> String {
        let mut parts: Vec<String> = self
            .query
            .iter()
            .filter(|(k, _)| k != name && k != "lang" && k != "text")
            .map(|(k, v)| format!("{}={}", url_value(k), url_value(v)))
            .collect();
        parts.push(format!("{name}={value}"));
        format!("{}?{}", self.path, parts.join("&"))
    }

    pub fn colour(&self, colour: Colour) -> &'static str {
        match colour {
            Colour::Green => self.t("绿码", "Green"),
            Colour::Yellow => self.t("黄码", "Yellow"),
            Colour::Orange => self.t("橙码", "Orange"),
            Colour::Red => self.t("红码", "Red"),
        }
    }

    pub fn page(&self, status: StatusCode, title: &str, body: Markup) -> Response {
        self.frame(status, title, body, Markup::new())
    }

    /// The frame with extra `<head>` content (a refresh, for the pages showing codes).
    pub fn frame(&self, status: StatusCode, title: &str, body: Markup, head: Markup) -> Response {
        let (lang, other) = if self.en() { ("en", ("zh", "中文")) } else { ("zh-CN", ("en", "English")) };
        let (text_value, text_label) = if self.large {
            ("normal", self.t("标准字号", "Normal text"))
        } else {
            ("large", self.t("大字模式", "Large text"))
        };
        let html = html!(
            r##"<!doctype html>
<html lang="{lang}"{large}><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">{head}
<title>{title}</title><style>{style}</style></head><body>
<a class="skip" href="#main">{skip}</a>
<header><nav aria-label="{nav}"><a class="brand" href="/">{brand}</a>
<a href="/register">{register}</a> <a href="/venues/new">{venues}</a> <a href="/verify">{verify}</a> <a href="/dashboard">{dashboard}</a> <a href="/staff">{staff}</a>
<a href="{lang_link}" lang="{other_lang}" hreflang="{other_lang}">{other_label}</a> <a href="{text_link}">{text_label}</a></nav></header>
<main id="main">{body}</main></body></html>"##,
            lang = lang,
            large = Markup::literal(if self.large { r#" class="large""# } else { "" }),
            head = head,
            title = title,
            style = Markup::literal(STYLE),
            skip = self.t("跳到正文", "Skip to content"),
            nav = self.t("主菜单", "Main menu"),
            brand = self.t("健康码", "Health code"),
            register = self.t("居民登记", "Register"),
            venues = self.t("场所", "Venues"),
            verify = self.t("核验", "Verify"),
            dashboard = self.t("数据看板", "Dashboard"),
            staff = self.t("工作人员", "Officials"),
            lang_link = self.link_with("lang", other.0),
            other_lang = other.0,
            other_label = other.1,
            text_link = self.link_with("text", text_value),
            text_label = text_label,
            body = body,
        );
        let mut response = (status, Html(html.into_string())).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(crate::CONTENT_SECURITY_POLICY));
        if self.referrer_same_origin {
            headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
        }
        for cookie in &self.remember {
            // A preference, not a secret; SameSite=Strict like every cookie here.
            let value = format!("{cookie}; Path=/; Max-Age=31536000; SameSite=Strict; HttpOnly");
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.append(header::SET_COOKIE, value);
            }
        }
        response
    }

    pub fn error(&self, status: StatusCode, zh: &str, en: &str) -> Response {
        let title =
            if status == StatusCode::NOT_FOUND { self.t("未找到", "Not found") } else { self.t("错误", "Error") };
        self.page(status, title, html!("<h1>{title}</h1><p>{message}</p>", title = title, message = self.t(zh, en)))
    }

    /// How a resident's act on a page ends: what `done` makes of its result, or the
    /// service's refusal as an error page with its status (422, 403, 409; 503 while the
    /// database cannot be reached); any other failure is ours, and logged.
    pub fn outcome<T>(
        &self,
        result: Result<T, healthcode_service::ServiceError>,
        doing: &str,
        done: impl FnOnce(T) -> Response,
    ) -> Response {
        use healthcode_service::ServiceError;
        match result {
            Ok(value) => done(value),
            Err(ServiceError::Invalid(e)) => self.error(StatusCode::UNPROCESSABLE_ENTITY, &e.message, &e.message),
            Err(ServiceError::Forbidden(m)) => self.error(StatusCode::FORBIDDEN, &m, &m),
            Err(e @ ServiceError::UnknownArea { .. }) => {
                let m = e.to_string();
                self.error(StatusCode::UNPROCESSABLE_ENTITY, &m, &m)
            }
            Err(ServiceError::Conflict(m)) => self.error(StatusCode::CONFLICT, &m, &m),
            Err(ServiceError::Store(healthcode_store::StoreError::Unavailable(e))) => {
                tracing::warn!(error = %e, "{doing}: database unavailable");
                self.error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "服务暂时无法访问数据库，请稍后再试",
                    "the service cannot reach its database just now; try again in a few seconds",
                )
            }
            Err(e) => self.internal(doing, e),
        }
    }

    pub fn internal(&self, what: &str, e: impl std::fmt::Display) -> Response {
        tracing::error!(error = %e, "{what} failed");
        self.error(StatusCode::INTERNAL_SERVER_ERROR, "内部错误，已记录", "internal error; it has been logged")
    }

    /// A refused cross-site form post (see `same_origin`).
    pub fn cross_site(&self) -> Response {
        self.error(StatusCode::FORBIDDEN, "请从本站页面提交表单", "forms must be sent from this site's own pages")
    }

    /// How every form post starts: refused unless sent from one of this site's pages
    /// (CSRF), and answered as a form page.
    // The error is the page to answer with, made at most once per request.
    #[allow(clippy::result_large_err)]
    pub fn posted(self, headers: &HeaderMap) -> Result<Self, Response> {
        if !same_origin(headers) {
            return Err(self.cross_site());
        }
        Ok(self.with_form())
    }
}

/// A time as people read it: `2020-06-01 08:00:00+08:00`.
pub(crate) fn when(t: Timestamp) -> String {
    t.to_rfc3339().replacen('T', " ", 1)
}

/// CSRF defence for the form posts. Every cookie here is SameSite=Strict, so a cross-site
/// post arrives without them; and a post is accepted only when the browser says it came
/// from this site: `Sec-Fetch-Site: same-origin`, or else an `Origin` (or `Referer`)
/// whose host is the `Host` asked for. Form pages set `Referrer-Policy: same-origin` so
/// that browsers send a real `Origin` (under `no-referrer` they send `Origin: null`).
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let get = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin";
    }
    let Some(host) = get(header::HOST) else { return false };
    let host_of = |url: &str| url.split_once("://").map(|(_, rest)| rest.split('/').next().unwrap_or("").to_string());
    match (get(header::ORIGIN).filter(|o| *o != "null"), get(header::REFERER)) {
        (Some(origin), _) => host_of(origin).as_deref() == Some(host),
        (None, Some(referer)) => host_of(referer).as_deref() == Some(host),
        (None, None) => false,
    }
}

/// 303 See Other to `location` (a path of ours), after a form post.
pub(crate) fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location.to_string())]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_values() {
        assert_eq!(url_value("a b/中"), "a%20b%2F%E4%B8%AD");
    }

    #[test]
    fn posts_must_come_from_this_site() {
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_str(v).unwrap());
            }
            h
        };
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site"), ("host", "a"), ("origin", "http://a")])));
        assert!(same_origin(&headers(&[("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:8080")])));
        assert!(!same_origin(&headers(&[("host", "127.0.0.1:8080"), ("origin", "http://evil.example")])));
        assert!(!same_origin(&headers(&[("host", "a"), ("origin", "null")])));
        assert!(same_origin(&headers(&[("host", "a"), ("referer", "http://a/register")])));
        assert!(!same_origin(&headers(&[("host", "a")])), "no evidence of origin: refused");
    }
}
