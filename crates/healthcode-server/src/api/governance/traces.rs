//! Contact tracing over HTTP: contacts listed from check-ins, confirmed by a health
//! officer, and made evidence when a provincial officer other than the confirmer approves.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use healthcode_domain::ValidationError;
use healthcode_domain::{PersonId, Timestamp};
use healthcode_service::{Trace, VisitsStep};
use serde::{Deserialize, Serialize};

use crate::api::auth::json_object;
use crate::api::extract::{Actor, IdInPath};
use crate::api::policy::may;
use crate::api::{person_ids, JsonBody};
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(trace))
        .routes(routes!(trace_by_id))
        .routes(routes!(confirm_trace))
        .routes(routes!(approve_trace))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TraceBody {
    case_person_id: String,
    from: String,
    to: String,
    window_minutes: Option<i64>,
}

/// A trace, as it stands after a change.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct TraceAnswer {
    trace: Trace,
}

/// Lists the contacts of a case from venue check-ins (default window: 30 minutes).
#[utoipa::path(
    post,
    path = "/v1/traces",
    tag = "governance",
    request_body = TraceBody,
    responses((status = 201, description = "`{trace}`: the candidate contacts found from check-ins", body = TraceAnswer)),
    security(("staff_key" = []))
)]
pub(crate) async fn trace(
    State(state): State<AppState>,
    by: Actor<may::TraceContacts>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let body: TraceBody = json_object(&body, r#"{"case_person_id": …, "from": …, "to": …, "window_minutes"?: 30}"#)?;
    let case = PersonId::parse(&body.case_person_id).map_err(ApiError::InvalidInput)?;
    let from = Timestamp::parse_field("from", &body.from).map_err(ApiError::InvalidInput)?;
    let to = Timestamp::parse_field("to", &body.to).map_err(ApiError::InvalidInput)?;
    let trace =
        state.service.governance().trace_contacts(&by, case, from, to, body.window_minutes.unwrap_or(30)).await?;
    Ok((StatusCode::CREATED, Json(TraceAnswer { trace })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    persons: Vec<String>,
    /// Publish the case's visits as venue exposures through the national hub when approved
    /// (their windows as the trace's): other regions' visitors checked in with their own
    /// region's app, and only their region can find them.
    #[serde(default)]
    publish_visits: bool,
    /// Withdraw the exposures this trace published, saying why (a case that was not one),
    /// when approved: each goes to the hub as a retraction.
    #[serde(default)]
    withdraw_visits: Option<String>,
}

/// Confirms some of a trace's contacts. Nothing changes until a provincial officer other
/// than the one who confirmed approves (`/v1/traces/{id}/approve`).
#[utoipa::path(
    post,
    path = "/v1/traces/{trace_id}/confirm",
    tag = "governance",
    params(("trace_id" = String, Path, description = "the trace")),
    request_body = ConfirmBody,
    responses((status = 200, description = "`{trace}`: the persons confirmed as contacts, awaiting a second official", body = TraceAnswer), (status = 409, description = "`conflict`: a confirmation of this trace already waits for approval", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn confirm_trace(
    State(state): State<AppState>,
    by: Actor<may::TraceContacts>,
    IdInPath(id): IdInPath,
    body: JsonBody,
) -> Result<Json<TraceAnswer>, ApiError> {
    let body: ConfirmBody = json_object(
        &body,
        r#"{"persons": [person_id, …], "publish_visits"?: false, "withdraw_visits"?: "why the published visits are withdrawn"}"#,
    )?;
    let persons = person_ids(&body.persons)?;
    let visits = match (body.publish_visits, body.withdraw_visits) {
        (false, None) => VisitsStep::Unchanged,
        (true, None) => VisitsStep::Publish,
        (false, Some(reason)) => VisitsStep::Withdraw(reason),
        (true, Some(_)) => {
            return Err(ApiError::InvalidInput(ValidationError::field(
                "withdraw_visits",
                "publish the visits or withdraw them, not both at once",
            )))
        }
    };
    let trace = state.service.governance().confirm_trace(&by, &id, &persons, visits).await?;
    Ok(Json(TraceAnswer { trace }))
}

/// Approves a trace's pending confirmation: its persons become close contacts.
#[utoipa::path(
    post,
    path = "/v1/traces/{trace_id}/approve",
    tag = "governance",
    params(("trace_id" = String, Path, description = "the trace")),
    responses((status = 200, description = "`{trace}`, approved: the contacts become evidence", body = TraceAnswer), (status = 409, description = "`conflict`: no confirmation of this trace waits for approval", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn approve_trace(
    State(state): State<AppState>,
    by: Actor<may::ApproveTrace>,
    IdInPath(id): IdInPath,
) -> Result<Json<TraceAnswer>, ApiError> {
    Ok(Json(TraceAnswer { trace: state.service.governance().approve_trace(&by, &id).await? }))
}

/// A trace with its contacts and confirmations, for an officer who traces or approves
/// (read into the listed persons' access logs).
#[utoipa::path(
    get,
    path = "/v1/traces/{trace_id}",
    tag = "governance",
    params(("trace_id" = String, Path, description = "the trace")),
    responses((status = 200, description = "`{trace}`", body = TraceAnswer)),
    security(("staff_key" = []))
)]
pub(crate) async fn trace_by_id(
    State(state): State<AppState>,
    by: Actor<may::TraceContacts>,
    IdInPath(id): IdInPath,
) -> Result<Json<TraceAnswer>, ApiError> {
    match state.service.governance().trace(&by, &id).await? {
        Some(trace) => Ok(Json(TraceAnswer { trace })),
        None => Err(ApiError::NotFound(format!("no trace `{}`", id.chars().take(64).collect::<String>()))),
    }
}
