//! Venues (场所码), their devices, check-ins by scanning, and gates (数字哨兵).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use healthcode_domain::{
    AccessOutcome, AccessReason, AreaCode, Colour, IdDocument, PersonId, Timestamp, ValidationError, VenueCategory,
};
use healthcode_service::{DoorDecision, GateAnswer, IssuedVenueCode, NewVenue, Presented};
use healthcode_store::DeviceRecord;
use serde::{Deserialize, Serialize};

use crate::api::auth::{bearer, json_object, reader, Wanted};
use crate::api::extract::{Actor, IdInPath, QueryParams};
use crate::api::places::NamedVenue;
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

/// A venue just registered, with its operator key.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RegisteredVenue {
    venue: NamedVenue,
    /// Shown this once: it displays the venue code and registers devices.
    operator_key: String,
    note: &'static str,
}

/// A venue's public description.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct VenueAnswer {
    venue: NamedVenue,
}

/// Registers a venue. The operator key in the answer is shown this once.
#[utoipa::path(
    post,
    path = "/v1/venues",
    tag = "doors",
    request_body = VenueBody,
    responses((status = 201, description = "`{venue, operator_key, note}`: the operator key is shown this once", body = RegisteredVenue))
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
        Json(RegisteredVenue {
            venue: registered.venue.into(),
            operator_key: registered.operator_key,
            note: "keep the operator key: it is shown once; it displays the venue code and registers devices",
        }),
    )
        .into_response())
}

/// A venue's public description.
#[utoipa::path(
    get,
    path = "/v1/venues/{venue_id}",
    tag = "doors",
    params(("venue_id" = String, Path, description = "the venue")),
    responses((status = 200, description = "`{venue}`: its public description", body = VenueAnswer))
)]
pub(crate) async fn venue(
    State(state): State<AppState>,
    IdInPath(venue_id): IdInPath,
) -> Result<Json<VenueAnswer>, ApiError> {
    let venue = state.service.venues().venue(&venue_id).await?;
    Ok(Json(VenueAnswer { venue: venue.into() }))
}

/// The venue's code for the current window, and its QR code.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct VenueCode {
    code: IssuedVenueCode,
    /// The code's QR code, an SVG document.
    svg: String,
}

/// The venue's code for the current window. Only the operator's display may fetch it: a
/// code anyone could fetch from anywhere would make remote "check-ins" trivial.
#[utoipa::path(
    get,
    path = "/v1/venues/{venue_id}/code",
    tag = "doors",
    params(("venue_id" = String, Path, description = "the venue")),
    responses((status = 200, description = "`{code, svg}`: the venue code for the current window", body = VenueCode)),
    security(("operator_key" = []))
)]
pub(crate) async fn code(
    State(state): State<AppState>,
    IdInPath(venue_id): IdInPath,
    headers: HeaderMap,
) -> Result<Json<VenueCode>, ApiError> {
    let venue = state.service.venues().venue_for_operator(&venue_id, bearer(&headers, "operator key")?).await?;
    let issued = state.service.tokens().issue_venue_token(&venue)?;
    let svg = healthcode_token::qr::svg(&issued.token).map_err(ApiError::internal)?;
    Ok(Json(VenueCode { code: issued, svg }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct DeviceBody {
    label: String,
}

/// A device just registered, with its key.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RegisteredDevice {
    device: DeviceRecord,
    /// Shown this once.
    device_key: String,
    note: &'static str,
}

/// A device, as it stands after a change (approved).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DeviceAnswer {
    device: DeviceRecord,
}

/// Gate devices, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Devices {
    devices: Vec<DeviceRecord>,
}

/// Registers a checkpoint device for the venue (operator key). The device key is shown
/// once; the device checks nobody until a provincial officer approves it.
#[utoipa::path(
    post,
    path = "/v1/venues/{venue_id}/devices",
    tag = "doors",
    params(("venue_id" = String, Path, description = "the venue")),
    request_body = DeviceBody,
    responses((status = 201, description = "`{device, device_key, note}`: the device key is shown this once", body = RegisteredDevice)),
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
        Json(RegisteredDevice {
            device: registered.device,
            device_key: registered.device_key,
            note: "keep the device key: it is shown once; the device checks nobody until the epidemic office \
                   approves it (POST /v1/devices/{device_id}/approve)",
        }),
    )
        .into_response())
}

/// Gate devices, newest first, with who approved each.
#[utoipa::path(
    get,
    path = "/v1/devices",
    tag = "doors",
    responses((status = 200, description = "`{devices}`, newest first", body = Devices)),
    security(("staff_key" = []))
)]
pub(crate) async fn devices(
    State(state): State<AppState>,
    by: Actor<may::ReadDevices>,
) -> Result<Json<Devices>, ApiError> {
    Ok(Json(Devices { devices: state.service.venues().devices(&by, 500).await? }))
}

