//! Page code that reads untrusted form bodies, public only for the fuzz target
//! `form_body` (fuzz/, issue 17): not part of the server's API, and not to be used
//! elsewhere.

use axum::body::Body;
use axum::http::{header, Method, Request};
use http_body_util::BodyExt;

/// A form posted to `/register?{query}` with `body` (as a browser on our own page sends
/// it), then shown again with what it held, as after a step of its area picker: the
/// status and the HTML of the answer. `None` when `query` cannot be part of a URI.
pub fn register_form_again(query: &str, body: &[u8]) -> Option<(u16, String)> {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/register?{query}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body.to_vec()))
        .ok()?;
    let runtime = tokio::runtime::Builder::new_current_thread().build().ok()?;
    runtime.block_on(async {
        let response = crate::pages::register_shown_again(request).await;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.ok()?.to_bytes();
        Some((status, String::from_utf8_lossy(&bytes).into_owned()))
    })
}
