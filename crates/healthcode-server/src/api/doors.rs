//! Venues (场所码), their devices, check-ins by scanning, and gates (数字哨兵).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use healthcode_domain::{AreaCode, IdDocument, PersonId, Timestamp, ValidationError, VenueCategory};
use healthcode_service::{GateAnswer, NewVenue, Presented};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::{bearer, json_object, reader, Wanted};
use crate::api::extract::{Actor, IdInPath, QueryParams};
use crate::api::places::with_area_name;
use crate::api::policy::may;
use crate::api::JsonBody;
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(venue))
        .routes(routes!(code))
        .routes(routes!(register_device))
        .routes(routes!(checkin_counts))
        .routes(routes!(scan))
        .routes(routes!(gate))
        .routes(routes!(devices))
        .routes(routes!(approve_device))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct VenueBody {
    name: String,
    category: String,
    area: Option<String>,
}

/// Registers a venue. The operator key in the answer is shown this once.
#[utoipa::path(
    post,
    path = "/v1/venues",
    tag = "doors",
    request_body = VenueBody,
    responses((status = 201, description = "`{venue, operator_key, note}`: the operator key is shown this once", body = Object))
)]
pub(crate) async fn register(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    let body: VenueBody = json_object(&body, r#"{"name": …, "category": …, "area"?: "330106"}"#)?;
    let category = VenueCategory::parse(&body.category).map_err(ApiError::InvalidInput)?;
    let area = body
        .area
        .map(|a| AreaCode::parse(&a).map_err(|m| ApiError::InvalidInput(ValidationError::field("area", m))))
        .transpose()?;
    let registered = state.service.venues().register(NewVenue { name: body.name, category, area }).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "venue": with_area_name(&registered.venue),
            "operator_key": registered.operator_key,
            "note": "keep the operator key: it is shown once; it displays the venue code and registers devices",
        })),
    )
        .into_response())
}

/// A venue's public description.
#[utoipa::path(
    get,
    path = "/v1/venues/{venue_id}",
    tag = "doors",
    params(("venue_id" = String, Path, description = "the venue")),
    responses((status = 200, description = "`{venue}`: its public description", body = Object))
)]
pub(crate) async fn venue(
    State(state): State<AppState>,
    IdInPath(venue_id): IdInPath,
) -> Result<Json<Value>, ApiError> {
    let venue = state.service.venues().venue(&venue_id).await?;
    Ok(Json(json!({ "venue": with_area_name(&venue) })))
}

/// The venue's code for the current window. Only the operator's display may fetch it: a
/// code anyone could fetch from anywhere would make remote "check-ins" trivial.
#[utoipa::path(
    get,
    path = "/v1/venues/{venue_id}/code",
    tag = "doors",
    params(("venue_id" = String, Path, description = "the venue")),
    responses((status = 200, description = "`{code, svg}`: the venue code for the current window", body = Object)),
    security(("operator_key" = []))
)]
pub(crate) async fn code(
    State(state): State<AppState>,
    IdInPath(venue_id): IdInPath,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let venue = state.service.venues().venue_for_operator(&venue_id, bearer(&headers, "operator key")?).await?;
    let issued = state.service.tokens().issue_venue_token(&venue)?;
    let svg = healthcode_token::qr::svg(&issued.token).map_err(ApiError::internal)?;
    Ok(Json(json!({ "code": issued, "svg": svg })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct DeviceBody {
    label: String,
}

/// Registers a checkpoint device for the venue (operator key). The device key is shown
/// once; the device checks nobody until a provincial officer approves it.
#[utoipa::path(
    post,
    path = "/v1/venues/{venue_id}/devices",
    tag = "doors",
    params(("venue_id" = String, Path, description = "the venue")),
    request_body = DeviceBody,
    responses((status = 201, description = "`{device, device_key, note}`: the device key is shown this once", body = Object)),
    security(("operator_key" = []))
)]
pub(crate) async fn register_device(
    State(state): State<AppState>,
    IdInPath(venue_id): IdInPath,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let key = bearer(&headers, "operator key")?.to_string();
    let DeviceBody { label } = json_object(&body, r#"{"label": "东门"}"#)?;
    let registered = state.service.venues().register_device(&venue_id, &key, &label).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "device": registered.device,
            "device_key": registered.device_key,
            "note": "keep the device key: it is shown once; the device checks nobody until the epidemic office \
                     approves it (POST /v1/devices/{device_id}/approve)",
        })),
    )
        .into_response())
}

/// Gate devices, newest first, with who approved each.
#[utoipa::path(
    get,
    path = "/v1/devices",
    tag = "doors",
    responses((status = 200, description = "`{devices}`, newest first", body = Object)),
    security(("staff_key" = []))
)]
pub(crate) async fn devices(
    State(state): State<AppState>,
    by: Actor<may::ReadDevices>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "devices": state.service.venues().devices(&by, 500).await? })))
}

/// A provincial officer approves a device: from now on it reads codes and ID cards.
#[utoipa::path(
    post,
    path = "/v1/devices/{device_id}/approve",
    tag = "doors",
    params(("device_id" = String, Path, description = "the device")),
    responses((status = 200, description = "`{device}`, approved", body = Object)),
    security(("staff_key" = []))
)]
pub(crate) async fn approve_device(
    State(state): State<AppState>,
    by: Actor<may::ApproveDevice>,
    IdInPath(id): IdInPath,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "device": state.service.venues().approve_device(&by, &id).await? })))
}

