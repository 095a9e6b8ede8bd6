//! Complaints over HTTP (申诉): a person files one about their code; a handler asks the
//! department whose record is disputed for a correction, or answers it; the department
//! reads its correction requests and retracts the record (`/v1/events`) or declines. An
//! answer never sets a colour.

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
use healthcode_service::ComplaintForm;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/persons/{person_id}/complaints", get(complaints_of).post(file_complaint))
        .route("/v1/complaints", get(complaint_queue))
        .route("/v1/complaints/{complaint_id}/answer", post(answer_complaint))
        .route("/v1/complaints/{complaint_id}/correction-request", post(request_correction))
        .route("/v1/corrections", get(correction_queue))
        .route("/v1/corrections/{complaint_id}/decline", post(decline_correction))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ComplaintBody {
    subject: String,
    text: String,
    #[serde(default)]
    event_id: Option<String>,
    #[serde(default)]
    blocks: Option<String>,
}

/// A complaint about the person's code, by the person or a proxy: 201 when new, 200 when
/// it joined the open complaint about the same record.
pub(crate) async fn file_complaint(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
    body: JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let by = reader(&state, &headers, &person, &query, Wanted::OwnOnly("complaints")).await?;
    let body: ComplaintBody = json_object(
        &body,
        r#"{"subject": "colour"|"evidence"|"decision"|"other", "text": …, "event_id": (optional), "blocks": "medical"|"travel" (optional)}"#,
    )?;
    let form = ComplaintForm {
        subject: &body.subject,
        text: &body.text,
        event: body.event_id.as_deref(),
        blocks: body.blocks.as_deref(),
    };
    let filed = state.service.residents().file_complaint(&person, &by, &form).await?;
    let status = if filed.joined { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(json!({ "complaint": filed.complaint, "joined": filed.joined }))))
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

/// The complaints within the caller's jurisdiction (`?status=open` for the open ones,
/// `?escalated=true` for those whose deadline passed unhandled).
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
    let escalated_only = match query.get("escalated") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::InvalidInput(ValidationError::field("escalated", "`escalated` is true or false")))
        }
    };
    let list = state.service.residents().complaint_queue(&account, open_only, escalated_only).await?;
    Ok(Json(json!({ "complaints": list })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CorrectionRequestBody {
    department: String,
    text: String,
}

/// A handler asks the department that made the disputed record to check it.
pub(crate) async fn request_correction(
    State(state): State<AppState>,
    handler: Actor<may::AnswerComplaints>,
    IdInPath(id): IdInPath,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let body: CorrectionRequestBody = json_object(&body, r#"{"department": "health"|…, "text": …}"#)?;
    let complaint = state.service.residents().request_correction(&handler, &id, &body.department, &body.text).await?;
    Ok(Json(json!({ "complaint": complaint })))
}

/// The correction requests waiting for the caller's department.
pub(crate) async fn correction_queue(
    State(state): State<AppState>,
    source: Actor<may::SubmitEvidence>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "corrections": state.service.residents().correction_queue(&source).await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclineBody {
    text: String,
}

/// The department finds its record right; the complaint goes back to its handler.
pub(crate) async fn decline_correction(
    State(state): State<AppState>,
    source: Actor<may::SubmitEvidence>,
    IdInPath(id): IdInPath,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let body: DeclineBody = json_object(&body, r#"{"text": …}"#)?;
    let complaint = state.service.residents().decline_correction(&source, &id, &body.text).await?;
    Ok(Json(json!({ "complaint": complaint })))
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

/// Routes of a complaint's files: added by the person or a proxy (a PNG or JPEG image or
/// a PDF, at most `MAX_ATTACHMENT_BYTES`), read back by them and by the complaint's
/// handlers (in the person's access log).
pub(crate) fn attachment_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/persons/{person_id}/complaints/{complaint_id}/attachments",
            post(attach).layer(axum::extract::DefaultBodyLimit::max(healthcode_service::MAX_ATTACHMENT_BYTES + 1)),
        )
        .route("/v1/persons/{person_id}/complaints/{complaint_id}/attachments/{attachment_id}", get(own_attachment))
        .route("/v1/complaints/{complaint_id}/attachments/{attachment_id}", get(handled_attachment))
}

pub(crate) async fn attach(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path((person, complaint)): axum::extract::Path<(String, String)>,
    query: QueryParams,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let person = healthcode_domain::PersonId::parse(&person).map_err(ApiError::InvalidInput)?;
    let by = reader(&state, &headers, &person, &query, Wanted::OwnOnly("complaint files")).await?;
    let bytes = body.map_err(|_| {
        ApiError::InvalidInput(ValidationError::field(
            "file",
            format!("a file is at most {} MiB", healthcode_service::MAX_ATTACHMENT_BYTES / (1024 * 1024)),
        ))
    })?;
    let attachment = state.service.residents().attach(&person, &by, &complaint, &bytes).await?;
    Ok((StatusCode::CREATED, Json(json!({ "attachment": attachment }))))
}

fn file(content_type: String, bytes: Vec<u8>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let disposition = axum::http::HeaderValue::from_static("attachment");
    match axum::http::HeaderValue::from_str(&content_type) {
        Ok(kind) => {
            ([(axum::http::header::CONTENT_TYPE, kind), (axum::http::header::CONTENT_DISPOSITION, disposition)], bytes)
                .into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

pub(crate) async fn own_attachment(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path((person, complaint, attachment)): axum::extract::Path<(String, String, String)>,
    query: QueryParams,
) -> Result<axum::response::Response, ApiError> {
    let person = healthcode_domain::PersonId::parse(&person).map_err(ApiError::InvalidInput)?;
    reader(&state, &headers, &person, &query, Wanted::OwnOnly("complaint files")).await?;
    let (kind, bytes) = state.service.residents().attachment(&complaint, &attachment, Ok(&person)).await?;
    Ok(file(kind, bytes))
}

pub(crate) async fn handled_attachment(
    State(state): State<AppState>,
    handler: Actor<may::AnswerComplaints>,
    axum::extract::Path((complaint, attachment)): axum::extract::Path<(String, String)>,
) -> Result<axum::response::Response, ApiError> {
    let (kind, bytes) = state.service.residents().attachment(&complaint, &attachment, Err(&handler)).await?;
    Ok(file(kind, bytes))
}
