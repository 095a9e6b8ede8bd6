//! Third-party systems of the extended functions over HTTP: registered and revoked by the
//! province, visible to auditors, and able to check only the card holders who switched
//! their function on, within their registered fields.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use healthcode_domain::{IdDocument, Timestamp, ValidationError};
use serde::Deserialize;
use serde_json::{json, Value};

use super::function;
use crate::api::auth::json_object;
use crate::api::extract::{Actor, IdInPath};
use crate::api::policy::may;
use crate::api::JsonBody;
use crate::{ApiError, AppState};
use healthcode_service::NewThirdParty;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/third-parties", post(register).get(list))
        .route("/v1/third-parties/{username}/revoke", post(revoke))
        .route("/v1/third-party/check", post(check))
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
    by: Actor<may::ManageThirdParties>,
    body: JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
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
    let (registration, key) = state.service.residents().register_third_party(&by, new).await?;
    Ok((StatusCode::CREATED, Json(json!({ "third_party": registration, "api_key": key }))))
}

pub(crate) async fn list(
    State(state): State<AppState>,
    _: Actor<may::ReadThirdParties>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "third_parties": state.service.residents().third_parties().await? })))
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    by: Actor<may::ManageThirdParties>,
    IdInPath(username): IdInPath,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "third_party": state.service.residents().revoke_third_party(&by, &username).await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckBody {
    id_type: String,
    id_number: String,
}

pub(crate) async fn check(
    State(state): State<AppState>,
    account: Actor<may::ThirdPartyCheck>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let body: CheckBody = json_object(&body, r#"{"id_type": "resident_id", "id_number": …}"#)?;
    let document = IdDocument::parse(&body.id_type, &body.id_number).map_err(ApiError::InvalidInput)?;
    match state.service.residents().third_party_check(&account, &document).await {
        Ok(answer) => Ok(Json(json!(answer))),
        // The pseudonym is not for outside systems: say only that no one is registered.
        Err(healthcode_service::ServiceError::UnknownPerson(_)) => {
            Err(ApiError::InvalidInput(ValidationError::field("id_number", "no one is registered with this card")))
        }
        Err(e) => Err(e.into()),
    }
}