/// Today's check-ins at the venue by outcome (operator key); `?day=` not yet: today in
/// China Standard Time.
#[utoipa::path(
    get,
    path = "/v1/venues/{venue_id}/checkins/today",
    tag = "doors",
    params(("venue_id" = String, Path, description = "the venue")),
    responses((status = 200, description = "`{venue, from, to, checkins: {allow, allow_with_mask, deny}}`", body = Object)),
    security(("operator_key" = []))
)]
pub(crate) async fn checkin_counts(
    State(state): State<AppState>,
    IdInPath(venue_id): IdInPath,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let venue = state.service.venues().venue_for_operator(&venue_id, bearer(&headers, "operator key")?).await?;
    let (from, to) = today(state.service.now());
    let mut counts = json!({"allow": 0, "allow_with_mask": 0, "deny": 0});
    for (outcome, n) in state.service.venues().checkin_counts(&venue.id, from, to).await? {
        counts[healthcode_store::outcome_str(outcome)] = json!(n);
    }
    Ok(Json(json!({"venue": venue.id, "from": from, "to": to, "checkins": counts})))
}

/// The day (China Standard Time) containing `now`.
pub(crate) fn today(now: Timestamp) -> (Timestamp, Timestamp) {
    const DAY: i64 = 86_400_000;
    const CST: i64 = 8 * 3_600_000;
    let start = (now.as_millis() + CST).div_euclid(DAY) * DAY - CST;
    (Timestamp::from_millis(start), Timestamp::from_millis(start + DAY))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ScanBody {
    person_id: String,
    venue_code: String,
    /// Family members checking in with the scanner (同行), each one the scanner acts for.
    #[serde(default)]
    companions: Option<Vec<String>>,
}

/// A resident scanned a venue code: the check-in is recorded and the door's decision
/// returned. A stale, forwarded or forged venue code is refused with its reason.
#[utoipa::path(
    post,
    path = "/v1/checkins",
    tag = "doors",
    request_body = ScanBody,
    responses((status = 200, description = "the door's answer for the person and each companion", body = Object)),
    security(("resident_key" = []))
)]
pub(crate) async fn scan(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    // No key, no look at the body: the caller learns nothing about it before saying who they are.
    bearer(&headers, "resident key")?;
    let body: ScanBody =
        json_object(&body, r#"{"person_id": …, "venue_code": "HV1:…", "companions": [person ids] (optional)}"#)?;
    let person = PersonId::parse(&body.person_id).map_err(ApiError::InvalidInput)?;
    let mut persons = vec![person];
    for companion in body.companions.iter().flatten() {
        let companion = PersonId::parse(companion)
            .map_err(|e| ApiError::InvalidInput(ValidationError::field("companions", e.message)))?;
        if !persons.contains(&companion) {
            persons.push(companion);
        }
    }
    if persons.len() > healthcode_service::MAX_COMPANIONS + 1 {
        return Err(ApiError::InvalidInput(ValidationError::field(
            "companions",
            format!("at most {} companions check in with one scan", healthcode_service::MAX_COMPANIONS),
        )));
    }
    // The key of each person or a proxy's: a check-in is evidence for tracing, never forged for others.
    for person in &persons {
        reader(&state, &headers, person, &QueryParams::default(), Wanted::OwnOnly("check-in")).await?;
    }
    let mut decisions = state.service.doors().check_in_together(&persons, &body.venue_code).await?.into_iter();
    let first = decisions.next().ok_or_else(|| ApiError::internal("a check-in gave no decision"))?;
    let mut answer = serde_json::to_value(first).map_err(ApiError::internal)?;
    if body.companions.is_some() {
        answer["companions"] = serde_json::to_value(decisions.collect::<Vec<_>>()).map_err(ApiError::internal)?;
    }
    Ok(Json(answer))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct GateBody {
    code: Option<String>,
    id_type: Option<String>,
    id_number: Option<String>,
}

/// A device reads a code or an ID card (device key). Always a verdict: allow, allow with
/// mask, or deny with a reason code; the device sees the colour and the masked name only.
#[utoipa::path(
    post,
    path = "/v1/gate/check",
    tag = "doors",
    request_body = GateBody,
    responses((status = 200, description = "the gate's answer: admitted or refused, with the masked person and the reason", body = Object)),
    security(("device_key" = []))
)]
pub(crate) async fn gate(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let key = bearer(&headers, "device key")?.to_string();
    let shape = r#"{"code": "HC1:…"} or {"id_type": "resident_id", "id_number": …}"#;
    let body: GateBody = json_object(&body, shape)?;
    let presented = match (body.code, body.id_type, body.id_number) {
        (Some(code), None, None) => Presented::Code(code),
        (None, Some(id_type), Some(number)) => {
            Presented::IdCard(IdDocument::parse(&id_type, &number).map_err(ApiError::InvalidInput)?)
        }
        _ => {
            return Err(ApiError::InvalidInput(ValidationError::new(format!(
                "send either a code or an ID card: {shape}"
            ))))
        }
    };
    Ok(Json(match state.service.doors().gate_check(&key, presented).await? {
        GateAnswer::Decided(d) => {
            let (zh, en) = d.decision.reason.message();
            json!({
                "outcome": d.decision.outcome,
                "reason": d.decision.reason.code(),
                "message": {"zh": zh, "en": en},
                "colour": d.colour,
                "masked_name": d.masked_name,
                "venue": d.venue,
                "category": d.category,
            })
        }
        GateAnswer::Refused { reason, message } => json!({
            "outcome": "deny",
            "reason": reason,
            "message": {"zh": "码无效，请刷新健康码后重试", "en": message},
        }),
    }))
}
