//! A person's rights over their data, over HTTP: who read it and why, the contact details
//! officers may read with a purpose, the extended functions they switch on or off, and the
//! erasure of everything about them once no rule needs it.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use healthcode_domain::ExtendedFunction;
use serde::Deserialize;
use serde_json::{json, Value};

use super::function;
use crate::api::auth::{json_object, reader, Wanted};
use crate::api::extract::{PersonInPath, QueryParams};
use crate::api::JsonBody;
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/persons/{person_id}/accesses", get(accesses))
        .route("/v1/persons/{person_id}/details", get(details))
        .route("/v1/persons/{person_id}/consents", get(consents).post(set_consent))
        .route("/v1/persons/{person_id}/erasure", axum::routing::post(erase))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErasureBody {
    confirm: bool,
}

/// Erases everything about the person, at their own request (PIPL art. 47): 200 with
/// what was removed; 409 while a rule may still use their records, saying from when.
pub(crate) async fn erase(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let by = reader(&state, &headers, &person, &query, Wanted::OwnOnly("erasure")).await?;
    let body: ErasureBody = json_object(&body, r#"{"confirm": true}"#)?;
    if !body.confirm {
        return Err(ApiError::InvalidInput(healthcode_domain::ValidationError::field(
            "confirm",
            "an erasure cannot be undone: send {\"confirm\": true} to go ahead",
        )));
    }
    let report = state.service.residents().erase(&person, &by).await?;
    let removed: serde_json::Map<String, Value> = report.removed.iter().map(|(t, n)| (t.clone(), json!(n))).collect();
    Ok(Json(json!({ "erased": true, "at": report.at, "removed": removed, "log_index": report.log_index })))
}

/// Every read of the person's data by someone else, newest first: for the person and
/// those who act for them.
pub(crate) async fn accesses(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    reader(&state, &headers, &person, &query, Wanted::OwnOnly("access log")).await?;
    Ok(Json(json!({ "accesses": state.service.residents().accesses(&person).await? })))
}

/// A person's sealed details (full name, phone), opened: for the person, their proxies,
/// and staff with a purpose (a health officer calling a close contact), each read logged.
pub(crate) async fn details(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    reader(&state, &headers, &person, &query, Wanted::Data("contact details")).await?;
    let details = state.service.residents().personal_details(&person).await?.unwrap_or_default();
    Ok(Json(json!({ "person_id": person, "details": details })))
}

pub(crate) async fn consents(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    reader(&state, &headers, &person, &query, Wanted::OwnOnly("consents")).await?;
    let functions: Vec<&str> = ExtendedFunction::ALL.iter().map(|f| f.as_str()).collect();
    Ok(Json(json!({ "consents": state.service.residents().consents(&person).await?, "functions": functions })))
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
    PersonInPath(person): PersonInPath,
    query: QueryParams,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let by = reader(&state, &headers, &person, &query, Wanted::OwnOnly("consents")).await?;
    let body: ConsentBody = json_object(&body, r#"{"function": "transport_card"|…, "granted": true|false}"#)?;
    let consent = state.service.residents().set_consent(&person, &by, function(&body.function)?, body.granted).await?;
    Ok(Json(json!({ "consent": consent })))
}
