//! Residents and their data over HTTP: registration, family proxies, their rights over
//! their data (access log, details, consents), complaints, self-declarations, and the
//! third-party systems
//! of the extended functions.

mod complaints;
mod declarations;
mod family;
mod knowledge;
mod registration;
mod rights;
mod third_parties;

use axum::Router;
use healthcode_domain::ExtendedFunction;

use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .merge(registration::routes())
        .merge(family::routes())
        .merge(rights::routes())
        .merge(complaints::routes())
        .merge(complaints::attachment_routes())
        .merge(declarations::routes())
        .merge(knowledge::routes())
        .merge(third_parties::routes())
}

pub(super) fn function(text: &str) -> Result<ExtendedFunction, ApiError> {
    ExtendedFunction::parse_named(text).map_err(ApiError::InvalidInput)
}
