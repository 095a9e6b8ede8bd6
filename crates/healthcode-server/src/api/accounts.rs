//! Accounts over HTTP: staff sign in and out (a session key), and any key says whose it is.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::{bearer, json_object};
use crate::api::JsonBody;
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/v1/login", post(login)).route("/v1/logout", post(logout)).route("/v1/me", get(me))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
}

pub(crate) async fn login(State(state): State<AppState>, body: JsonBody) -> Result<Json<Value>, ApiError> {
    let body: LoginBody = json_object(&body, r#"{"username": …, "password": …}"#)?;
    let (token, expires_at) = state.service.accounts().login(&body.username, &body.password).await?;
    Ok(Json(json!({"token": token, "expires_at": expires_at})))
}

pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    state.service.accounts().logout(bearer(&headers, "session key")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who the key belongs to: a staff or system account, or a resident with their family.
pub(crate) async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let key = bearer(&headers, "resident key, session or API key")?;
    if key.starts_with(healthcode_service::RESIDENT_KEY_PREFIX) {
        let person = state.service.residents().resident(key).await?;
        let family = state.service.residents().family(&person).await?;
        return Ok(Json(json!({ "resident": { "person_id": person, "family": family } })));
    }
    let account = state.service.accounts().authenticate(key).await?;
    Ok(Json(json!({ "account": account })))
}
