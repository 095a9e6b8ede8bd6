//! The JSON API, one module per resource.

mod body;
mod codes;
mod events;
mod overview;
mod persons;

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;

use crate::error::plain;
use crate::AppState;

pub(crate) use body::RawBody;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }))
        .route("/v1/persons", post(persons::register))
        .route("/v1/persons/{person_id}/code", get(codes::code))
        .route("/v1/events", post(events::one))
        .route("/v1/events/batch", post(events::batch))
        .route("/v1/designations", post(events::designation))
        .route("/v1/rejections", get(overview::rejections))
        .route("/v1/rules", get(overview::rules))
        .route("/v1/stats", get(overview::stats))
        .method_not_allowed_fallback(|| async {
            plain(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
        })
}
