//! The incident notice over HTTP: anyone reads it; a provincial officer posts and lifts
//! it. Every answer and page carries it while it stands (`crate::notice`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use healthcode_domain::Timestamp;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::json_object;
use crate::api::extract::Actor;
use crate::api::policy::may;
use crate::api::JsonBody;
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/v1/notice", get(current).post(post_notice)).route("/v1/notice/lift", post(lift))
}

pub(crate) async fn current(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "notice": state.service.governance().current_notice().await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeBody {
    text_zh: String,
    text_en: String,
    #[serde(default)]
    until: Option<String>,
}

pub(crate) async fn post_notice(
    State(state): State<AppState>,
    by: Actor<may::PostNotice>,
    body: JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body: NoticeBody = json_object(&body, r#"{"text_zh": …, "text_en": …, "until": (optional, RFC 3339)}"#)?;
    let until = body
        .until
        .as_deref()
        .map(|t| Timestamp::parse_field("until", t))
        .transpose()
        .map_err(ApiError::InvalidInput)?;
    let notice = state.service.governance().post_notice(&by, &body.text_zh, &body.text_en, until).await?;
    Ok((StatusCode::CREATED, Json(json!({ "notice": notice }))))
}

pub(crate) async fn lift(State(state): State<AppState>, by: Actor<may::PostNotice>) -> Result<StatusCode, ApiError> {
    state.service.governance().lift_notice(&by).await?;
    Ok(StatusCode::NO_CONTENT)
}
