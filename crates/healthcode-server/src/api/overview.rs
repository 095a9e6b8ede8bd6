use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};

use crate::{ApiError, AppState};

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// Rejected inputs, oldest first, `limit` (at most 1000) after id `after`.
pub(crate) async fn rejections(
    State(state): State<AppState>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let query = query.map_err(|e| ApiError::InvalidInput(healthcode_domain::ValidationError::new(e.body_text())))?;
    let number = |name: &str, default: i64| -> Result<i64, ApiError> {
        match query.get(name) {
            None => Ok(default),
            Some(v) => v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                ApiError::InvalidInput(healthcode_domain::ValidationError::field(
                    name,
                    format!("`{name}` must be a whole number of at least 0"),
                ))
            }),
        }
    };
    let after = number("after", 0)?;
    let limit = number("limit", 100)?.clamp(1, 1000) as usize;
    let rejections = state.service.store().rejections(after, limit).await.map_err(internal)?;
    let next_after = (rejections.len() == limit).then(|| rejections.last().map(|r| r.id)).flatten();
    Ok(Json(json!({"rejections": rejections, "next_after": next_after})))
}

/// The active rule set, published read-only.
pub(crate) async fn rules(State(state): State<AppState>) -> Json<Value> {
    let rules = state.service.rules();
    let list: Vec<Value> = rules.rules().map(|r| json!({"id": r.id, "colour": r.colour, "title": r.title})).collect();
    Json(json!({
        "name": rules.name(),
        "version": rules.version(),
        "digest": rules.digest(),
        "rules": list,
        "source": rules.file(),
    }))
}

pub(crate) async fn stats(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let store = state.service.store();
    let mut codes = json!({"green": 0, "yellow": 0, "orange": 0, "red": 0});
    for (colour, n) in store.colour_counts().await.map_err(internal)? {
        codes[colour.as_str()] = json!(n);
    }
    Ok(Json(json!({
        "persons": store.person_count().await.map_err(internal)?,
        "codes": codes,
        "queue": store.queue_len().await.map_err(internal)?,
    })))
}