/// A provincial officer approves a device: from now on it reads codes and ID cards.
#[utoipa::path(
    post,
    path = "/v1/devices/{device_id}/approve",
    tag = "doors",
    params(("device_id" = String, Path, description = "the device")),
    responses((status = 200, description = "`{device}`, approved", body = DeviceAnswer), (status = 409, description = "`conflict`: the device is approved already", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn approve_device(
    State(state): State<AppState>,
    by: Actor<may::ApproveDevice>,
    IdInPath(id): IdInPath,
) -> Result<Json<DeviceAnswer>, ApiError> {
    Ok(Json(DeviceAnswer { device: state.service.venues().approve_device(&by, &id).await? }))
}

/// A venue's check-ins in a day, by outcome.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DaysCheckins {
    /// The venue's id.
    venue: String,
    from: Timestamp,
    to: Timestamp,
    checkins: CheckinCounts,
}

/// Check-ins by the door's outcome (0 when none).
#[derive(Serialize, Default, utoipa::ToSchema)]
pub(crate) struct CheckinCounts {
    allow: u64,
    allow_with_mask: u64,
    deny: u64,
}

/// Today's check-ins at the venue by outcome (operator key); `?day=` not yet: today in
/// China Standard Time.
#[utoipa::path(
    get,
    path = "/v1/venues/{venue_id}/checkins/today",
    tag = "doors",
    params(("venue_id" = String, Path, description = "the venue")),
    responses((status = 200, description = "`{venue, from, to, checkins: {allow, allow_with_mask, deny}}`", body = DaysCheckins)),
    security(("operator_key" = []))
)]
pub(crate) async fn checkin_counts(
    State(state): State<AppState>,
    IdInPath(venue_id): IdInPath,
    headers: HeaderMap,
) -> Result<Json<DaysCheckins>, ApiError> {
    let venue = state.service.venues().venue_for_operator(&venue_id, bearer(&headers, "operator key")?).await?;
    let (from, to) = today(state.service.now());
    let mut counts = CheckinCounts::default();
    for (outcome, n) in state.service.venues().checkin_counts(&venue.id, from, to).await? {
        *match outcome {
            AccessOutcome::Allow => &mut counts.allow,
            AccessOutcome::AllowWithMask => &mut counts.allow_with_mask,
            AccessOutcome::Deny => &mut counts.deny,
        } = n;
    }
    Ok(Json(DaysCheckins { venue: venue.id, from, to, checkins: counts }))
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

/// The door's answer for the person who scanned, and for each companion when any were sent.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ScanAnswer {
    #[serde(flatten)]
    decision: DoorDecision,
    /// The door's answer for each companion, in the order sent (only when `companions` was).
    #[serde(skip_serializing_if = "Option::is_none")]
    companions: Option<Vec<DoorDecision>>,
}

/// A resident scanned a venue code: the check-in is recorded and the door's decision
/// returned. A stale, forwarded or forged venue code is refused with its reason.
#[utoipa::path(
    post,
    path = "/v1/checkins",
    tag = "doors",
    request_body = ScanBody,
    responses((status = 200, description = "the door's answer for the person and each companion", body = ScanAnswer)),
    security(("resident_key" = []))
)]
pub(crate) async fn scan(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Json<ScanAnswer>, ApiError> {
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
    let decision = decisions.next().ok_or_else(|| ApiError::internal("a check-in gave no decision"))?;
    let companions = body.companions.is_some().then(|| decisions.collect());
    Ok(Json(ScanAnswer { decision, companions }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct GateBody {
    code: Option<String>,
    id_type: Option<String>,
    id_number: Option<String>,
}

/// A gate's verdict: the door's decision on a code it could read, or a refusal of one it
/// could not (forged, expired, unknown key, …).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(crate) enum GateVerdict {
    Decided(GateDecision),
    Refused(GateRefusal),
}

/// The door's decision for a code or card it read.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GateDecision {
    outcome: AccessOutcome,
    reason: AccessReason,
    message: Said,
    colour: Colour,
    /// The holder's name, masked (张*丰); null when not known.
    #[schema(required = true)]
    masked_name: Option<String>,
    /// The venue's id.
    venue: String,
    category: VenueCategory,
}

/// A code the gate could not read as valid: always `deny`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GateRefusal {
    /// `deny`.
    outcome: AccessOutcome,
    /// Why the code was refused: `expired`, `bad_signature`, `unknown_key`, …
    reason: &'static str,
    message: Said,
}

/// What the person at the door is told, in Chinese and English.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Said {
    zh: String,
    en: String,
}

/// A device reads a code or an ID card (device key). Always a verdict: allow, allow with
/// mask, or deny with a reason code; the device sees the colour and the masked name only.
#[utoipa::path(
    post,
    path = "/v1/gate/check",
    tag = "doors",
    request_body = GateBody,
    responses((status = 200, description = "the gate's answer: admitted or refused, with the masked person and the reason", body = GateVerdict)),
    security(("device_key" = []))
)]
pub(crate) async fn gate(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Json<GateVerdict>, ApiError> {
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
            GateVerdict::Decided(GateDecision {
                outcome: d.decision.outcome,
                reason: d.decision.reason,
                message: Said { zh: zh.to_string(), en: en.to_string() },
                colour: d.colour,
                masked_name: d.masked_name,
                venue: d.venue,
                category: d.category,
            })
        }
        GateAnswer::Refused { reason, message } => GateVerdict::Refused(GateRefusal {
            outcome: AccessOutcome::Deny,
            reason,
            message: Said { zh: "码无效，请刷新健康码后重试".to_string(), en: message },
        }),
    }))
}

#[cfg(test)]
mod tests {
    use healthcode_domain::AccessReason;

    /// The gate's `reason` is the reason itself, serialised: the very codes devices know
    /// (`AccessReason::code`), as when the answer spelt them out.
    #[test]
    fn a_gate_names_its_reason_by_the_code_devices_know() {
        use AccessReason::*;
        let all = [
            GreenCode,
            RedCodeBarred,
            YellowRestrictedVenue,
            YellowTransportWithMask,
            YellowUnrestrictedVenue,
            IdCardWithMask,
        ];
        for reason in all {
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.code());
        }
    }
}
