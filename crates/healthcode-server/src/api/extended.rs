//! Extended functions: a resident switches each on or off; the province registers and
//! revokes the outside systems that use them; such a system checks a card holder within
//! its scope.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use healthcode_domain::{ExtendedFunction, IdDocument, Timestamp, ValidationError};
use healthcode_service::NewThirdParty;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::{json_object, person_and_reader, Wanted};
use crate::api::policy::{allow, Action};
use crate::api::{id_in_path, JsonBody, RawQuery};
use crate::{ApiError, AppState};

fn function(text: &str) -> Result<ExtendedFunction, ApiError> {
    ExtendedFunction::parse_named(text).map_err(ApiError::InvalidInput)
}

pub(crate) async fn consents(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    query: RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (person, _) = person_and_reader(&state, &headers, path, query, Wanted::OwnOnly("consents")).await?;
    let functions: Vec<&str> = ExtendedFunction::ALL.iter().map(|f| f.as_str()).collect();
    Ok(Json(json!({ "consents": state.service.consents(&person).await?, "functions": functions })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentBody {
    function: String,
    granted: bool,
}

pub(crate) async fn set_consent(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    query: RawQuery,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let (person, by) = person_and_reader(&state, &headers, path, query, Wanted::OwnOnly("consents")).await?;
    let body: ConsentBody = json_object(&body, r#"{"function": "transport_card"|…, "granted": true|false}"#)?;
    let consent = state.service.set_consent(&person, &by, function(&body.function)?, body.granted).await?;
    Ok(Json(json!({ "consent": consent })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThirdPartyBody {
    username: String,
    function: String,
    fields: Vec<String>,
    purpose: String,
    agreement: String,
    expires_at: String,
}

pub(crate) async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let by = allow(&state, &headers, Action::ManageThirdParties).await?;
    let shape = r#"{"username": …, "function": …, "fields": ["colour", "masked_name"], "purpose": …, "agreement": …, "expires_at": …}"#;
    let body: ThirdPartyBody = json_object(&body, shape)?;
    let new = NewThirdParty {
        username: body.username,
        function: function(&body.function)?,
        fields: body.fields,
        purpose: body.purpose,
        agreement: body.agreement,
        expires_at: Timestamp::parse_field("expires_at", &body.expires_at).map_err(ApiError::InvalidInput)?,
    };
    let (registration, key) = state.service.register_third_party(&by, new).await?;
    Ok((StatusCode::CREATED, Json(json!({ "third_party": registration, "api_key": key }))))
}

pub(crate) async fn list(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    allow(&state, &headers, Action::ReadThirdParties).await?;
    Ok(Json(json!({ "third_parties": state.service.third_parties().await? })))
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let by = allow(&state, &headers, Action::ManageThirdParties).await?;
    let username = id_in_path(path, "username")?;
    Ok(Json(json!({ "third_party": state.service.revoke_third_party(&by, &username).await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckBody {
    id_type: String,
    id_number: String,
}

pub(crate) async fn check(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let account = allow(&state, &headers, Action::ThirdPartyCheck).await?;
    let body: CheckBody = json_object(&body, r#"{"id_type": "resident_id", "id_number": …}"#)?;
    let document = IdDocument::parse(&body.id_type, &body.id_number).map_err(ApiError::InvalidInput)?;
    match state.service.third_party_check(&account, &document).await {
        Ok(answer) => Ok(Json(json!(answer))),
        // The pseudonym is not for outside systems: say only that no one is registered.
        Err(healthcode_service::ServiceError::UnknownPerson(_)) => {
            Err(ApiError::InvalidInput(ValidationError::field("id_number", "no one is registered with this card")))
        }
        Err(e) => Err(e.into()),
    }
}
