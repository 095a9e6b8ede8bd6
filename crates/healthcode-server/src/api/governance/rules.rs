//! Rule sets over HTTP: the rules in force, published; proposals with their scenario
//! suites, and their approval by two provincial officers, neither the proposer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use healthcode_domain::{RuleColour, Timestamp};
use healthcode_rules::{RuleSetFile, Text};
use healthcode_service::RuleProposal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::auth::json_object;
use crate::api::extract::{Actor, IdInPath};
use crate::api::policy::may;
use crate::api::JsonBody;
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(in_force))
        .routes(routes!(propose_rules, rule_proposals))
        .routes(routes!(approve_rules))
}

/// The rule set in force.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RulesInForce<'a> {
    name: &'a str,
    version: &'a str,
    /// `sha256:` of the rule set's canonical JSON.
    digest: &'a str,
    rules: Vec<RuleSummary<'a>>,
    /// The rule set as written (its file, TOML or JSON, read).
    source: &'a RuleSetFile,
}

/// A rule: its id, the colour it gives when it holds, and its title.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RuleSummary<'a> {
    id: &'a str,
    colour: RuleColour,
    title: &'a Text,
}

/// A rule-set proposal, as it stands after a change.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RuleProposalAnswer {
    proposal: RuleProposal,
}

/// Every proposed rule set, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RuleProposals {
    proposals: Vec<RuleProposal>,
}

/// The active rule set, published read-only.
#[utoipa::path(
    get,
    path = "/v1/rules",
    tag = "governance",
    responses((status = 200, description = "the rule set in force: version, digest and rules", body = RulesInForce))
)]
pub(crate) async fn in_force(State(state): State<AppState>) -> Response {
    let rules = state.service.codes().rules();
    Json(RulesInForce {
        name: rules.name(),
        version: rules.version(),
        digest: rules.digest(),
        rules: rules.rules().map(|r| RuleSummary { id: r.id, colour: r.colour, title: r.title }).collect(),
        source: rules.file(),
    })
    .into_response()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RuleProposalBody {
    /// The rule set, TOML or JSON text.
    source: String,
    activates_at: String,
    scenarios: Vec<Value>,
}

/// Proposes a rule set with its scenario suite: 201 with the diff against the active
/// rules and the suite's results.
#[utoipa::path(
    post,
    path = "/v1/rules/proposals",
    tag = "governance",
    request_body = RuleProposalBody,
    responses((status = 201, description = "`{proposal}` with its scenario results; it activates once a second official approves", body = RuleProposalAnswer)),
    security(("staff_key" = []))
)]
pub(crate) async fn propose_rules(
    State(state): State<AppState>,
    by: Actor<may::ProposeRules>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let body: RuleProposalBody =
        json_object(&body, r#"{"source": "<rule set, TOML or JSON>", "activates_at": …, "scenarios": [ … ]}"#)?;
    let activates_at = Timestamp::parse_field("activates_at", &body.activates_at).map_err(ApiError::InvalidInput)?;
    let proposal = state.service.governance().propose_rules(&by, &body.source, activates_at, &body.scenarios).await?;
    Ok((StatusCode::CREATED, Json(RuleProposalAnswer { proposal })).into_response())
}

/// A second official approves a rule-set proposal: it activates at its time.
#[utoipa::path(
    post,
    path = "/v1/rules/proposals/{proposal_id}/approve",
    tag = "governance",
    params(("proposal_id" = String, Path, description = "the proposal")),
    responses((status = 200, description = "`{proposal}`, approved", body = RuleProposalAnswer), (status = 409, description = "`conflict`: the proposal is approved already, or no longer the one to approve", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn approve_rules(
    State(state): State<AppState>,
    by: Actor<may::ApproveRules>,
    IdInPath(id): IdInPath,
) -> Result<Json<RuleProposalAnswer>, ApiError> {
    Ok(Json(RuleProposalAnswer { proposal: state.service.governance().approve_rules(&by, &id).await? }))
}

/// Every proposed version, newest first, with its status: the rules' history.
#[utoipa::path(
    get,
    path = "/v1/rules/proposals",
    tag = "governance",
    responses((status = 200, description = "`{proposals}`", body = RuleProposals)),
    security(("staff_key" = []))
)]
pub(crate) async fn rule_proposals(
    State(state): State<AppState>,
    _: Actor<may::ReadRuleProposals>,
) -> Result<Json<RuleProposals>, ApiError> {
    Ok(Json(RuleProposals { proposals: state.service.governance().rule_proposals().await? }))
}
