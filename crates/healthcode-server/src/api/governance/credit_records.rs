//! Credit records for concealment over HTTP: an office proposes one, two provincial
//! officers approve it, the person reads and appeals it. None of it changes a colour.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use healthcode_domain::PersonId;
use healthcode_service::CreditRecord;
use serde::{Deserialize, Serialize};

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

/// A credit record, as it stands after a change.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CreditRecordAnswer {
    record: CreditRecord,
}

/// The credit records made about a person.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CreditRecords {
    records: Vec<CreditRecord>,
}

/// 202: a proposal, which changes nothing until two other provincial officers approve it.
#[utoipa::path(
    post,
    path = "/v1/credit-records",
    tag = "governance",
    request_body = ProposalBody,
    responses((status = 202, description = "`{record}`: proposed; it holds once another official approves", body = CreditRecordAnswer)),
    security(("staff_key" = []))
)]
pub(crate) async fn propose(
    State(state): State<AppState>,
    by: Actor<may::ProposeDecision>,
    body: JsonBody,
) -> Result<(StatusCode, Json<CreditRecordAnswer>), ApiError> {
    let body: ProposalBody = json_object(&body, r#"{"person_id": …, "basis": …, "facts": …}"#)?;
    let person = PersonId::parse(&body.person_id).map_err(ApiError::InvalidInput)?;
    let record = state.service.governance().propose_credit_record(&by, &person, &body.basis, &body.facts).await?;
    Ok((StatusCode::ACCEPTED, Json(CreditRecordAnswer { record })))
}

/// A second official approves a proposed credit record.
#[utoipa::path(
    post,
    path = "/v1/credit-records/{record_id}/approve",
    tag = "governance",
    params(("record_id" = String, Path, description = "the record")),
    responses((status = 200, description = "`{record}`, approved", body = CreditRecordAnswer), (status = 409, description = "`conflict`: the record is made already", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn approve(
    State(state): State<AppState>,
    by: Actor<may::ApproveDecision>,
    IdInPath(id): IdInPath,
) -> Result<Json<CreditRecordAnswer>, ApiError> {
    Ok(Json(CreditRecordAnswer { record: state.service.governance().approve_credit_record(&by, &id).await? }))
}

/// The records made about the person: the person, proxies, or staff with a purpose.
#[utoipa::path(
    get,
    path = "/v1/persons/{person_id}/credit-records",
    tag = "governance",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)"), ("purpose" = Option<String>, Query, description = "staff only: why the data is read, recorded in the person's access log and shown to them")),
    responses((status = 200, description = "`{records}`", body = CreditRecords)),
    security(("resident_key" = []), ("staff_key" = []))
)]
pub(crate) async fn of_person(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
) -> Result<Json<CreditRecords>, ApiError> {
    reader(&state, &headers, &person, &query, Wanted::Data("credit records")).await?;
    Ok(Json(CreditRecords { records: state.service.governance().credit_records_of(&person).await? }))
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
    responses((status = 200, description = "`{record}`, appealed", body = CreditRecordAnswer), (status = 409, description = "`conflict`: the record was appealed already, or its appeal window has closed", body = crate::api::openapi::ErrorBody)),
    security(("resident_key" = []))
)]
pub(crate) async fn appeal(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    IdInPath(id): IdInPath,
    query: QueryParams,
    body: JsonBody,
) -> Result<Json<CreditRecordAnswer>, ApiError> {
    reader(&state, &headers, &person, &query, Wanted::OwnOnly("credit record appeal")).await?;
    let body: AppealBody = json_object(&body, r#"{"text": …}"#)?;
    let record = state.service.governance().appeal_credit_record(&person, &id, &body.text).await?;
    Ok(Json(CreditRecordAnswer { record }))
}
