use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use healthcode_domain::{PersonId, Timestamp};
use healthcode_service::Explanation;

use crate::{ApiError, AppState};

/// A person's code with its explanation: now (kept current), or `?at=` as known then.
pub(crate) async fn code(
    State(state): State<AppState>,
    Path(person_id): Path<String>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Explanation>, ApiError> {
    let person = PersonId::parse(&person_id).map_err(ApiError::InvalidInput)?;
    let query = query.map_err(|e| ApiError::InvalidInput(healthcode_domain::ValidationError::new(e.body_text())))?;
    let at = query.get("at").map(|t| Timestamp::parse_field("at", t)).transpose().map_err(ApiError::InvalidInput)?;
    if state.service.store().person(&person).await.map_err(|e| ApiError::Internal(e.to_string()))?.is_none() {
        return Err(ApiError::UnknownPerson(person));
    }
    let explanation = match at {
        Some(at) => state.service.explain_at(&person, at).await?,
        None => state.service.current_code(&person).await?,
    };
    Ok(Json(explanation))
}
