//! Family proxies over HTTP (家庭代管): a resident acts for a family member, gives them a
//! claim code for their own key, and either side ends the link.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use healthcode_domain::{PersonId, Timestamp, ValidationError};
use serde::Serialize;

use super::registration::{registration_in, text_in};
use crate::api::auth::bearer;
use crate::api::extract::{IdInPath, PersonInPath};
use crate::api::JsonBody;
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

/// What a dependant's registration takes besides a registration's own fields.
pub(crate) const DEPENDANT_FIELDS: &[&str] = &["relation", "dependant_key"];

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(add_dependant)).routes(routes!(end_proxy)).routes(routes!(claim_code))
}

/// The resident a resident key belongs to.
async fn resident(state: &AppState, headers: &HeaderMap) -> Result<PersonId, ApiError> {
    Ok(state.service.residents().resident(bearer(headers, "resident key")?).await?)
}

/// A family member now in the caller's care.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Dependant {
    person_id: PersonId,
    /// Whether they were registered just now (201) rather than already (200).
    created: bool,
    /// Who they are to the caller (父亲, 女儿 …).
    relation: String,
}

/// A one-time code with which a dependant takes over their own code.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct IssuedClaimCode {
    person_id: PersonId,
    claim_code: String,
    expires_at: Timestamp,
}

/// Starts acting for a family member: registers them if they are new (an elderly parent
/// without a phone), or, if registered, with their agreement shown by their key.
#[utoipa::path(
    post,
    path = "/v1/me/dependants",
    tag = "residents",
    request_body = super::registration::DependantBody,
    responses((status = 201, description = "`{person_id, created: true, relation}`", body = Dependant), (status = 200, description = "`{person_id, created: false, relation}`: already registered, now also in your care", body = Dependant), (status = 409, description = "`conflict`: the caller acts for as many persons as one may, or as many act for this person as may", body = crate::api::openapi::ErrorBody)),
    security(("resident_key" = []))
)]
pub(crate) async fn add_dependant(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<(StatusCode, Json<Dependant>), ApiError> {
    let proxy = resident(&state, &headers).await?;
    let (registration, object) = registration_in(&body, DEPENDANT_FIELDS)?;
    let relation =
        text_in(&object, "relation")?.ok_or_else(|| ApiError::InvalidInput(ValidationError::missing("relation")))?;
    let dependant_key = text_in(&object, "dependant_key")?;
    let (person, created) =
        state.service.residents().add_dependant(&proxy, registration, relation, dependant_key).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(Dependant { person_id: person.id, created, relation: relation.trim().to_string() })))
}

/// Ends a proxy link; the proxy or the person they act for may.
#[utoipa::path(
    delete,
    path = "/v1/persons/{person_id}/proxies/{proxy_id}",
    tag = "residents",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)"), ("proxy_id" = String, Path, description = "the proxy's person id")),
    responses((status = 204, description = "the proxy no longer acts for the person"), (status = 409, description = "`conflict`: there is no such proxy link", body = crate::api::openapi::ErrorBody)),
    security(("resident_key" = []))
)]
pub(crate) async fn end_proxy(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(dependant): PersonInPath,
    IdInPath(proxy): IdInPath,
) -> Result<StatusCode, ApiError> {
    let caller = resident(&state, &headers).await?;
    let proxy = PersonId::parse(&proxy).map_err(ApiError::InvalidInput)?;
    state.service.residents().end_proxy(&caller, &proxy, &dependant).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A one-time claim code for a person the caller acts for and who holds no key of their
/// own: with it, the person registers and gets their key.
#[utoipa::path(
    post,
    path = "/v1/persons/{person_id}/claim-code",
    tag = "residents",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)")),
    responses((status = 201, description = "`{person_id, claim_code, expires_at}`: for the dependant to take over their code", body = IssuedClaimCode), (status = 409, description = "`conflict`: the person holds a key of their own already", body = crate::api::openapi::ErrorBody)),
    security(("resident_key" = []))
)]
pub(crate) async fn claim_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
) -> Result<(StatusCode, Json<IssuedClaimCode>), ApiError> {
    let residents = state.service.residents();
    let proxy = residents.reader_for_resident(bearer(&headers, "resident key")?, &person).await?;
    let code = residents.issue_claim_code(&proxy, &person).await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedClaimCode { person_id: person, claim_code: code.claim_code, expires_at: code.expires_at }),
    ))
}
