//! Staff: login and logout, management decisions, alarms.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use healthcode_domain::{DecisionColour, PersonId, Timestamp, ValidationError};
use healthcode_service::{DecisionView, NewDecision};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::{bearer, json_object};
use crate::api::policy::{allow, Action};
use crate::api::{id_in_path, query_params, JsonBody, RawQuery};
use crate::{ApiError, AppState};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
}

pub(crate) async fn login(State(state): State<AppState>, body: JsonBody) -> Result<Json<Value>, ApiError> {
    let body: LoginBody = json_object(&body, r#"{"username": …, "password": …}"#)?;
    let (token, expires_at) = state.service.login(&body.username, &body.password).await?;
    Ok(Json(json!({"token": token, "expires_at": expires_at})))
}

pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    state.service.logout(bearer(&headers, "session key")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who the key belongs to: a staff or system account, or a resident with their family.
pub(crate) async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let key = bearer(&headers, "resident key, session or API key")?;
    if key.starts_with(healthcode_service::RESIDENT_KEY_PREFIX) {
        let person = state.service.resident(key).await?;
        let family = state.service.family(&person).await?;
        return Ok(Json(json!({ "resident": { "person_id": person, "family": family } })));
    }
    let account = state.service.authenticate(key).await?;
    Ok(Json(json!({ "account": account })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    persons: Vec<String>,
    colour: String,
    until: String,
    basis: String,
}

pub(crate) async fn propose(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let by = allow(&state, &headers, Action::ProposeDecision).await?;
    let body: DecisionBody =
        json_object(&body, r#"{"persons": […], "colour": "red"|"yellow", "until": …, "basis": …}"#)?;
    let persons = body
        .persons
        .iter()
        .map(|p| PersonId::parse(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ApiError::InvalidInput)?;
    let colour = DecisionColour::parse(&body.colour).ok_or_else(|| {
        ApiError::InvalidInput(ValidationError::field("colour", "a decision's colour is `red` or `yellow`"))
    })?;
    let until = Timestamp::parse_field("until", &body.until).map_err(ApiError::InvalidInput)?;
    let decision =
        state.service.propose_decision(&by, NewDecision { persons, colour, until, basis: body.basis }).await?;
    Ok((StatusCode::CREATED, Json(json!({ "decision": DecisionView::from(&decision) }))).into_response())
}

pub(crate) async fn approve(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let by = allow(&state, &headers, Action::ApproveDecision).await?;
    let id = id_in_path(path, "decision")?;
    let decision = state.service.approve_decision(&by, &id).await?;
    Ok(Json(json!({ "decision": DecisionView::from(&decision) })))
}

/// The newest decisions, each with how many persons it names but not whom.
pub(crate) async fn decisions(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    allow(&state, &headers, Action::ReadDecisions).await?;
    Ok(Json(json!({ "decisions": state.service.decisions(200).await? })))
}

/// `?purpose=`: whom a decision names, within the office's jurisdiction; each person
/// read is in their access log.
pub(crate) async fn decision_persons(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    query: RawQuery,
) -> Result<Json<Value>, ApiError> {
    let by = allow(&state, &headers, Action::ReadDecisionPersons).await?;
    let id = id_in_path(path, "decision")?;
    let query = query_params(query)?;
    let persons = state.service.decision_persons(&by, &id, query.get("purpose").map(String::as_str)).await?;
    Ok(Json(json!({ "decision": id, "persons": persons })))
}

pub(crate) async fn alarms(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: RawQuery,
) -> Result<Json<Value>, ApiError> {
    allow(&state, &headers, Action::ReadAlarms).await?;
    let query = query_params(query)?;
    let after = query.get("after").and_then(|a| a.parse::<i64>().ok()).unwrap_or(0);
    Ok(Json(json!({ "alarms": state.service.alarms(after, 1000).await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleProposalBody {
    /// The rule set, TOML or JSON text.
    source: String,
    activates_at: String,
    scenarios: Vec<Value>,
}

/// Proposes a rule set with its scenario suite: 201 with the diff against the active
/// rules and the suite's results.
pub(crate) async fn propose_rules(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let by = allow(&state, &headers, Action::ProposeRules).await?;
    let body: RuleProposalBody =
        json_object(&body, r#"{"source": "<rule set, TOML or JSON>", "activates_at": …, "scenarios": [ … ]}"#)?;
    let activates_at = Timestamp::parse_field("activates_at", &body.activates_at).map_err(ApiError::InvalidInput)?;
    let proposal = state.service.propose_rules(&by, &body.source, activates_at, &body.scenarios).await?;
    Ok((StatusCode::CREATED, Json(json!({ "proposal": proposal }))).into_response())
}

pub(crate) async fn approve_rules(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let by = allow(&state, &headers, Action::ApproveRules).await?;
    let id = id_in_path(path, "proposal")?;
    Ok(Json(json!({ "proposal": state.service.approve_rules(&by, &id).await? })))
}

/// Every proposed version, newest first, with its status: the rules' history.
pub(crate) async fn rule_proposals(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    allow(&state, &headers, Action::ReadRuleProposals).await?;
    Ok(Json(json!({ "proposals": state.service.rule_proposals().await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TraceBody {
    case_person_id: String,
    from: String,
    to: String,
    window_minutes: Option<i64>,
}

/// Lists the contacts of a case from venue check-ins (default window: 30 minutes).
pub(crate) async fn trace(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let by = allow(&state, &headers, Action::TraceContacts).await?;
    let body: TraceBody = json_object(&body, r#"{"case_person_id": …, "from": …, "to": …, "window_minutes"?: 30}"#)?;
    let case = PersonId::parse(&body.case_person_id).map_err(ApiError::InvalidInput)?;
    let from = Timestamp::parse_field("from", &body.from).map_err(ApiError::InvalidInput)?;
    let to = Timestamp::parse_field("to", &body.to).map_err(ApiError::InvalidInput)?;
    let trace = state.service.trace_contacts(&by, case, from, to, body.window_minutes.unwrap_or(30)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "trace": trace }))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    persons: Vec<String>,
}

/// Confirms some of a trace's contacts. Nothing changes until a provincial officer other
/// than the one who confirmed approves (`/v1/traces/{id}/approve`).
pub(crate) async fn confirm_trace(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let by = allow(&state, &headers, Action::TraceContacts).await?;
    let id = id_in_path(path, "trace")?;
    let body: ConfirmBody = json_object(&body, r#"{"persons": [person_id, …]}"#)?;
    let persons = body
        .persons
        .iter()
        .map(|p| PersonId::parse(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ApiError::InvalidInput)?;
    Ok(Json(json!({ "trace": state.service.confirm_trace(&by, &id, &persons).await? })))
}

/// Approves a trace's pending confirmation: its persons become close contacts.
pub(crate) async fn approve_trace(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let by = allow(&state, &headers, Action::ApproveTrace).await?;
    let id = id_in_path(path, "trace")?;
    Ok(Json(json!({ "trace": state.service.approve_trace(&by, &id).await? })))
}

/// A trace with its contacts and confirmations, for an officer who traces or approves
/// (read into the listed persons' access logs).
pub(crate) async fn trace_by_id(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let by = allow(&state, &headers, Action::TraceContacts).await?;
    let id = id_in_path(path, "trace")?;
    match state.service.trace(&by, &id).await? {
        Some(trace) => Ok(Json(json!({ "trace": trace }))),
        None => Err(ApiError::NotFound(format!("no trace `{}`", id.chars().take(64).collect::<String>()))),
    }
}
