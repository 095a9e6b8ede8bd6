//! Complaints over HTTP (申诉): a person files one about their code; a handler asks the
//! department whose record is disputed for a correction, or answers it; the department
//! reads its correction requests and retracts the record (`/v1/events`) or declines. An
//! answer never sets a colour.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use healthcode_domain::ValidationError;
use healthcode_store::{AttachmentRef, Complaint};
use serde::{Deserialize, Serialize};

use crate::api::auth::{json_object, reader, Wanted};
use crate::api::extract::{Actor, IdInPath, PersonInPath, QueryParams};
use crate::api::policy::may;
use crate::api::JsonBody;
use crate::{ApiError, AppState};
use healthcode_service::{ComplaintForm, CorrectionView};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(complaints_of, file_complaint))
        .routes(routes!(complaint_queue))
        .routes(routes!(answer_complaint))
        .routes(routes!(request_correction))
        .routes(routes!(correction_queue))
        .routes(routes!(decline_correction))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ComplaintBody {
    subject: String,
    text: String,
    #[serde(default)]
    event_id: Option<String>,
    #[serde(default)]
    blocks: Option<String>,
}

/// A complaint filed: new, or joined to the open complaint about the same record.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct FiledComplaint {
    complaint: Complaint,
    /// Whether it joined the open complaint about the same record (200) rather than
    /// opening one (201).
    joined: bool,
}

/// A complaint, as it stands after a change.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ComplaintStanding {
    complaint: Complaint,
}

/// Complaints, with their answers.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Complaints {
    complaints: Vec<Complaint>,
}

/// Correction requests waiting for a department.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Corrections {
    corrections: Vec<CorrectionView>,
}

/// A file just added to a complaint.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct AttachmentAnswer {
    attachment: AttachmentRef,
}

/// A complaint about the person's code, by the person or a proxy: 201 when new, 200 when
/// it joined the open complaint about the same record.
#[utoipa::path(
    post,
    path = "/v1/persons/{person_id}/complaints",
    tag = "complaints",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)")),
    request_body = ComplaintBody,
    responses((status = 201, description = "`{complaint, joined: false}`: a new complaint", body = FiledComplaint), (status = 200, description = "`{complaint, joined: true}`: joined the open complaint about the same record", body = FiledComplaint), (status = 409, description = "`conflict`: as many complaints as may be open for the person already are", body = crate::api::openapi::ErrorBody)),
    security(("resident_key" = []))
)]
pub(crate) async fn file_complaint(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
    body: JsonBody,
) -> Result<(StatusCode, Json<FiledComplaint>), ApiError> {
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
    Ok((status, Json(FiledComplaint { complaint: filed.complaint, joined: filed.joined })))
}

/// The person's complaints and their answers.
#[utoipa::path(
    get,
    path = "/v1/persons/{person_id}/complaints",
    tag = "complaints",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)"), ("purpose" = Option<String>, Query, description = "staff only: why the data is read, recorded in the person's access log and shown to them")),
    responses((status = 200, description = "`{complaints}`", body = Complaints)),
    security(("resident_key" = []), ("staff_key" = []))
)]
pub(crate) async fn complaints_of(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
) -> Result<Json<Complaints>, ApiError> {
    reader(&state, &headers, &person, &query, Wanted::Data("complaints")).await?;
    Ok(Json(Complaints { complaints: state.service.residents().complaints_of(&person).await? }))
}

