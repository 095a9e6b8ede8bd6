//! Alarms over HTTP, for auditors and the provincial office.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::api::extract::{Actor, QueryParams};
use crate::api::policy::may;
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/v1/alarms", get(alarms))
}

pub(crate) async fn alarms(
    State(state): State<AppState>,
    _: Actor<may::ReadAlarms>,
    query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let after = query.get("after").and_then(|a| a.parse::<i64>().ok()).unwrap_or(0);
    Ok(Json(json!({ "alarms": state.service.alarms().list(after, 1000).await? })))
}
