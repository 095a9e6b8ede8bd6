//! Alarms over HTTP, for auditors and the provincial office.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::api::extract::{Actor, QueryParams};
use crate::api::policy::may;
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(alarms))
}

/// Alarms, oldest first after `?after=`: mass colour changes without epidemiological evidence and
/// other signs of misuse, for the provincial office and auditors.
#[utoipa::path(
    get,
    path = "/v1/alarms",
    tag = "governance",
    params(("after" = Option<u64>, Query, description = "the last alarm id seen")),
    responses((status = 200, description = "`{alarms}`: mass changes without epidemiological evidence, and other alarms", body = Object)),
    security(("staff_key" = []))
)]
pub(crate) async fn alarms(
    State(state): State<AppState>,
    _: Actor<may::ReadAlarms>,
    query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let after = query.whole_number("after", Some(0))? as i64;
    Ok(Json(json!({ "alarms": state.service.alarms().list(after, 1000).await? })))
}
