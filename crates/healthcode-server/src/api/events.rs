use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use healthcode_domain::ValidationError;
use healthcode_service::{AtPolicy, IngestReport, RowStatus};
use serde_json::Value;

use crate::api::RawBody;
use crate::{ApiError, AppState};

/// One event. 201 when accepted, 200 when a duplicate of a stored one, 422 when rejected
/// (and the rejection is kept with its reason).
pub(crate) async fn one(State(state): State<AppState>, RawBody(body): RawBody) -> Result<Response, ApiError> {
    let text = String::from_utf8_lossy(&body).into_owned();
    ingest_one(&state, text, "api").await
}

/// One `area_risk` designation; `type` may be left out.
pub(crate) async fn designation(State(state): State<AppState>, RawBody(body): RawBody) -> Result<Response, ApiError> {
    let mut text = String::from_utf8_lossy(&body).into_owned();
    if let Ok(Value::Object(mut object)) = serde_json::from_str::<Value>(&text) {
        match object.get("type").and_then(Value::as_str) {
            None => {
                object.insert("type".into(), Value::String("area_risk".into()));
                text = Value::Object(object).to_string();
            }
            Some("area_risk") => {}
            Some(_) => {
                return Err(ApiError::InvalidEvent(ValidationError::field(
                    "type",
                    "this endpoint takes `area_risk` designations; send other events to /v1/events",
                )))
            }
        }
    }
    ingest_one(&state, text, "api designations").await
}

async fn ingest_one(state: &AppState, text: String, origin: &str) -> Result<Response, ApiError> {
    let is_json = serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok();
    let report = state.service.ingest(&[text], AtPolicy::ServerClock, origin).await?;
    let row = report.rows.into_iter().next().ok_or_else(|| ApiError::Internal("no outcome for the row".into()))?;
    match row.status {
        RowStatus::Accepted => Ok((StatusCode::CREATED, Json(row)).into_response()),
        RowStatus::Duplicate => Ok((StatusCode::OK, Json(row)).into_response()),
        RowStatus::Rejected => {
            let error = ValidationError { field: row.field, message: row.error.unwrap_or_default() };
            Err(if is_json { ApiError::InvalidEvent(error) } else { ApiError::InvalidJson(error.message) })
        }
    }
}

/// NDJSON, one event per line. Each line gets an outcome; `row` is its line number
/// (blank lines are skipped but counted, so numbers match the submitted file).
pub(crate) async fn batch(
    State(state): State<AppState>,
    RawBody(body): RawBody,
) -> Result<Json<IngestReport>, ApiError> {
    let text = String::from_utf8_lossy(&body);
    let (line_numbers, rows): (Vec<usize>, Vec<String>) = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| (i + 1, line.to_string()))
        .unzip();
    if rows.is_empty() {
        return Err(ApiError::InvalidInput(ValidationError::new("the batch is empty: send one JSON event per line")));
    }
    let mut report = state.service.ingest(&rows, AtPolicy::ServerClock, "api batch").await?;
    for outcome in &mut report.rows {
        outcome.row = line_numbers[outcome.row - 1];
    }
    Ok(Json(report))
}
