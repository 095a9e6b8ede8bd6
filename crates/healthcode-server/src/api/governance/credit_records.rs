//! Credit records for concealment over HTTP: an office proposes one, two provincial
//! officers approve it, the person reads and appeals it. None of it changes a colour.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use healthcode_domain::PersonId;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::{json_object, reader, Wanted};
use crate::api::extract::{Actor, IdInPath, PersonInPath, QueryParams};
use crate::api::policy::may;
use crate::api::JsonBody;
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(propose))
        .routes(routes!(approve))
        .routes(routes!(of_person))
        .routes(routes!(appeal))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ProposalBody {
    person_id: String,
    basis: String,
    facts: String,
}

/// 202: a proposal, which changes nothing until two other provincial officers approve it.
#[utoipa::path(
    post,
    path = "/v1/credit-records",
    tag = "governance",
    request_body = ProposalBody,
    responses((status = 202, description = "`{record}`: proposed; it holds once another official approves", body = Object)),
    security(("staff_key" = []))
)]
pub(crate) async fn propose(
    State(state): State<AppState>,
    by: Actor<may::ProposeDecision>,
    body: JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body: ProposalBody = json_object(&body, r#"{"person_id": …, "basis": …, "facts": …}"#)?;
    let person = PersonId::parse(&body.person_id).map_err(ApiError::InvalidInput)?;
    let record = state.service.governance().propose_credit_record(&by, &person, &body.basis, &body.facts).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "record": record }))))
}

/// A second official approves a proposed credit record.
#[utoipa::path(
    post,
    path = "/v1/credit-records/{record_id}/approve",
    tag = "governance",
    params(("record_id" = String, Path, description = "the record")),
    responses((status = 200, description = "`{record}`, approved", body = Object)),
    security(("staff_key" = []))
)]
pub(crate) async fn approve(
    State(state): State<AppState>,
    by: Actor<may::ApproveDecision>,
    IdInPath(id): IdInPath,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "record": state.service.governance().approve_credit_record(&by, &id).await? })))
}

/// The records made about the person: the person, proxies, or staff with a purpose.
#[utoipa::path(
    get,
    path = "/v1/persons/{person_id}/credit-records",
    tag = "governance",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)"), ("purpose" = Option<String>, Query, description = "staff only: why the data is read, recorded in the person's access log and shown to them")),
    responses((status = 200, description = "`{records}`", body = Object)),
    security(("resident_key" = []), ("staff_key" = []))
)]
pub(crate) async fn of_person(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    reader(&state, &headers, &person, &query, Wanted::Data("credit records")).await?;
    Ok(Json(json!({ "records": state.service.governance().credit_records_of(&person).await? })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct AppealBody {
    text: String,
}

/// The person (or a proxy) appeals within the window.
#[utoipa::path(
    post,
    path = "/v1/persons/{person_id}/credit-records/{record_id}/appeal",
    tag = "governance",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)"), ("record_id" = String, Path, description = "the record")),
    request_body = AppealBody,
    responses((status = 200, description = "`{record}`, appealed", body = Object)),
    security(("resident_key" = []))
)]
pub(crate) async fn appeal(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    IdInPath(id): IdInPath,
    query: QueryParams,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    reader(&state, &headers, &person, &query, Wanted::OwnOnly("credit record appeal")).await?;
    let body: AppealBody = json_object(&body, r#"{"text": …}"#)?;
    Ok(Json(json!({ "record": state.service.governance().appeal_credit_record(&person, &id, &body.text).await? })))
}
