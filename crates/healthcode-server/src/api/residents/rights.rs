//! A person's rights over their data, over HTTP: who read it and why, the contact details
//! officers may read with a purpose, the extended functions they switch on or off, and the
//! erasure of everything about them once no rule needs it.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use std::collections::BTreeMap;

use healthcode_domain::{ExtendedFunction, PersonId, Timestamp};
use healthcode_service::PersonalDetails;
use healthcode_store::{Consent, NewAccess};
use serde::{Deserialize, Serialize};

use super::function;
use crate::api::auth::{json_object, reader, Wanted};
use crate::api::extract::{PersonInPath, QueryParams};
use crate::api::JsonBody;
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(accesses))
        .routes(routes!(details))
        .routes(routes!(consents, set_consent))
        .routes(routes!(erase))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ErasureBody {
    confirm: bool,
}

/// What an erasure removed.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Erased {
    /// `true`.
    erased: bool,
    at: Timestamp,
    /// Rows removed, by table.
    removed: BTreeMap<String, u64>,
    /// The erasure's entry in the transparency log.
    #[schema(required = true)]
    log_index: Option<u64>,
}

/// Who read the person's data, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Accesses {
    accesses: Vec<NewAccess>,
}

/// A person's sealed details, opened.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Details {
    person_id: PersonId,
    details: PersonalDetails,
}

/// The person's consents, and every extended function there is.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Consents {
    consents: Vec<Consent>,
    functions: Vec<ExtendedFunction>,
}

/// A consent, as it stands after a change.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ConsentAnswer {
    consent: Consent,
}

/// Erases everything about the person, at their own request (PIPL art. 47): 200 with
/// what was removed; 409 while a rule may still use their records, saying from when.
#[utoipa::path(
    post,
    path = "/v1/persons/{person_id}/erasure",
    tag = "residents",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)")),
    request_body = ErasureBody,
    responses((status = 200, description = "`{erased, at, removed, log_index}`", body = Erased), (status = 409, description = "`conflict`: a rule may still use the person's records; the message says from when they can be erased", body = crate::api::openapi::ErrorBody)),
    security(("resident_key" = []))
)]
pub(crate) async fn erase(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
    body: JsonBody,
) -> Result<Json<Erased>, ApiError> {
    let by = reader(&state, &headers, &person, &query, Wanted::OwnOnly("erasure")).await?;
    let body: ErasureBody = json_object(&body, r#"{"confirm": true}"#)?;
    if !body.confirm {
        return Err(ApiError::InvalidInput(healthcode_domain::ValidationError::field(
            "confirm",
            "an erasure cannot be undone: send {\"confirm\": true} to go ahead",
        )));
    }
    let report = state.service.residents().erase(&person, &by).await?;
    let removed = report.removed.into_iter().collect();
    Ok(Json(Erased { erased: true, at: report.at, removed, log_index: report.log_index }))
}

/// Every read of the person's data by someone else, newest first: for the person and
/// those who act for them.
#[utoipa::path(
    get,
    path = "/v1/persons/{person_id}/accesses",
    tag = "residents",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)")),
    responses((status = 200, description = "`{accesses}`: who read this person's data, when and why", body = Accesses)),
    security(("resident_key" = []))
)]
pub(crate) async fn accesses(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
) -> Result<Json<Accesses>, ApiError> {
    reader(&state, &headers, &person, &query, Wanted::OwnOnly("access log")).await?;
    Ok(Json(Accesses { accesses: state.service.residents().accesses(&person).await? }))
}

/// A person's sealed details (full name, phone), opened: for the person, their proxies,
/// and staff with a purpose (a health officer calling a close contact), each read logged.
#[utoipa::path(
    get,
    path = "/v1/persons/{person_id}/details",
    tag = "residents",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)"), ("purpose" = Option<String>, Query, description = "staff only: why the data is read, recorded in the person's access log and shown to them")),
    responses((status = 200, description = "`{person_id, details}`: what is held about the person", body = Details)),
    security(("resident_key" = []), ("staff_key" = []))
)]
pub(crate) async fn details(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
) -> Result<Json<Details>, ApiError> {
    reader(&state, &headers, &person, &query, Wanted::Data("contact details")).await?;
    let details = state.service.residents().personal_details(&person).await?.unwrap_or_default();
    Ok(Json(Details { person_id: person, details }))
}

/// The person's consents to each extended function (all off until switched on).
#[utoipa::path(
    get,
    path = "/v1/persons/{person_id}/consents",
    tag = "residents",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)")),
    responses((status = 200, description = "`{consents, functions}`", body = Consents)),
    security(("resident_key" = []))
)]
pub(crate) async fn consents(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
) -> Result<Json<Consents>, ApiError> {
    reader(&state, &headers, &person, &query, Wanted::OwnOnly("consents")).await?;
    let consents = state.service.residents().consents(&person).await?;
    Ok(Json(Consents { consents, functions: ExtendedFunction::ALL.to_vec() }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ConsentBody {
    function: String,
    granted: bool,
}

/// Switches an extended function on or off for the person, with immediate effect.
#[utoipa::path(
    post,
    path = "/v1/persons/{person_id}/consents",
    tag = "residents",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)")),
    request_body = ConsentBody,
    responses((status = 200, description = "`{consent}`", body = ConsentAnswer), (status = 409, description = "`conflict`: the function was never switched on", body = crate::api::openapi::ErrorBody)),
    security(("resident_key" = []))
)]
pub(crate) async fn set_consent(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
    body: JsonBody,
) -> Result<Json<ConsentAnswer>, ApiError> {
    let by = reader(&state, &headers, &person, &query, Wanted::OwnOnly("consents")).await?;
    let body: ConsentBody = json_object(&body, r#"{"function": "transport_card"|…, "granted": true|false}"#)?;
    let consent = state.service.residents().set_consent(&person, &by, function(&body.function)?, body.granted).await?;
    Ok(Json(ConsentAnswer { consent }))
}
