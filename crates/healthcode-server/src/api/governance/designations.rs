//! Area designations over HTTP: every designation is a proposal until a provincial
//! officer other than its proposer approves it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use healthcode_domain::ValidationError;
use serde::Serialize;
use serde_json::Value;

use super::super::evidence::without_nul;
use crate::api::extract::{Actor, IdInPath};
use crate::api::places::NamedProposal;
use crate::api::policy::may;
use crate::api::JsonBody;
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(designation))
        .routes(routes!(designation_proposals))
        .routes(routes!(approve_designation))
}

/// A designation proposal, as it stands after a change.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ProposalAnswer {
    proposal: NamedProposal,
}

/// Designation proposals waiting for approval.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Proposals {
    proposals: Vec<NamedProposal>,
}

/// One `area_risk` designation (`type` may be left out), as a proposal: it takes effect
/// when a provincial officer other than the proposer approves it (202 with the proposal).
#[utoipa::path(
    post,
    path = "/v1/designations",
    tag = "governance",
    request_body(content = DesignationBody, description = "an area's risk level, an `area_risk` event without a person or a time", content_type = "application/json"),
    responses((status = 202, description = "`{proposal}`: it holds once a second official approves", body = ProposalAnswer)),
    security(("staff_key" = []))
)]
pub(crate) async fn designation(
    State(state): State<AppState>,
    office: Actor<may::Designate>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let text = without_nul(body.text()?).into_owned();
    let mut value: Value = serde_json::from_str(&text)
        .map_err(|e| ApiError::InvalidJson(format!("the body is not JSON ({e}); send an `area_risk` designation")))?;
    if let Value::Object(object) = &mut value {
        match object.get("type") {
            None => {
                object.insert("type".into(), Value::String("area_risk".into()));
            }
            Some(Value::String(t)) if t == "area_risk" => {}
            Some(_) => {
                return Err(ApiError::InvalidEvent(ValidationError::field(
                    "type",
                    "this endpoint takes `area_risk` designations (`type` may be left out); send evidence about \
                     persons to /v1/events",
                )))
            }
        }
        if object.contains_key("at") {
            return Err(ApiError::InvalidEvent(ValidationError::field(
                "at",
                "field `at` is set by the server when the designation is approved; remove it",
            )));
        }
    }
    let parsed = healthcode_domain::parse_event(&value, state.service.now()).map_err(ApiError::InvalidEvent)?;
    let healthcode_domain::EventBody::AreaRisk(risk) = parsed.body else {
        return Err(ApiError::InvalidEvent(ValidationError::field("type", "a designation is an `area_risk` event")));
    };
    let event_id = parsed.id.map(|id| id.as_str().to_string());
    let proposal = state
        .service
        .governance()
        .propose_designation_as(&office, event_id, risk.area, risk.level, risk.escalate_to_red)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(ProposalAnswer { proposal: proposal.into() })).into_response())
}

/// What `POST /v1/designations` takes, as the OpenAPI document describes it. The handler
/// reads the body as an `area_risk` event (for the event parser's messages, naming each
/// refused field); a test keeps these fields equal to those the parser admits.
#[allow(dead_code)] // A description only: never built.
#[derive(utoipa::ToSchema)]
pub(crate) struct DesignationBody {
    /// `area_risk`, the only type taken here; may be left out.
    #[schema(rename = "type", nullable = false, pattern = "^area_risk$")]
    kind: Option<String>,
    /// The designation's own id: a resend with the same id is not proposed twice.
    id: Option<String>,
    /// The area: a county (6 digits), a township (9) or a village (12).
    area: healthcode_domain::AreaCode,
    level: healthcode_domain::RiskLevel,
    /// Whether those who stayed in the area turn red rather than yellow (default false).
    escalate_to_red: Option<bool>,
    /// Annotations the rules never read.
    source: Option<String>,
    note: Option<String>,
    comment: Option<String>,
    description: Option<String>,
}

/// A designation proposal, approved by a provincial officer other than its proposer.
#[utoipa::path(
    post,
    path = "/v1/designations/proposals/{proposal_id}/approve",
    tag = "governance",
    params(("proposal_id" = String, Path, description = "the proposal")),
    responses((status = 200, description = "`{proposal}`, approved: codes in the area are re-evaluated", body = ProposalAnswer), (status = 409, description = "`conflict`: the designation is approved already", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn approve_designation(
    State(state): State<AppState>,
    by: Actor<may::ApproveDesignation>,
    IdInPath(id): IdInPath,
) -> Result<Json<ProposalAnswer>, ApiError> {
    let proposal = state.service.governance().approve_designation(&by, &id).await?;
    Ok(Json(ProposalAnswer { proposal: proposal.into() }))
}

/// Designations proposed and not yet approved, with their areas named.
#[utoipa::path(
    get,
    path = "/v1/designations/proposals",
    tag = "governance",
    responses((status = 200, description = "`{proposals}`", body = Proposals)),
    security(("staff_key" = []))
)]
pub(crate) async fn designation_proposals(
    State(state): State<AppState>,
    _: Actor<may::ReadDesignationProposals>,
) -> Result<Json<Proposals>, ApiError> {
    let proposals = state.service.governance().designation_proposals().await?.into_iter().map(Into::into).collect();
    Ok(Json(Proposals { proposals }))
}

#[cfg(test)]
mod tests {
    use utoipa::openapi::{RefOr, Schema};
    use utoipa::PartialSchema;

    use super::DesignationBody;

    /// The document names exactly the fields the handler takes: the event envelope's and
    /// a designation's own, less the time (set at approval) and the person (designations
    /// are about areas).
    #[test]
    fn the_designation_body_described_is_the_one_read() {
        let RefOr::T(Schema::Object(object)) = DesignationBody::schema() else { panic!("an object schema") };
        let mut described: Vec<String> = object.properties.keys().cloned().collect();
        described.sort();
        let refused = ["at", "person_id", "id_type", "id_number"];
        let mut read: Vec<String> = healthcode_domain::ENVELOPE_FIELDS
            .iter()
            .chain(healthcode_domain::AREA_RISK_FIELDS)
            .filter(|f| !refused.contains(f))
            .map(|f| f.to_string())
            .collect();
        read.sort();
        assert_eq!(described, read);
        assert_eq!(object.required, ["area", "level"], "only the area and the level are required");
    }
}
