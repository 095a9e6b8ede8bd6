//! Credit records for concealment over HTTP: an office proposes one, two provincial
//! officers approve it, the person reads and appeals it. None of it changes a colour.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use healthcode_domain::PersonId;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::{json_object, reader, Wanted};
use crate::api::extract::{Actor, IdInPath, PersonInPath, QueryParams};
use crate::api::policy::may;
use crate::api::JsonBody;
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/credit-records", post(propose))
        .route("/v1/credit-records/{record_id}/approve", post(approve))
        .route("/v1/persons/{person_id}/credit-records", get(of_person))
        .route("/v1/persons/{person_id}/credit-records/{record_id}/appeal", post(appeal))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProposalBody {
    person_id: String,
    basis: String,
    facts: String,
}

/// 202: a proposal, which changes nothing until two other provincial officers approve it.
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

pub(crate) async fn approve(
    State(state): State<AppState>,
    by: Actor<may::ApproveDecision>,
    IdInPath(id): IdInPath,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "record": state.service.governance().approve_credit_record(&by, &id).await? })))
}

/// The records made about the person: the person, proxies, or staff with a purpose.
pub(crate) async fn of_person(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    reader(&state, &headers, &person, &query, Wanted::Data("credit records")).await?;
    Ok(Json(json!({ "records": state.service.governance().credit_records_of(&person).await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppealBody {
    text: String,
}

/// The person (or a proxy) appeals within the window.
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
