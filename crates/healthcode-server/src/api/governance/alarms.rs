//! Alarms over HTTP, for auditors and the provincial office.

use axum::extract::State;
use axum::Json;
use healthcode_store::Alarm;
use serde::Serialize;

use crate::api::extract::{Actor, QueryParams};
use crate::api::policy::may;
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(alarms))
}

/// Alarms, oldest first.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Alarms {
    alarms: Vec<Alarm>,
}

/// Alarms, oldest first after `?after=`: mass colour changes without epidemiological evidence and
/// other signs of misuse, for the provincial office and auditors.
#[utoipa::path(
    get,
    path = "/v1/alarms",
    tag = "governance",
    params(("after" = Option<u64>, Query, description = "the last alarm id seen")),
    responses((status = 200, description = "`{alarms}`: mass changes without epidemiological evidence, and other alarms", body = Alarms)),
    security(("staff_key" = []))
)]
pub(crate) async fn alarms(
    State(state): State<AppState>,
    _: Actor<may::ReadAlarms>,
    query: QueryParams,
) -> Result<Json<Alarms>, ApiError> {
    let after = query.whole_number("after", Some(0))? as i64;
    Ok(Json(Alarms { alarms: state.service.alarms().list(after, 1000).await? }))
}
