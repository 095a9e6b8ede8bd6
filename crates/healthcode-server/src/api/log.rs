//! The transparency log over HTTP: signed checkpoints, proofs, the entries themselves,
//! and each person's own entries. Everything here is public except a person's own list.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use healthcode_domain::Timestamp;
use healthcode_service::{hashes_base64, PersonLog};
use serde::Serialize;

use crate::api::auth::{reader, Wanted};
use crate::api::extract::{PersonInPath, QueryParams};
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(checkpoint))
        .routes(routes!(key))
        .routes(routes!(checkpoints))
        .routes(routes!(inclusion))
        .routes(routes!(consistency))
        .routes(routes!(entries))
        .routes(routes!(person))
}

/// The most entries or checkpoints one page holds.
const PAGE: u64 = 1000;

/// A signed checkpoint of the log as it is now, as the C2SP signed note itself. Asking
/// writes nothing: a checkpoint newer than the stored ones is signed for the answer only
/// (the scheduler stores one at each tick).
#[utoipa::path(
    get,
    path = "/v1/log/checkpoint",
    tag = "transparency log",
    responses((status = 200, description = "the latest signed checkpoint (C2SP signed note)", body = String, content_type = "text/plain"))
)]
pub(crate) async fn checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    let latest = state.service.log().current_checkpoint().await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], latest.note).into_response())
}

/// The log's public key: `<origin>+<key hash>+<base64 key>`.
#[utoipa::path(
    get,
    path = "/v1/log/key",
    tag = "transparency log",
    responses((status = 200, description = "the log's verifier key (C2SP note verifier key)", body = String, content_type = "text/plain"))
)]
pub(crate) async fn key(State(state): State<AppState>) -> Response {
    let text = format!("{}\n", state.service.log().verifier());
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

/// Stored checkpoints, smallest first.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Checkpoints {
    checkpoints: Vec<Checkpoint>,
}

/// A signed checkpoint of the log as stored.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Checkpoint {
    /// The tree size it commits to.
    size: u64,
    /// The C2SP signed note.
    note: String,
    signed_at: Timestamp,
}

/// An RFC 6962 inclusion proof (audit path) of a leaf.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct InclusionProof {
    index: u64,
    size: u64,
    /// The audit path's hashes, base64, leaf to root.
    proof: Vec<String>,
}

/// An RFC 6962 consistency proof between two tree sizes.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ConsistencyProof {
    from: u64,
    to: u64,
    /// The proof's hashes, base64.
    proof: Vec<String>,
}

/// Leaves of the log, in order.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Entries {
    entries: Vec<Leaf>,
}

/// One leaf: its index and its bytes (a canonical JSON entry), base64.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Leaf {
    index: u64,
    /// The entry's bytes, base64 (standard alphabet, padded).
    data: String,
}

/// Stored checkpoints with a size above `after` (default 0), smallest first.
#[utoipa::path(
    get,
    path = "/v1/log/checkpoints",
    tag = "transparency log",
    params(("after" = Option<u64>, Query, description = "only checkpoints of trees larger than this")),
    responses((status = 200, description = "`{checkpoints: [{size, note, signed_at}]}`", body = Checkpoints))
)]
pub(crate) async fn checkpoints(
    State(state): State<AppState>,
    query: QueryParams,
) -> Result<Json<Checkpoints>, ApiError> {
    let after = query.whole_number("after", Some(0))?;
    let list = state.service.log().checkpoints(after, PAGE as usize).await?;
    let checkpoints =
        list.into_iter().map(|c| Checkpoint { size: c.size, note: c.note, signed_at: c.signed_at }).collect();
    Ok(Json(Checkpoints { checkpoints }))
}

/// `?index=&size=`: the audit path of a leaf in the tree of that size.
#[utoipa::path(
    get,
    path = "/v1/log/proof/inclusion",
    tag = "transparency log",
    params(("index" = u64, Query, description = "the leaf"), ("size" = u64, Query, description = "the tree size of a checkpoint")),
    responses((status = 200, description = "`{index, size, proof}`: RFC 6962 audit path, base64 hashes", body = InclusionProof))
)]
pub(crate) async fn inclusion(
    State(state): State<AppState>,
    query: QueryParams,
) -> Result<Json<InclusionProof>, ApiError> {
    let (index, size) = (query.whole_number("index", None)?, query.whole_number("size", None)?);
    let proof = state.service.log().inclusion_proof(index, size).await?;
    Ok(Json(InclusionProof { index, size, proof: hashes_base64(&proof) }))
}

/// `?from=&to=`: the proof that the tree of size `to` extends the tree of size `from`.
#[utoipa::path(
    get,
    path = "/v1/log/proof/consistency",
    tag = "transparency log",
    params(("from" = u64, Query, description = "the older tree size"), ("to" = u64, Query, description = "the newer tree size")),
    responses((status = 200, description = "`{from, to, proof}`: RFC 6962 consistency proof, base64 hashes", body = ConsistencyProof))
)]
pub(crate) async fn consistency(
    State(state): State<AppState>,
    query: QueryParams,
) -> Result<Json<ConsistencyProof>, ApiError> {
    let (from, to) = (query.whole_number("from", None)?, query.whole_number("to", None)?);
    let proof = state.service.log().consistency_proof(from, to).await?;
    Ok(Json(ConsistencyProof { from, to, proof: hashes_base64(&proof) }))
}

/// `?from=&limit=`: the leaves themselves (base64 of each entry's bytes), to audit.
#[utoipa::path(
    get,
    path = "/v1/log/entries",
    tag = "transparency log",
    params(("from" = Option<u64>, Query, description = "the first index"), ("limit" = Option<u64>, Query, description = "at most this many")),
    responses((status = 200, description = "`{entries: [{index, data}]}`: leaves, base64", body = Entries))
)]
pub(crate) async fn entries(State(state): State<AppState>, query: QueryParams) -> Result<Json<Entries>, ApiError> {
    let from = query.whole_number("from", Some(0))?;
    let limit = query.whole_number("limit", Some(PAGE))?.clamp(1, PAGE);
    let leaves = state.service.log().entries(from, limit as usize).await?;
    let engine = base64::engine::general_purpose::STANDARD;
    let entries = leaves.into_iter().map(|(index, data)| Leaf { index, data: engine.encode(data) }).collect();
    Ok(Json(Entries { entries }))
}

/// A person's own colour changes, with their salt and inclusion proofs.
#[utoipa::path(
    get,
    path = "/v1/persons/{person_id}/log",
    tag = "transparency log",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)"), ("purpose" = Option<String>, Query, description = "staff only: why the data is read, recorded in the person's access log and shown to them")),
    responses((status = 200, description = "the person's colour changes with their log indexes, to check against checkpoints", body = PersonLog)),
    security(("resident_key" = []), ("staff_key" = []))
)]
pub(crate) async fn person(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
) -> Result<Json<PersonLog>, ApiError> {
    reader(&state, &headers, &person, &query, Wanted::Data("history of colour changes")).await?;
    Ok(Json(state.service.residents().person_log(&person).await?))
}
