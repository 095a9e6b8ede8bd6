//! Figures for everyone: persons, codes by colour and the re-evaluation queue.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stats))
}

/// Persons, codes by colour (every colour, 0 when none) and the re-evaluation queue.
#[utoipa::path(
    get,
    path = "/v1/stats",
    tag = "public figures",
    responses((status = 200, description = "`{persons, codes, queue}`: public counts, rounded", body = Object))
)]
pub(crate) async fn stats(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let stats = state.service.overview().stats().await?;
    let mut codes = json!({});
    for (colour, n) in stats.codes {
        codes[colour.as_str()] = json!(n);
    }
    Ok(Json(json!({ "persons": stats.persons, "codes": codes, "queue": stats.queue })))
}
