//! The JSON API, one module per capability (the same cut as the store's and the
//! service's): accounts, evidence, codes, feeds, governance (rules, designations,
//! decisions, traces, alarms), residents (registration, family, rights, complaints, third
//! parties), doors (venues, devices, check-ins, gates), the log, and public figures.
//! Each module declares its own routes. What handlers share is in `extract` (the person
//! or id in the path, the query, the authorised actor), `auth` (keys and readers of a
//! person's data), `body` and `policy`.

mod accounts;
mod auth;
mod body;
mod cards;
mod codes;
pub(crate) mod doors;
mod evidence;
pub(crate) mod extract;
mod feeds;
mod governance;
mod groups;
mod log;
mod national;
pub(crate) mod openapi;
mod overview;
pub(crate) mod places;
pub(crate) mod policy;
mod residents;

use healthcode_domain::Timestamp;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::{ApiError, AppState};

pub(crate) use body::{BatchBody, Body, JsonBody};

/// Every route of the JSON API with its OpenAPI description: the router and the document
/// (`openapi::document`) are built from this one list.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(openapi::serve))
        .merge(accounts::routes())
        .merge(evidence::routes())
        .merge(codes::routes())
        .merge(cards::routes())
        .merge(feeds::routes())
        .merge(governance::routes())
        .merge(residents::routes())
        .merge(doors::routes())
        .merge(log::routes())
        .merge(national::routes())
        .merge(groups::routes())
        .merge(overview::routes())
        .merge(places::routes())
}

/// The server answers: it is up (whether it reaches its database is another question).
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "the process is up", body = openapi::Health)))]
async fn healthz() -> axum::Json<openapi::Health> {
    axum::Json(openapi::Health { status: "ok" })
}

/// The server can serve: it reaches its database (one read of the log's size). A load
/// balancer sends traffic only to servers that answer 200 here; 503 while the database
/// is away.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "the server reaches its database", body = openapi::Readiness)))]
async fn readyz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<axum::Json<openapi::Readiness>, ApiError> {
    let log_size = state.service.log().size().await?;
    Ok(axum::Json(openapi::Readiness { status: "ready", log_size }))
}

/// `?at=` as an RFC 3339 timestamp. A `+` left unencoded in a URL arrives as a space;
/// it is read as the `+` it was meant to be.
pub(crate) fn parse_at(text: &str) -> Result<Timestamp, ApiError> {
    Timestamp::parse_field("at", text)
        .or_else(|e| Timestamp::parse_field("at", &text.trim().replace(' ', "+")).map_err(|_| e))
        .map_err(ApiError::InvalidInput)
}

/// A body's list of person ids (a decision's, a trace's confirmation), each checked.
pub(crate) fn person_ids(texts: &[String]) -> Result<Vec<healthcode_domain::PersonId>, ApiError> {
    texts
        .iter()
        .map(|p| healthcode_domain::PersonId::parse(p))
        .collect::<Result<_, _>>()
        .map_err(ApiError::InvalidInput)
}
