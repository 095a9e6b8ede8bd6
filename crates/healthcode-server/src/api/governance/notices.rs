//! The incident notice over HTTP: anyone reads it; a provincial officer posts and lifts
//! it. Every answer and page carries it while it stands (`crate::notice`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use healthcode_domain::Timestamp;
use healthcode_service::IncidentNotice;
use serde::{Deserialize, Serialize};

use crate::api::auth::json_object;
use crate::api::extract::Actor;
use crate::api::policy::may;
use crate::api::JsonBody;
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(current, post_notice)).routes(routes!(lift))
}

/// The incident notice in force, or null.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CurrentNotice {
    #[schema(required = true)]
    notice: Option<IncidentNotice>,
}

/// An incident notice just posted.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PostedNotice {
    notice: IncidentNotice,
}

/// The incident notice in force, if any (also in every answer's `X-Incident-Notice` header).
#[utoipa::path(
    get,
    path = "/v1/notice",
    tag = "governance",
    responses((status = 200, description = "`{notice}`: the incident notice in force, or null", body = CurrentNotice))
)]
pub(crate) async fn current(State(state): State<AppState>) -> Result<Json<CurrentNotice>, ApiError> {
    Ok(Json(CurrentNotice { notice: state.service.governance().current_notice().await? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NoticeBody {
    text_zh: String,
    text_en: String,
    #[serde(default)]
    until: Option<String>,
}

/// A provincial officer posts an incident notice ("national data delayed", "verification offline-only").
#[utoipa::path(
    post,
    path = "/v1/notice",
    tag = "governance",
    request_body = NoticeBody,
    responses((status = 201, description = "`{notice}`: every page and answer carries it until lifted", body = PostedNotice)),
    security(("staff_key" = []))
)]
pub(crate) async fn post_notice(
    State(state): State<AppState>,
    by: Actor<may::PostNotice>,
    body: JsonBody,
) -> Result<(StatusCode, Json<PostedNotice>), ApiError> {
    let body: NoticeBody = json_object(&body, r#"{"text_zh": …, "text_en": …, "until": (optional, RFC 3339)}"#)?;
    let until = body
        .until
        .as_deref()
        .map(|t| Timestamp::parse_field("until", t))
        .transpose()
        .map_err(ApiError::InvalidInput)?;
    let notice = state.service.governance().post_notice(&by, &body.text_zh, &body.text_en, until).await?;
    Ok((StatusCode::CREATED, Json(PostedNotice { notice })))
}

/// Lifts the incident notice.
#[utoipa::path(
    post,
    path = "/v1/notice/lift",
    tag = "governance",
    responses((status = 204, description = "the notice is lifted"), (status = 409, description = "`conflict`: no notice is up", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn lift(State(state): State<AppState>, by: Actor<may::PostNotice>) -> Result<StatusCode, ApiError> {
    state.service.governance().lift_notice(&by).await?;
    Ok(StatusCode::NO_CONTENT)
}
