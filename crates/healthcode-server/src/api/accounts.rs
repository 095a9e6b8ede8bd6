//! Accounts over HTTP: staff sign in and out (a session key), and any key says whose it is.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use healthcode_domain::{PersonId, Timestamp};
use healthcode_service::Family;
use healthcode_store::Account;
use serde::{Deserialize, Serialize};

use crate::api::auth::{bearer, json_object};
use crate::api::JsonBody;
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(logout)).routes(routes!(me))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
}

/// A session, for `Authorization: Bearer`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Session {
    /// The session token.
    token: String,
    expires_at: Timestamp,
}

/// Signs a staff account in with its password: a session token for `Authorization: Bearer`.
#[utoipa::path(
    post,
    path = "/v1/login",
    tag = "accounts",
    request_body = LoginBody,
    responses((status = 200, description = "a session token for `Authorization: Bearer`", body = Session), (status = 401, description = "wrong username or password", body = crate::api::openapi::ErrorBody), (status = 429, description = "too many sign-ins from this address; retry later", body = crate::api::openapi::ErrorBody))
)]
pub(crate) async fn login(State(state): State<AppState>, body: JsonBody) -> Result<Json<Session>, ApiError> {
    let body: LoginBody = json_object(&body, r#"{"username": …, "password": …}"#)?;
    let (token, expires_at) = state.service.accounts().login(&body.username, &body.password).await?;
    Ok(Json(Session { token, expires_at }))
}

/// Ends the session whose token the request presents.
#[utoipa::path(
    post,
    path = "/v1/logout",
    tag = "accounts",
    responses((status = 204, description = "the session has ended"), (status = 409, description = "`conflict`: the key is an API key, not a session; it stays valid", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    state.service.accounts().logout(bearer(&headers, "session key")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whose key it is: a resident's (with their family) or an account's.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(crate) enum KeyHolder {
    Resident { resident: Resident },
    Account { account: Account },
}

/// A resident, as their own key shows them.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Resident {
    person_id: PersonId,
    /// Those the resident acts for, and those who act for them.
    family: Family,
}

/// Who the key belongs to: a staff or system account, or a resident with their family.
#[utoipa::path(
    get,
    path = "/v1/me",
    tag = "accounts",
    responses((status = 200, description = "`{resident}` for a resident key, `{account}` for a staff key", body = KeyHolder)),
    security(("resident_key" = []), ("staff_key" = []))
)]
pub(crate) async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<KeyHolder>, ApiError> {
    let key = bearer(&headers, "resident key, session or API key")?;
    if key.starts_with(healthcode_service::RESIDENT_KEY_PREFIX) {
        let person = state.service.residents().resident(key).await?;
        let family = state.service.residents().family(&person).await?;
        return Ok(Json(KeyHolder::Resident { resident: Resident { person_id: person, family } }));
    }
    let account = state.service.accounts().authenticate(key).await?;
    Ok(Json(KeyHolder::Account { account }))
}
