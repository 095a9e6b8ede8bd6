//! Complaints over HTTP (申诉): a person files one about their code; a handler answers
//! it. An answer never sets a colour.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use healthcode_domain::ValidationError;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::{json_object, reader, Wanted};
use crate::api::extract::{Actor, IdInPath, PersonInPath, QueryParams};
use crate::api::policy::may;
use crate::api::JsonBody;
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/persons/{person_id}/complaints", get(complaints_of).post(file_complaint))
        .route("/v1/complaints", get(complaint_queue))
        .route("/v1/complaints/{complaint_id}/answer", post(answer_complaint))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ComplaintBody {
    subject: String,
    text: String,
}

/// A complaint about the person's code, by the person or a proxy.
pub(crate) async fn file_complaint(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
    body: JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let by = reader(&state, &headers, &person, &query, Wanted::OwnOnly("complaints")).await?;
    let body: ComplaintBody = json_object(&body, r#"{"subject": "colour"|"evidence"|"decision"|"other", "text": …}"#)?;
    let complaint = state.service.residents().file_complaint(&person, &by, &body.subject, &body.text).await?;
    Ok((StatusCode::CREATED, Json(json!({ "complaint": complaint }))))
}

/// The person's complaints and their answers.
pub(crate) async fn complaints_of(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    reader(&state, &headers, &person, &query, Wanted::Data("complaints")).await?;
    Ok(Json(json!({ "complaints": state.service.residents().complaints_of(&person).await? })))
}

/// The complaints within the caller's jurisdiction (`?status=open` for the open ones).
pub(crate) async fn complaint_queue(
    State(state): State<AppState>,
    account: Actor<may::ReadComplaints>,
    query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let open_only = match query.get("status") {
        None | Some("all") => false,
        Some("open") => true,
        Some(_) => return Err(ApiError::InvalidInput(ValidationError::field("status", "`status` is open or all"))),
    };
    Ok(Json(json!({ "complaints": state.service.residents().complaint_queue(&account, open_only).await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    status: String,
    text: String,
}

pub(crate) async fn answer_complaint(
    State(state): State<AppState>,
    handler: Actor<may::AnswerComplaints>,
    IdInPath(id): IdInPath,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let body: AnswerBody = json_object(&body, r#"{"status": "upheld"|"dismissed"|"referred", "text": …}"#)?;
    let complaint = state.service.residents().answer_complaint(&handler, &id, &body.status, &body.text).await?;
    Ok(Json(json!({ "complaint": complaint })))
}
