//! What residents do with their key besides showing their code: act for family members,
//! see who read their data, and complain; and what staff do for them: answer complaints
//! and give a key at a counter (a first one, or a lost one replaced).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use healthcode_domain::{AreaCode, IdDocument, PersonId, ValidationError};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::{bearer, json_object, person_and_reader, Wanted};
use crate::api::persons::{registration_in, text_in};
use crate::api::policy::{allow, Action};
use crate::api::{id_in_path, query_params, JsonBody, RawQuery};
use crate::{ApiError, AppState};

/// The resident a resident key belongs to.
async fn resident(state: &AppState, headers: &HeaderMap) -> Result<PersonId, ApiError> {
    Ok(state.service.resident(bearer(headers, "resident key")?).await?)
}

/// Starts acting for a family member: registers them if they are new (an elderly parent
/// without a phone), or, if registered, with their agreement shown by their key.
pub(crate) async fn add_dependant(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let proxy = resident(&state, &headers).await?;
    let (registration, object) = registration_in(&body, &["relation", "dependant_key"])?;
    let relation =
        text_in(&object, "relation")?.ok_or_else(|| ApiError::InvalidInput(ValidationError::missing("relation")))?;
    let dependant_key = text_in(&object, "dependant_key")?;
    let (person, created) = state.service.add_dependant(&proxy, registration, relation, dependant_key).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!({"person_id": person.id, "created": created, "relation": relation.trim()}))))
}

/// Ends a proxy link; the proxy or the person they act for may.
pub(crate) async fn end_proxy(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let caller = resident(&state, &headers).await?;
    let Path((dependant, proxy)) =
        path.map_err(|_| ApiError::InvalidInput(ValidationError::field("person_id", "not UTF-8 text")))?;
    let dependant = PersonId::parse(&dependant).map_err(ApiError::InvalidInput)?;
    let proxy = PersonId::parse(&proxy).map_err(ApiError::InvalidInput)?;
    state.service.end_proxy(&caller, &proxy, &dependant).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every read of the person's data by someone else, newest first: for the person and
/// those who act for them.
pub(crate) async fn accesses(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    query: RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (person, _) = person_and_reader(&state, &headers, path, query, Wanted::OwnOnly("access log")).await?;
    Ok(Json(json!({ "accesses": state.service.accesses(&person).await? })))
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
    path: Result<Path<String>, PathRejection>,
    query: RawQuery,
    body: JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (person, by) = person_and_reader(&state, &headers, path, query, Wanted::OwnOnly("complaints")).await?;
    let body: ComplaintBody = json_object(&body, r#"{"subject": "colour"|"evidence"|"decision"|"other", "text": …}"#)?;
    let complaint = state.service.file_complaint(&person, &by, &body.subject, &body.text).await?;
    Ok((StatusCode::CREATED, Json(json!({ "complaint": complaint }))))
}

/// The person's complaints and their answers.
pub(crate) async fn complaints_of(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    query: RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (person, _) = person_and_reader(&state, &headers, path, query, Wanted::Data("complaints")).await?;
    Ok(Json(json!({ "complaints": state.service.complaints_of(&person).await? })))
}

/// The complaints within the caller's jurisdiction (`?status=open` for the open ones).
pub(crate) async fn complaint_queue(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: RawQuery,
) -> Result<Json<Value>, ApiError> {
    let account = allow(&state, &headers, Action::ReadComplaints).await?;
    let open_only = match query_params(query)?.get("status").map(String::as_str) {
        None | Some("all") => false,
        Some("open") => true,
        Some(_) => return Err(ApiError::InvalidInput(ValidationError::field("status", "`status` is open or all"))),
    };
    Ok(Json(json!({ "complaints": state.service.complaint_queue(&account, open_only).await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    status: String,
    text: String,
}

pub(crate) async fn answer_complaint(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let handler = allow(&state, &headers, Action::AnswerComplaints).await?;
    let id = id_in_path(path, "complaint")?;
    let body: AnswerBody = json_object(&body, r#"{"status": "upheld"|"dismissed"|"referred", "text": …}"#)?;
    let complaint = state.service.answer_complaint(&handler, &id, &body.status, &body.text).await?;
    Ok(Json(json!({ "complaint": complaint })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CounterBody {
    id_type: String,
    id_number: String,
    /// The area of residence on the person's papers, recorded if none is.
    residence_area: Option<String>,
}

/// A key given at a community service point after checking the person's papers: the
/// first key of a person someone else registered, or the replacement of a lost one.
/// Every earlier key of the person stops working.
pub(crate) async fn replace_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let office = allow(&state, &headers, Action::ReplaceResidentKey).await?;
    let body: CounterBody = json_object(&body, r#"{"id_type": …, "id_number": …, "residence_area"?: "330106"}"#)?;
    let document = IdDocument::parse(&body.id_type, &body.id_number).map_err(ApiError::InvalidInput)?;
    let area = body
        .residence_area
        .map(|a| AreaCode::parse(&a).map_err(|m| ApiError::InvalidInput(ValidationError::field("residence_area", m))))
        .transpose()?;
    let (person, key) = state.service.replace_resident_key(&office, &document, area).await?;
    Ok(Json(json!({ "person_id": person.id, "residence_area": person.residence_area, "resident_key": key })))
}

/// A person's sealed details (full name, phone), opened: for the person, their proxies,
/// and staff with a purpose (a health officer calling a close contact), each read logged.
pub(crate) async fn details(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    query: RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (person, _) = person_and_reader(&state, &headers, path, query, Wanted::Data("contact details")).await?;
    let details = state.service.personal_details(&person).await?.unwrap_or_default();
    Ok(Json(json!({ "person_id": person, "details": details })))
}

/// A one-time claim code for a person the caller acts for and who holds no key of their
/// own: with it, the person registers and gets their key.
pub(crate) async fn claim_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let proxy = resident(&state, &headers).await?;
    let person = crate::api::codes::person_in_path(path)?;
    let code = state.service.issue_claim_code(&proxy, &person).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "person_id": person, "claim_code": code.claim_code, "expires_at": code.expires_at })),
    ))
}
