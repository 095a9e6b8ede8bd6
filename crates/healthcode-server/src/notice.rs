//! Carries the incident notice, while one stands, on every answer: a `Healthcode-Notice`
//! header (form-encoded `zh=…&en=…`, ASCII) on all of them, and on pages a banner at the
//! top of the content, in the page's language.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::pages::markup::Markup;
use crate::AppState;

/// The header every answer carries while a notice stands.
pub const NOTICE_HEADER: &str = "healthcode-notice";
/// Pages larger than this are sent without the banner (none is near it).
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

pub(crate) async fn carry(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let notice = match state.service.governance().current_notice().await {
        Ok(Some(notice)) => notice,
        Ok(None) => return response,
        Err(e) => {
            tracing::error!(error = %e, "reading the incident notice");
            return response;
        }
    };
    let (mut parts, body) = response.into_parts();
    if let Ok(value) = serde_urlencoded::to_string([("zh", &notice.text_zh), ("en", &notice.text_en)]) {
        if let Ok(value) = HeaderValue::from_str(&value) {
            parts.headers.insert(NOTICE_HEADER, value);
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
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAGE_BYTES).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    let html = String::from_utf8_lossy(&bytes);
    let english = html.contains("<html lang=\"en\"");
    let text = if english { &notice.text_en } else { &notice.text_zh };
    let mut banner = Markup::literal("<p role=\"status\" class=\"incident\"><strong>");
    banner.push(text.as_str());
    banner.push_literal("</strong></p>");
    let page = html.replacen("<main id=\"main\">", &format!("<main id=\"main\">{}", banner.into_string()), 1);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(page))
}
