//! Residents and their data over HTTP: registration, family proxies, their rights over
//! their data (access log, details, consents), complaints, self-declarations, and the
//! third-party systems
//! of the extended functions.

mod complaints;
mod conversions;
mod declarations;
mod family;
mod knowledge;
mod registration;
mod rights;
mod third_parties;

use healthcode_domain::ExtendedFunction;
use utoipa_axum::router::OpenApiRouter;

use crate::{ApiError, AppState};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(registration::routes())
        .merge(family::routes())
        .merge(rights::routes())
        .merge(complaints::routes())
        .merge(complaints::attachment_routes())
        .merge(declarations::routes())
        .merge(conversions::routes())
        .merge(knowledge::routes())
        .merge(third_parties::routes())
}

pub(super) fn function(text: &str) -> Result<ExtendedFunction, ApiError> {
    ExtendedFunction::parse_named(text).map_err(ApiError::InvalidInput)
}
