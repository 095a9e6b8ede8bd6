//! Management decisions over HTTP (R5/Y3): proposed with a legal basis and a term,
//! applied when two provincial officers, neither the proposer, approve; whom a decision
//! names is read only within jurisdiction and with a purpose the persons see.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use healthcode_domain::{DecisionColour, PersonId, Timestamp, ValidationError};
use serde::{Deserialize, Serialize};

use crate::api::auth::json_object;
use crate::api::extract::{Actor, IdInPath, QueryParams};
use crate::api::policy::may;
use crate::api::{person_ids, JsonBody};
use crate::{ApiError, AppState};
use healthcode_service::{DecisionView, NewDecision};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(propose, decisions)).routes(routes!(approve)).routes(routes!(decision_persons))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    persons: Vec<String>,
    colour: String,
    until: String,
    basis: String,
}

/// A decision, as it stands after a change.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DecisionAnswer {
    decision: DecisionView,
}

/// The newest decisions, each with how many persons it names but not whom.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Decisions {
    decisions: Vec<DecisionView>,
}

/// Whom a decision names, within the reader's jurisdiction.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DecisionPersons {
    /// The decision's id.
    decision: String,
    persons: Vec<PersonId>,
}

/// Proposes a management decision (a manual colour, with its legal basis) for a list of persons;
/// it holds only once a second, different official approves it.
#[utoipa::path(
    post,
    path = "/v1/decisions",
    tag = "governance",
    request_body = DecisionBody,
    responses((status = 201, description = "`{decision}`: proposed; it holds once a second official approves", body = DecisionAnswer)),
    security(("staff_key" = []))
)]
pub(crate) async fn propose(
    State(state): State<AppState>,
    by: Actor<may::ProposeDecision>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let body: DecisionBody =
        json_object(&body, r#"{"persons": […], "colour": "red"|"yellow", "until": …, "basis": …}"#)?;
    let persons = person_ids(&body.persons)?;
    let colour = DecisionColour::parse(&body.colour).ok_or_else(|| {
        ApiError::InvalidInput(ValidationError::field("colour", "a decision's colour is `red` or `yellow`"))
    })?;
    let until = Timestamp::parse_field("until", &body.until).map_err(ApiError::InvalidInput)?;
    let decision = state
        .service
        .governance()
        .propose_decision(&by, NewDecision { persons, colour, until, basis: body.basis })
        .await?;
    Ok((StatusCode::CREATED, Json(DecisionAnswer { decision: DecisionView::from(&decision) })).into_response())
}

/// A second official approves a decision: it becomes evidence, and goes into the log.
#[utoipa::path(
    post,
    path = "/v1/decisions/{decision_id}/approve",
    tag = "governance",
    params(("decision_id" = String, Path, description = "the decision")),
    responses((status = 200, description = "`{decision}`, approved (and in the log)", body = DecisionAnswer), (status = 409, description = "`conflict`: the decision is approved and applied already", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn approve(
    State(state): State<AppState>,
    by: Actor<may::ApproveDecision>,
    IdInPath(id): IdInPath,
) -> Result<Json<DecisionAnswer>, ApiError> {
    let decision = state.service.governance().approve_decision(&by, &id).await?;
    Ok(Json(DecisionAnswer { decision: DecisionView::from(&decision) }))
}

/// The newest decisions, each with how many persons it names but not whom.
#[utoipa::path(
    get,
    path = "/v1/decisions",
    tag = "governance",
    responses((status = 200, description = "`{decisions}`, newest first", body = Decisions)),
    security(("staff_key" = []))
)]
pub(crate) async fn decisions(
    State(state): State<AppState>,
    _: Actor<may::ReadDecisions>,
) -> Result<Json<Decisions>, ApiError> {
    Ok(Json(Decisions { decisions: state.service.governance().decisions(200).await? }))
}

/// `?purpose=`: whom a decision names, within the office's jurisdiction; each person
/// read is in their access log.
#[utoipa::path(
    get,
    path = "/v1/decisions/{decision_id}/persons",
    tag = "governance",
    params(("decision_id" = String, Path, description = "the decision"), ("purpose" = Option<String>, Query, description = "staff only: why the data is read, recorded in the person's access log and shown to them")),
    responses((status = 200, description = "`{decision, persons}`", body = DecisionPersons)),
    security(("staff_key" = []))
)]
pub(crate) async fn decision_persons(
    State(state): State<AppState>,
    by: Actor<may::ReadDecisionPersons>,
    IdInPath(id): IdInPath,
    query: QueryParams,
) -> Result<Json<DecisionPersons>, ApiError> {
    let persons = state.service.governance().decision_persons(&by, &id, query.get("purpose")).await?;
    Ok(Json(DecisionPersons { decision: id, persons }))
}