/// The complaints within the caller's jurisdiction (`?status=open` for the open ones,
/// `?escalated=true` for those whose deadline passed unhandled).
#[utoipa::path(
    get,
    path = "/v1/complaints",
    tag = "complaints",
    params(("status" = Option<String>, Query, description = "`open` for open complaints only"), ("escalated" = Option<bool>, Query, description = "only escalated ones")),
    responses((status = 200, description = "`{complaints}` in the handler's area", body = Complaints)),
    security(("staff_key" = []))
)]
pub(crate) async fn complaint_queue(
    State(state): State<AppState>,
    account: Actor<may::ReadComplaints>,
    query: QueryParams,
) -> Result<Json<Complaints>, ApiError> {
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
    Ok(Json(Complaints { complaints: list }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CorrectionRequestBody {
    department: String,
    text: String,
}

/// A handler asks the department that made the disputed record to check it.
#[utoipa::path(
    post,
    path = "/v1/complaints/{complaint_id}/correction-request",
    tag = "complaints",
    params(("complaint_id" = String, Path, description = "the complaint")),
    request_body = CorrectionRequestBody,
    responses((status = 200, description = "`{complaint}`", body = ComplaintStanding), (status = 409, description = "`conflict`: a correction request already waits, the complaint is answered, or the disputed record is gone", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn request_correction(
    State(state): State<AppState>,
    handler: Actor<may::AnswerComplaints>,
    IdInPath(id): IdInPath,
    body: JsonBody,
) -> Result<Json<ComplaintStanding>, ApiError> {
    let body: CorrectionRequestBody = json_object(&body, r#"{"department": "health"|…, "text": …}"#)?;
    let complaint = state.service.residents().request_correction(&handler, &id, &body.department, &body.text).await?;
    Ok(Json(ComplaintStanding { complaint }))
}

/// The correction requests waiting for the caller's department.
#[utoipa::path(
    get,
    path = "/v1/corrections",
    tag = "complaints",
    responses((status = 200, description = "`{corrections}` asked of this department", body = Corrections)),
    security(("staff_key" = []))
)]
pub(crate) async fn correction_queue(
    State(state): State<AppState>,
    source: Actor<may::SubmitEvidence>,
) -> Result<Json<Corrections>, ApiError> {
    Ok(Json(Corrections { corrections: state.service.residents().correction_queue(&source).await? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct DeclineBody {
    text: String,
}

/// The department finds its record right; the complaint goes back to its handler.
#[utoipa::path(
    post,
    path = "/v1/corrections/{complaint_id}/decline",
    tag = "complaints",
    params(("complaint_id" = String, Path, description = "the complaint")),
    request_body = DeclineBody,
    responses((status = 200, description = "`{complaint}`", body = ComplaintStanding)),
    security(("staff_key" = []))
)]
pub(crate) async fn decline_correction(
    State(state): State<AppState>,
    source: Actor<may::SubmitEvidence>,
    IdInPath(id): IdInPath,
    body: JsonBody,
) -> Result<Json<ComplaintStanding>, ApiError> {
    let body: DeclineBody = json_object(&body, r#"{"text": …}"#)?;
    let complaint = state.service.residents().decline_correction(&source, &id, &body.text).await?;
    Ok(Json(ComplaintStanding { complaint }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    status: String,
    text: String,
}

/// A complaint handler answers a complaint (upheld, dismissed or referred). An answer never
/// sets a colour: an upheld complaint leads to a correction of the evidence.
#[utoipa::path(
    post,
    path = "/v1/complaints/{complaint_id}/answer",
    tag = "complaints",
    params(("complaint_id" = String, Path, description = "the complaint")),
    request_body = AnswerBody,
    responses((status = 200, description = "`{complaint}`, answered", body = ComplaintStanding), (status = 409, description = "`conflict`: the complaint is answered already", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn answer_complaint(
    State(state): State<AppState>,
    handler: Actor<may::AnswerComplaints>,
    IdInPath(id): IdInPath,
    body: JsonBody,
) -> Result<Json<ComplaintStanding>, ApiError> {
    let body: AnswerBody = json_object(&body, r#"{"status": "upheld"|"dismissed"|"referred", "text": …}"#)?;
    let complaint = state.service.residents().answer_complaint(&handler, &id, &body.status, &body.text).await?;
    Ok(Json(ComplaintStanding { complaint }))
}

/// Routes of a complaint's files: added by the person or a proxy (a PNG or JPEG image or
/// a PDF, at most `MAX_ATTACHMENT_BYTES`), read back by them and by the complaint's
/// handlers (in the person's access log).
pub(crate) fn attachment_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes({
            let (schemas, paths, method) = routes!(attach);
            (
                schemas,
                paths,
                method.layer(axum::extract::DefaultBodyLimit::max(healthcode_service::MAX_ATTACHMENT_BYTES + 1)),
            )
        })
        .routes(routes!(own_attachment))
        .routes(routes!(handled_attachment))
}

/// Adds a file (PNG, JPEG or PDF) to the person's complaint.
#[utoipa::path(
    post,
    path = "/v1/persons/{person_id}/complaints/{complaint_id}/attachments",
    tag = "complaints",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)"), ("complaint_id" = String, Path, description = "the complaint")),
    request_body(content = Vec<u8>, description = "a PNG or JPEG image or a PDF", content_type = "application/octet-stream"),
    responses((status = 201, description = "`{attachment}`", body = AttachmentAnswer), (status = 409, description = "`conflict`: the complaint is answered, or carries as many files as it may", body = crate::api::openapi::ErrorBody)),
    security(("resident_key" = []))
)]
pub(crate) async fn attach(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path((person, complaint)): axum::extract::Path<(String, String)>,
    query: QueryParams,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<AttachmentAnswer>), ApiError> {
    let person = healthcode_domain::PersonId::parse(&person).map_err(ApiError::InvalidInput)?;
    let by = reader(&state, &headers, &person, &query, Wanted::OwnOnly("complaint files")).await?;
    let bytes = body.map_err(|_| {
        ApiError::InvalidInput(ValidationError::field(
            "file",
            format!("a file is at most {} MiB", healthcode_service::MAX_ATTACHMENT_BYTES / (1024 * 1024)),
        ))
    })?;
    let attachment = state.service.residents().attach(&person, &by, &complaint, &bytes).await?;
    Ok((StatusCode::CREATED, Json(AttachmentAnswer { attachment })))
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

/// A file of the person's complaint, for the person or a proxy.
#[utoipa::path(
    get,
    path = "/v1/persons/{person_id}/complaints/{complaint_id}/attachments/{attachment_id}",
    tag = "complaints",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)"), ("complaint_id" = String, Path, description = "the complaint"), ("attachment_id" = String, Path, description = "the file")),
    responses((status = 200, description = "the file", body = Vec<u8>, content_type = "application/octet-stream")),
    security(("resident_key" = []))
)]
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

/// A complaint's file, for the handlers of the complaint (recorded in the person's access log).
#[utoipa::path(
    get,
    path = "/v1/complaints/{complaint_id}/attachments/{attachment_id}",
    tag = "complaints",
    params(("complaint_id" = String, Path, description = "the complaint"), ("attachment_id" = String, Path, description = "the file"), ("purpose" = Option<String>, Query, description = "staff only: why the data is read, recorded in the person's access log and shown to them")),
    responses((status = 200, description = "the file", body = Vec<u8>, content_type = "application/octet-stream")),
    security(("staff_key" = []))
)]
pub(crate) async fn handled_attachment(
    State(state): State<AppState>,
    handler: Actor<may::AnswerComplaints>,
    axum::extract::Path((complaint, attachment)): axum::extract::Path<(String, String)>,
) -> Result<axum::response::Response, ApiError> {
    let (kind, bytes) = state.service.residents().attachment(&complaint, &attachment, Err(&handler)).await?;
    Ok(file(kind, bytes))
}
