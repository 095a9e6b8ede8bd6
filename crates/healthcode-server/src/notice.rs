//! Carries the incident notice, while one stands, on every answer: a `Healthcode-Notice`
//! header (form-encoded `zh=…&en=…`, ASCII) on all of them, and on pages a banner at the
//! top of the content, in the page's language. In a region of the national exchange,
//! pages also say as of when the national data is ("national data as of …"), and that it
//! is delayed when the hub has not been heard from for a while.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use healthcode_domain::Timestamp;
use healthcode_service::national::Role;

use crate::pages::markup::{html, Markup};
use crate::AppState;

/// The header every answer carries while a notice stands.
pub const NOTICE_HEADER: &str = "healthcode-notice";
/// Pages larger than this are sent without the banner (none is near it).
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

pub(crate) async fn carry(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let notice = match state.service.governance().current_notice().await {
        Ok(notice) => notice,
        Err(e) => {
            tracing::error!(error = %e, "reading the incident notice");
            None
        }
    };
    let (mut parts, body) = response.into_parts();
    if let Some(notice) = &notice {
        if let Ok(value) = serde_urlencoded::to_string([("zh", &notice.text_zh), ("en", &notice.text_en)]) {
            if let Ok(value) = HeaderValue::from_str(&value) {
                parts.headers.insert(NOTICE_HEADER, value);
            }
        }
    }
    let is_page = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if !is_page {
        return Response::from_parts(parts, body);
    }
    let national = national_as_of(&state);
    if notice.is_none() && national.is_none() {
        return Response::from_parts(parts, body);
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAGE_BYTES).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    let html = String::from_utf8_lossy(&bytes);
    let english = html.contains("<html lang=\"en\"");
    let mut banners = Markup::new();
    if let Some(notice) = &notice {
        let text = if english { &notice.text_en } else { &notice.text_zh };
        banners.push_literal("<p role=\"status\" class=\"incident\"><strong>");
        banners.push(text.as_str());
        banners.push_literal("</strong></p>");
    }
    if let Some(national) = national {
        banners.push(national.line(english, state.service.now()));
    }
    let page = html.replacen("<main id=\"main\">", &format!("<main id=\"main\">{}", banners.into_string()), 1);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(page))
}

/// How old the national data is, in a region of the national exchange (issue 15: when the
/// hub is down, regions go on with what they hold, and their pages say as of when).
struct NationalAsOf(Option<Timestamp>);

/// National data older than this is marked delayed: several sync rounds were missed.
const NATIONAL_DELAYED_AFTER_MS: i64 = 10 * 60 * 1000;

/// Read from memory (the follower keeps it, every two seconds): a page costs no store
/// read for it.
fn national_as_of(state: &AppState) -> Option<NationalAsOf> {
    let national = state.service.national();
    matches!(national.role(), Role::Region { .. }).then(|| NationalAsOf(national.trust_synced_at()))
}

impl NationalAsOf {
    fn line(&self, english: bool, now: Timestamp) -> Markup {
        let delayed = self.0.is_none_or(|at| now.as_millis() - at.as_millis() > NATIONAL_DELAYED_AFTER_MS);
        // As the pages write times: `2020-06-01 08:00:00+08:00`.
        let when = |at: Timestamp| at.to_rfc3339().replacen('T', " ", 1);
        let text = match (self.0, english) {
            (Some(at), false) => format!("全国共享数据截至 {}", when(at)),
            (Some(at), true) => format!("National data as of {}", when(at)),
            (None, false) => "尚未收到全国共享数据".to_string(),
            (None, true) => "No national data received yet".to_string(),
        };
        let text = match (delayed, english) {
            (true, false) => format!("{text}（全国数据延迟：其他地区的记录可能尚未送达）"),
            (true, true) => format!("{text} (national data delayed: other regions' records may not have arrived)"),
            (false, _) => text,
        };
        let class = if delayed { "incident national" } else { "muted national" };
        html!("<p role=\"status\" class=\"{class}\">{text}</p>", class = Markup::literal(class), text = text.as_str())
    }
}
