//! Printed cards that last, over HTTP: the holder (or a proxy) prints and revokes theirs;
//! a service counter prints or revokes one for the person in front of it. A card names
//! no colour; a gate reading one asks the server (`/v1/gate/check` with the card as its
//! `code`).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use healthcode_domain::{IdDocument, PersonId, ValidationError};
use healthcode_service::{CardRecord, IssuedCard};
use serde::{Deserialize, Serialize};

use crate::api::auth::{json_object, reader, Wanted};
use crate::api::extract::{Actor, PersonInPath, QueryParams};
use crate::api::policy::may;
use crate::api::JsonBody;
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(print))
        .routes(routes!(revoke))
        .routes(routes!(print_at_counter))
        .routes(routes!(revoke_at_counter))
}

/// A printed card: the card (its token inside) and its QR code as SVG, to print.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PrintedCard {
    card: IssuedCard,
    /// The card's QR code, an SVG document.
    svg: String,
    /// The person, when a counter printed the card for the papers it checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    person_id: Option<PersonId>,
}

/// A card, as it stands after a change (revoked).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CardAnswer {
    card: CardRecord,
}

/// The card and its QR code as SVG, to print.
fn printed(card: IssuedCard, person_id: Option<PersonId>) -> Result<PrintedCard, ApiError> {
    let svg = healthcode_token::qr::svg(&card.token).map_err(ApiError::internal)?;
    Ok(PrintedCard { card, svg, person_id })
}

/// The holder or a proxy prints a card: 201.
#[utoipa::path(
    post,
    path = "/v1/persons/{person_id}/cards",
    tag = "codes",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)")),
    responses((status = 201, description = "a printed card `{card, svg}` (its token in `card`): a long-lived code for a person without a phone", body = PrintedCard)),
    security(("resident_key" = []))
)]
pub(crate) async fn print(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
) -> Result<(StatusCode, Json<PrintedCard>), ApiError> {
    let by = reader(&state, &headers, &person, &query, Wanted::OwnOnly("card")).await?;
    let card = state.service.tokens().issue_card(&person, &by).await?;
    Ok((StatusCode::CREATED, Json(printed(card, None)?)))
}

/// The holder or a proxy revokes a card (lost, or replaced).
#[utoipa::path(
    post,
    path = "/v1/persons/{person_id}/cards/{card_id}/revoke",
    tag = "codes",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)"), ("card_id" = String, Path, description = "the card")),
    responses((status = 200, description = "`{card}`, revoked", body = CardAnswer), (status = 409, description = "`conflict`: the card is revoked already", body = crate::api::openapi::ErrorBody)),
    security(("resident_key" = []))
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((person, card_id)): Path<(String, String)>,
    query: QueryParams,
) -> Result<Json<CardAnswer>, ApiError> {
    let person = PersonId::parse(&person).map_err(ApiError::InvalidInput)?;
    let by = reader(&state, &headers, &person, &query, Wanted::OwnOnly("card")).await?;
    let who = by.resident_label().unwrap_or_default();
    let card = state.service.tokens().revoke_card(&person, &card_id, &who).await?;
    Ok(Json(CardAnswer { card }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CounterCardBody {
    id_type: String,
    id_number: String,
    #[serde(default)]
    card_id: Option<String>,
}

/// A counter official prints a card for the person whose papers they checked: 201.
#[utoipa::path(
    post,
    path = "/v1/residents/cards",
    tag = "codes",
    request_body = CounterCardBody,
    responses((status = 201, description = "a card printed at a community service point `{card, svg, person_id}`", body = PrintedCard)),
    security(("staff_key" = []))
)]
pub(crate) async fn print_at_counter(
    State(state): State<AppState>,
    office: Actor<may::ReplaceResidentKey>,
    body: JsonBody,
) -> Result<(StatusCode, Json<PrintedCard>), ApiError> {
    let body: CounterCardBody = json_object(&body, r#"{"id_type": …, "id_number": …}"#)?;
    let document = IdDocument::parse(&body.id_type, &body.id_number).map_err(ApiError::InvalidInput)?;
    let (person, card) = state.service.tokens().issue_card_at_counter(&office, &document).await?;
    Ok((StatusCode::CREATED, Json(printed(card, Some(person))?)))
}

/// A counter official revokes a card of the person in front of them.
#[utoipa::path(
    post,
    path = "/v1/residents/cards/revoke",
    tag = "codes",
    request_body = CounterCardBody,
    responses((status = 200, description = "`{card}`, revoked", body = CardAnswer), (status = 409, description = "`conflict`: the card is revoked already", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn revoke_at_counter(
    State(state): State<AppState>,
    office: Actor<may::ReplaceResidentKey>,
    body: JsonBody,
) -> Result<Json<CardAnswer>, ApiError> {
    let body: CounterCardBody = json_object(&body, r#"{"id_type": …, "id_number": …, "card_id": …}"#)?;
    let document = IdDocument::parse(&body.id_type, &body.id_number).map_err(ApiError::InvalidInput)?;
    let card_id = body.card_id.ok_or_else(|| ApiError::InvalidInput(ValidationError::missing("card_id")))?;
    let card = state.service.tokens().revoke_card_at_counter(&office, &document, &card_id).await?;
    Ok(Json(CardAnswer { card }))
}
