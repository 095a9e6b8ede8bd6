//! Third-party systems of the extended functions over HTTP: registered and revoked by the
//! province, visible to auditors, and able to check only the card holders who switched
//! their function on, within their registered fields.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use healthcode_domain::{IdDocument, Timestamp, ValidationError};
use serde::{Deserialize, Serialize};

use super::function;
use crate::api::auth::json_object;
use crate::api::extract::{Actor, IdInPath};
use crate::api::policy::may;
use crate::api::JsonBody;
use crate::{ApiError, AppState};
use healthcode_service::{NewThirdParty, ThirdParty, ThirdPartyAnswer};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(register, list)).routes(routes!(revoke)).routes(routes!(check))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ThirdPartyBody {
    username: String,
    function: String,
    fields: Vec<String>,
    purpose: String,
    agreement: String,
    expires_at: String,
}

/// A third-party system just registered, with its key.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RegisteredThirdParty {
    third_party: ThirdParty,
    /// Shown this once.
    api_key: String,
}

/// Third-party systems and what each may ask.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ThirdParties {
    third_parties: Vec<ThirdParty>,
}

/// A third-party system, as it stands after a change (revoked).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ThirdPartyStanding {
    third_party: ThirdParty,
}

/// Registers a third-party system; its API key is shown once.
#[utoipa::path(
    post,
    path = "/v1/third-parties",
    tag = "residents",
    request_body = ThirdPartyBody,
    responses((status = 201, description = "`{third_party, api_key}`: the key is shown once", body = RegisteredThirdParty)),
    security(("staff_key" = []))
)]
pub(crate) async fn register(
    State(state): State<AppState>,
    by: Actor<may::ManageThirdParties>,
    body: JsonBody,
) -> Result<(StatusCode, Json<RegisteredThirdParty>), ApiError> {
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
    Ok((StatusCode::CREATED, Json(RegisteredThirdParty { third_party: registration, api_key: key })))
}

/// Third-party systems (extended functions) and what each may ask.
#[utoipa::path(
    get,
    path = "/v1/third-parties",
    tag = "residents",
    responses((status = 200, description = "`{third_parties}`", body = ThirdParties)),
    security(("staff_key" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    _: Actor<may::ReadThirdParties>,
) -> Result<Json<ThirdParties>, ApiError> {
    Ok(Json(ThirdParties { third_parties: state.service.residents().third_parties().await? }))
}

/// Revokes a third-party system's access.
#[utoipa::path(
    post,
    path = "/v1/third-parties/{username}/revoke",
    tag = "residents",
    params(("username" = String, Path, description = "the third party's account")),
    responses((status = 200, description = "`{third_party}`, revoked", body = ThirdPartyStanding)),
    security(("staff_key" = []))
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    by: Actor<may::ManageThirdParties>,
    IdInPath(username): IdInPath,
) -> Result<Json<ThirdPartyStanding>, ApiError> {
    Ok(Json(ThirdPartyStanding { third_party: state.service.residents().revoke_third_party(&by, &username).await? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CheckBody {
    id_type: String,
    id_number: String,
}

/// A third-party system asks what its function may know of a person (only with their consent).
#[utoipa::path(
    post,
    path = "/v1/third-party/check",
    tag = "residents",
    request_body = CheckBody,
    responses((status = 200, description = "what the third party may know for its function (consent permitting)", body = ThirdPartyAnswer)),
    security(("staff_key" = []))
)]
pub(crate) async fn check(
    State(state): State<AppState>,
    account: Actor<may::ThirdPartyCheck>,
    body: JsonBody,
) -> Result<Json<ThirdPartyAnswer>, ApiError> {
    let body: CheckBody = json_object(&body, r#"{"id_type": "resident_id", "id_number": …}"#)?;
    let document = IdDocument::parse(&body.id_type, &body.id_number).map_err(ApiError::InvalidInput)?;
    match state.service.residents().third_party_check(&account, &document).await {
        Ok(answer) => Ok(Json(answer)),
        // The pseudonym is not for outside systems: say only that no one is registered.
        Err(healthcode_service::ServiceError::UnknownPerson(_)) => {
            Err(ApiError::InvalidInput(ValidationError::field("id_number", "no one is registered with this card")))
        }
        Err(e) => Err(e.into()),
    }
}
