//! Printed cards that last, over HTTP: the holder (or a proxy) prints and revokes theirs;
//! a service counter prints or revokes one for the person in front of it. A card names
//! no colour; a gate reading one asks the server (`/v1/gate/check` with the card as its
//! `code`).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use healthcode_domain::{IdDocument, PersonId, ValidationError};
use healthcode_service::IssuedCard;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::{json_object, reader, Wanted};
use crate::api::extract::{Actor, PersonInPath, QueryParams};
use crate::api::policy::may;
use crate::api::JsonBody;
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/persons/{person_id}/cards", post(print))
        .route("/v1/persons/{person_id}/cards/{card_id}/revoke", post(revoke))
        .route("/v1/residents/cards", post(print_at_counter))
        .route("/v1/residents/cards/revoke", post(revoke_at_counter))
}

/// The card and its QR code as SVG, to print.
fn printed(card: IssuedCard) -> Result<Value, ApiError> {
    let svg = healthcode_token::qr::svg(&card.token).map_err(ApiError::internal)?;
    Ok(json!({ "card": card, "svg": svg }))
}

/// The holder or a proxy prints a card: 201.
pub(crate) async fn print(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let by = reader(&state, &headers, &person, &query, Wanted::OwnOnly("card")).await?;
    let card = state.service.tokens().issue_card(&person, &by).await?;
    Ok((StatusCode::CREATED, Json(printed(card)?)))
}

/// The holder or a proxy revokes a card (lost, or replaced).
pub(crate) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((person, card_id)): Path<(String, String)>,
    query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let person = PersonId::parse(&person).map_err(ApiError::InvalidInput)?;
    let by = reader(&state, &headers, &person, &query, Wanted::OwnOnly("card")).await?;
    let who = by.resident_label().unwrap_or_default();
    let card = state.service.tokens().revoke_card(&person, &card_id, &who).await?;
    Ok(Json(json!({ "card": card })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CounterCardBody {
    id_type: String,
    id_number: String,
    #[serde(default)]
    card_id: Option<String>,
}

/// A counter official prints a card for the person whose papers they checked: 201.
pub(crate) async fn print_at_counter(
    State(state): State<AppState>,
    office: Actor<may::ReplaceResidentKey>,
    body: JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body: CounterCardBody = json_object(&body, r#"{"id_type": …, "id_number": …}"#)?;
    let document = IdDocument::parse(&body.id_type, &body.id_number).map_err(ApiError::InvalidInput)?;
    let (person, card) = state.service.tokens().issue_card_at_counter(&office, &document).await?;
    let mut answer = printed(card)?;
    answer["person_id"] = json!(person);
    Ok((StatusCode::CREATED, Json(answer)))
}

/// A counter official revokes a card of the person in front of them.
pub(crate) async fn revoke_at_counter(
    State(state): State<AppState>,
    office: Actor<may::ReplaceResidentKey>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let body: CounterCardBody = json_object(&body, r#"{"id_type": …, "id_number": …, "card_id": …}"#)?;
    let document = IdDocument::parse(&body.id_type, &body.id_number).map_err(ApiError::InvalidInput)?;
    let card_id = body.card_id.ok_or_else(|| ApiError::InvalidInput(ValidationError::missing("card_id")))?;
    let card = state.service.tokens().revoke_card_at_counter(&office, &document, &card_id).await?;
    Ok(Json(json!({ "card": card })))
}
