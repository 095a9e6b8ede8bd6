//! Rule sets over HTTP: the rules in force, published; proposals with their scenario
//! suites, and their approval by two provincial officers, neither the proposer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use healthcode_domain::Timestamp;
use serde::Deserialize;
use serde_json::{json, Value};

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

/// The active rule set, published read-only.
#[utoipa::path(
    get,
    path = "/v1/rules",
    tag = "governance",
    responses((status = 200, description = "the rule set in force: version, digest and rules", body = Object))
)]
pub(crate) async fn in_force(State(state): State<AppState>) -> Json<Value> {
    let rules = state.service.codes().rules();
    let list: Vec<Value> = rules.rules().map(|r| json!({"id": r.id, "colour": r.colour, "title": r.title})).collect();
    Json(json!({
        "name": rules.name(),
        "version": rules.version(),
        "digest": rules.digest(),
        "rules": list,
        "source": rules.file(),
    }))
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
    responses((status = 201, description = "`{proposal}` with its scenario results; it activates once a second official approves", body = Object)),
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
    Ok((StatusCode::CREATED, Json(json!({ "proposal": proposal }))).into_response())
}

/// A second official approves a rule-set proposal: it activates at its time.
#[utoipa::path(
    post,
    path = "/v1/rules/proposals/{proposal_id}/approve",
    tag = "governance",
    params(("proposal_id" = String, Path, description = "the proposal")),
    responses((status = 200, description = "`{proposal}`, approved", body = Object)),
    security(("staff_key" = []))
)]
pub(crate) async fn approve_rules(
    State(state): State<AppState>,
    by: Actor<may::ApproveRules>,
    IdInPath(id): IdInPath,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "proposal": state.service.governance().approve_rules(&by, &id).await? })))
}

/// Every proposed version, newest first, with its status: the rules' history.
#[utoipa::path(
    get,
    path = "/v1/rules/proposals",
    tag = "governance",
    responses((status = 200, description = "`{proposals}`", body = Object)),
    security(("staff_key" = []))
)]
pub(crate) async fn rule_proposals(
    State(state): State<AppState>,
    _: Actor<may::ReadRuleProposals>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "proposals": state.service.governance().rule_proposals().await? })))
}
