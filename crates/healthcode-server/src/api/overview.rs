//! Figures for everyone: persons, codes by colour and the re-evaluation queue.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/v1/stats", get(stats))
}

/// Persons, codes by colour (every colour, 0 when none) and the re-evaluation queue.
pub(crate) async fn stats(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let stats = state.service.overview().stats().await?;
    let mut codes = json!({});
    for (colour, n) in stats.codes {
        codes[colour.as_str()] = json!(n);
    }
    Ok(Json(json!({ "persons": stats.persons, "codes": codes, "queue": stats.queue })))
}
