//! The JSON API, one module per resource.

mod auth;
mod body;
mod codes;
mod collection;
mod events;
mod extended;
mod feeds;
mod log;
mod overview;
mod persons;
pub(crate) mod policy;
mod residents;
mod staff;
mod tokens;
pub(crate) mod venues;

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use axum::routing::{get, post};
use axum::Router;
use healthcode_domain::{Timestamp, ValidationError};
use std::collections::HashMap;

use crate::{ApiError, AppState};

pub(crate) use body::{BatchBody, JsonBody};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }))
        .route("/v1/persons", post(persons::register))
        .route("/v1/collection-rules", get(collection::rules))
        .route("/v1/persons/{person_id}/code", get(codes::code))
        .route("/v1/events", post(events::one))
        .route("/v1/events/batch", post(events::batch))
        .route("/v1/feeds/{batch_id}", post(feeds::upload).get(feeds::status))
        .route("/v1/designations", post(events::designation))
        .route("/v1/designations/proposals", get(events::designation_proposals))
        .route("/v1/designations/proposals/{proposal_id}/approve", post(events::approve_designation))
        .route("/v1/rejections", get(overview::rejections))
        .route("/v1/rules", get(overview::rules))
        .route("/v1/stats", get(overview::stats))
        .route("/v1/persons/{person_id}/token", get(tokens::token))
        .route("/v1/persons/{person_id}/qr.svg", get(tokens::qr_svg))
        .route("/v1/persons/{person_id}/qr.png", get(tokens::qr_png))
        .route("/v1/trust-list", get(tokens::trust_list))
        .route("/v1/verify", post(tokens::verify))
        .route("/v1/venues", post(venues::register))
        .route("/v1/venues/{venue_id}", get(venues::venue))
        .route("/v1/venues/{venue_id}/code", get(venues::code))
        .route("/v1/venues/{venue_id}/devices", post(venues::register_device))
        .route("/v1/venues/{venue_id}/checkins/today", get(venues::checkin_counts))
        .route("/v1/checkins", post(venues::scan))
        .route("/v1/gate/check", post(venues::gate))
        .route("/v1/devices", get(venues::devices))
        .route("/v1/devices/{device_id}/approve", post(venues::approve_device))
        .route("/v1/login", post(staff::login))
        .route("/v1/logout", post(staff::logout))
        .route("/v1/me", get(staff::me))
        .route("/v1/decisions", post(staff::propose).get(staff::decisions))
        .route("/v1/decisions/{decision_id}/approve", post(staff::approve))
        .route("/v1/decisions/{decision_id}/persons", get(staff::decision_persons))
        .route("/v1/alarms", get(staff::alarms))
        .route("/v1/traces", post(staff::trace))
        .route("/v1/traces/{trace_id}", get(staff::trace_by_id))
        .route("/v1/traces/{trace_id}/confirm", post(staff::confirm_trace))
        .route("/v1/traces/{trace_id}/approve", post(staff::approve_trace))
        .route("/v1/rules/proposals", post(staff::propose_rules).get(staff::rule_proposals))
        .route("/v1/rules/proposals/{proposal_id}/approve", post(staff::approve_rules))
        .route("/v1/log/checkpoint", get(log::checkpoint))
        .route("/v1/log/key", get(log::key))
        .route("/v1/log/checkpoints", get(log::checkpoints))
        .route("/v1/log/proof/inclusion", get(log::inclusion))
        .route("/v1/log/proof/consistency", get(log::consistency))
        .route("/v1/log/entries", get(log::entries))
        .route("/v1/persons/{person_id}/log", get(log::person))
        .route("/v1/persons/{person_id}/accesses", get(residents::accesses))
        .route("/v1/persons/{person_id}/details", get(residents::details))
        .route("/v1/persons/{person_id}/complaints", get(residents::complaints_of).post(residents::file_complaint))
        .route("/v1/persons/{person_id}/proxies/{proxy_id}", axum::routing::delete(residents::end_proxy))
        .route("/v1/persons/{person_id}/claim-code", post(residents::claim_code))
        .route("/v1/me/dependants", post(residents::add_dependant))
        .route("/v1/complaints", get(residents::complaint_queue))
        .route("/v1/complaints/{complaint_id}/answer", post(residents::answer_complaint))
        .route("/v1/residents/keys", post(residents::replace_key))
        .route("/v1/persons/{person_id}/consents", get(extended::consents).post(extended::set_consent))
        .route("/v1/third-parties", post(extended::register).get(extended::list))
        .route("/v1/third-parties/{username}/revoke", post(extended::revoke))
        .route("/v1/third-party/check", post(extended::check))
}

/// Query parameters as text; a malformed query string is a JSON `invalid_input`.
pub(crate) type RawQuery = Result<Query<HashMap<String, String>>, QueryRejection>;

pub(crate) fn query_params(query: RawQuery) -> Result<HashMap<String, String>, ApiError> {
    query.map(|Query(q)| q).map_err(|e| {
        ApiError::InvalidInput(ValidationError::new(format!("the query string is malformed: {}", e.body_text())))
    })
}

/// The id in a route's path (`{decision_id}`, `{venue_id}` …): `invalid_input` naming
/// `field` when it is not UTF-8 text.
pub(crate) fn id_in_path(
    path: Result<axum::extract::Path<String>, axum::extract::rejection::PathRejection>,
    field: &str,
) -> Result<String, ApiError> {
    let axum::extract::Path(id) =
        path.map_err(|_| ApiError::InvalidInput(ValidationError::field(field, "not UTF-8 text")))?;
    Ok(id)
}

/// `?at=` as an RFC 3339 timestamp. A `+` left unencoded in a URL arrives as a space;
/// it is read as the `+` it was meant to be.
pub(crate) fn parse_at(text: &str) -> Result<Timestamp, ApiError> {
    Timestamp::parse_field("at", text)
        .or_else(|e| Timestamp::parse_field("at", &text.trim().replace(' ', "+")).map_err(|_| e))
        .map_err(ApiError::InvalidInput)
}
