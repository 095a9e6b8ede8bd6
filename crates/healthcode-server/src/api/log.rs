//! The transparency log over HTTP: signed checkpoints, proofs, the entries themselves,
//! and each person's own entries. Everything here is public except a person's own list.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use healthcode_domain::ValidationError;
use healthcode_service::{hashes_base64, PersonLog};
use serde_json::{json, Value};

use crate::api::auth::{reader, Wanted};
use crate::api::extract::{PersonInPath, QueryParams};
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/log/checkpoint", get(checkpoint))
        .route("/v1/log/key", get(key))
        .route("/v1/log/checkpoints", get(checkpoints))
        .route("/v1/log/proof/inclusion", get(inclusion))
        .route("/v1/log/proof/consistency", get(consistency))
        .route("/v1/log/entries", get(entries))
        .route("/v1/persons/{person_id}/log", get(person))
}

/// The most entries or checkpoints one page holds.
const PAGE: u64 = 1000;

fn number(query: &QueryParams, name: &str, default: Option<u64>) -> Result<u64, ApiError> {
    match (query.get(name), default) {
        (Some(v), _) => v.trim().parse::<u64>().map_err(|_| {
            ApiError::InvalidInput(ValidationError::field(
                name,
                format!("`{name}` must be a whole number of at least 0"),
            ))
        }),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(ApiError::InvalidInput(ValidationError::missing(name))),
    }
}

/// A signed checkpoint of the log as it is now, as the C2SP signed note itself. Asking
/// writes nothing: a checkpoint newer than the stored ones is signed for the answer only
/// (the scheduler stores one at each tick).
pub(crate) async fn checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    let latest = state.service.log().current_checkpoint().await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], latest.note).into_response())
}

/// The log's public key: `<origin>+<key hash>+<base64 key>`.
pub(crate) async fn key(State(state): State<AppState>) -> Response {
    let text = format!("{}\n", state.service.log().verifier());
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

/// Stored checkpoints with a size above `after` (default 0), smallest first.
pub(crate) async fn checkpoints(State(state): State<AppState>, query: QueryParams) -> Result<Json<Value>, ApiError> {
    let after = number(&query, "after", Some(0))?;
    let list = state.service.log().checkpoints(after, PAGE as usize).await?;
    let list: Vec<Value> =
        list.into_iter().map(|c| json!({"size": c.size, "note": c.note, "signed_at": c.signed_at})).collect();
    Ok(Json(json!({ "checkpoints": list })))
}

/// `?index=&size=`: the audit path of a leaf in the tree of that size.
pub(crate) async fn inclusion(State(state): State<AppState>, query: QueryParams) -> Result<Json<Value>, ApiError> {
    let (index, size) = (number(&query, "index", None)?, number(&query, "size", None)?);
    let proof = state.service.log().inclusion_proof(index, size).await?;
    Ok(Json(json!({"index": index, "size": size, "proof": hashes_base64(&proof)})))
}

/// `?from=&to=`: the proof that the tree of size `to` extends the tree of size `from`.
pub(crate) async fn consistency(State(state): State<AppState>, query: QueryParams) -> Result<Json<Value>, ApiError> {
    let (from, to) = (number(&query, "from", None)?, number(&query, "to", None)?);
    let proof = state.service.log().consistency_proof(from, to).await?;
    Ok(Json(json!({"from": from, "to": to, "proof": hashes_base64(&proof)})))
}

/// `?from=&limit=`: the leaves themselves (base64 of each entry's bytes), to audit.
pub(crate) async fn entries(State(state): State<AppState>, query: QueryParams) -> Result<Json<Value>, ApiError> {
    let from = number(&query, "from", Some(0))?;
    let limit = number(&query, "limit", Some(PAGE))?.clamp(1, PAGE);
    let leaves = state.service.log().entries(from, limit as usize).await?;
    let engine = base64::engine::general_purpose::STANDARD;
    let list: Vec<Value> =
        leaves.into_iter().map(|(i, data)| json!({"index": i, "data": engine.encode(data)})).collect();
    Ok(Json(json!({ "entries": list })))
}

/// A person's own colour changes, with their salt and inclusion proofs.
pub(crate) async fn person(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
) -> Result<Json<PersonLog>, ApiError> {
    reader(&state, &headers, &person, &query, Wanted::Data("history of colour changes")).await?;
    Ok(Json(state.service.residents().person_log(&person).await?))
}
