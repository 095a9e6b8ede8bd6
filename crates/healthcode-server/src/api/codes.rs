use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use healthcode_domain::PersonId;
use healthcode_service::Explanation;

use crate::api::auth::{reader, Wanted};
use crate::api::{parse_at, query_params, RawQuery};
use crate::{ApiError, AppState};

/// A person's code with its explanation: now (kept current), or `?at=` as known then.
pub(crate) async fn code(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    query: RawQuery,
) -> Result<Json<Explanation>, ApiError> {
    let person = person_in_path(path)?;
    let query = query_params(query)?;
    let at = query.get("at").map(|t| parse_at(t)).transpose()?;
    if state.service.person(&person).await?.is_none() {
        return Err(ApiError::UnknownPerson(person));
    }
    reader(&state, &headers, &person, &query, Wanted::Data("code and its explanation")).await?;
    let explanation = match at {
        Some(at) => state.service.explain_at(&person, at).await?,
        None => state.service.current_code(&person).await?,
    };
    Ok(Json(explanation))
}

/// The `{person_id}` of a path; malformed (e.g. bad percent-encoding) is `invalid_input`.
pub(crate) fn person_in_path(path: Result<Path<String>, PathRejection>) -> Result<PersonId, ApiError> {
    let Path(text) = path.map_err(|_| {
        ApiError::InvalidInput(healthcode_domain::ValidationError::field(
            "person_id",
            "the person id in the path is not valid UTF-8 text",
        ))
    })?;
    PersonId::parse(&text).map_err(ApiError::InvalidInput)
}
