//! The national exchange over HTTP (互认, `docs/FEDERATION.md`). At the hub: regions submit
//! their records (`POST /v1/hub/records`, a region's key); what the hub publishes is its
//! transparency log (`/v1/log/…`). At a region: its view of the hub
//! (`GET /v1/national/view`), which other regions fetch to compare checkpoints.
//!
//! Compact exchange: a region may send its submissions compressed (`Content-Encoding:
//! zstd` or `gzip`); every answer here says so (`Accept-Encoding`, RFC 7694), so that a
//! region compresses only for a hub that takes it. The body is inflated as the handler
//! reads it, so the handler's own limit (`BatchBody`, `JsonBody`) counts inflated bytes:
//! a small body that inflates past it is refused (413) without being kept. Answers are
//! compressed for a client that asks (`crate::router`).

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::Json;
use healthcode_domain::Timestamp;
use healthcode_domain::ValidationError;
use healthcode_service::national::{
    AgreementStanding, HubOverview, HubView, Published, PublishedLevel, SubmissionReport,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::api::auth::json_object;
use crate::api::evidence::split_lines;
use crate::api::extract::{Actor, IdInPath};
use crate::api::policy::may;
use crate::api::{BatchBody, JsonBody};
use crate::{ApiError, AppState};

/// The codings the hub takes in a request's body.
const ACCEPTED_CODINGS: &str = "zstd, gzip";

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit))
        .routes(routes!(trust_list))
        .routes(routes!(view))
        .routes(routes!(regions))
        .routes(routes!(risk_levels))
        .routes(routes!(agreements_here))
        .routes(routes!(propose_confirmation))
        .routes(routes!(approve_confirmation))
        // Inflates a zstd or gzip body as it is read (and drops `Content-Length`, which
        // counted the compressed bytes); any other coding reaches the handler as it came,
        // and is refused there with a JSON error (`plain_or_inflated`).
        .layer(
            tower_http::decompression::RequestDecompressionLayer::new()
                .no_br()
                .no_deflate()
                .pass_through_unaccepted(true),
        )
        .layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static(ACCEPTED_CODINGS),
        ))
}

/// A body in a coding the hub does not take (the layer above inflated the ones it takes,
/// and removed their header): refused, rather than read as NDJSON.
fn plain_or_inflated(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap_or("?").trim()) {
        None => Ok(()),
        Some(coding) if coding.is_empty() || coding.eq_ignore_ascii_case("identity") => Ok(()),
        Some(coding) => Err(ApiError::UnsupportedMediaType(format!(
            "a body in `Content-Encoding: {coding}` is not taken here: send it plain, or in {ACCEPTED_CODINGS}"
        ))),
    }
}

/// NDJSON, one record per line: `{"kind":"key_person","id","person","status","since"}`,
/// `{"kind":"test_result","id","person","result","since"}`,
/// `{"kind":"risk_level","id","area","level","since"}` (an area of the region's own),
/// `{"kind":"venue_exposure","id","venue","since","until"}` (a traced case at a venue of the
/// region's own; no person) or
/// `{"kind":"retraction","id","retracts","reason"}` (`docs/federation/submission.schema.json`). The region is the submitting
/// account's (its jurisdiction); each line is accepted (published in the hub's log), a
/// duplicate, or refused with its reason (kept in the hub's rejection log).
#[utoipa::path(
    post,
    path = "/v1/hub/records",
    tag = "national exchange",
    request_body(content = String, description = "NDJSON: one record per line; plain, or `Content-Encoding: zstd` or `gzip` (the limit counts inflated bytes)", content_type = "application/x-ndjson"),
    responses((status = 200, description = "a report per line, and the hub's log size after it", body = SubmissionReport), (status = 409, description = "`conflict`: another submission was published at the same time; send again", body = crate::api::openapi::ErrorBody), (status = 415, description = "`unsupported_media_type`: a `Content-Encoding` other than zstd or gzip", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn submit(
    State(state): State<AppState>,
    by: Actor<may::SubmitNational>,
    headers: HeaderMap,
    body: BatchBody,
) -> Result<Json<SubmissionReport>, ApiError> {
    let region = region_of(&by)?;
    plain_or_inflated(&headers)?;
    let (numbers, lines) = split_lines(body.text()?);
    if lines.is_empty() {
        return Err(ApiError::InvalidInput(ValidationError::new(
            "the submission is empty: send one JSON record per line (NDJSON)",
        )));
    }
    let mut report = state.service.national().submit(&region, &by.username, &lines).await?;
    for row in &mut report.rows {
        row.row = numbers[row.row - 1];
    }
    Ok(Json(report))
}

/// A region's signed trust list, as it serves it at `/v1/trust-list`: published when it
/// opens with the root key the hub registered for the region (the account's), names the
/// region and is newer than the published one; `unchanged` when it is the same list.
#[utoipa::path(
    post,
    path = "/v1/hub/trust-list",
    tag = "national exchange",
    request_body(content = healthcode_token::TrustListDocument, description = "the region's signed trust list, as its `GET /v1/trust-list` serves it", content_type = "application/json"),
    responses((status = 200, description = "`{outcome: \"published\" | \"unchanged\"}`", body = TrustListPublished), (status = 409, description = "`conflict`: the list is not newer than the one published", body = crate::api::openapi::ErrorBody), (status = 415, description = "`unsupported_media_type`: a `Content-Encoding` other than zstd or gzip", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn trust_list(
    State(state): State<AppState>,
    by: Actor<may::SubmitNational>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Json<TrustListPublished>, ApiError> {
    let region = region_of(&by)?;
    plain_or_inflated(&headers)?;
    let outcome = state.service.national().publish_trust_list(&region, body.text()?).await?;
    Ok(Json(TrustListPublished { outcome }))
}

/// What became of a region's trust list at the hub.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct TrustListPublished {
    outcome: Published,
}

/// The region a hub account speaks for: its jurisdiction, a province code.
fn region_of(account: &healthcode_store::Account) -> Result<String, ApiError> {
    account.jurisdiction.clone().ok_or_else(|| ApiError::Forbidden("this region's account has no province code".into()))
}

/// How far this region checked the hub's log, the hub's checkpoint it verified last, and
/// when it last heard from the hub. Public: other regions compare checkpoints with it, and
/// anyone may see how current the national data here is.
#[utoipa::path(
    get,
    path = "/v1/national/view",
    tag = "national exchange",
    responses((status = 200, description = "`{size, frontier, checkpoint, synced_at}`", body = HubView))
)]
pub(crate) async fn view(State(state): State<AppState>) -> Result<Json<HubView>, ApiError> {
    Ok(Json(state.service.national().view().await?))
}

/// At the hub: the registered regions (root key, published trust list, last contact) and
/// the agreements between them. Public, as the hub's page (`/hub`).
#[utoipa::path(
    get,
    path = "/v1/hub/regions",
    tag = "national exchange",
    responses((status = 200, description = "`{regions, agreements, log_size}`", body = HubOverview), (status = 403, description = "not the hub", body = crate::api::openapi::ErrorBody))
)]
pub(crate) async fn regions(State(state): State<AppState>) -> Result<Json<HubOverview>, ApiError> {
    Ok(Json(state.service.national().hub_overview().await?))
}

/// At the hub: the national list of risk levels, every area's latest level as the region
/// it belongs to designated it (seed 004: the national platform publishes every county's
/// risk level). Public: it names places, not persons. Each level is also a
/// `national_record` entry of the hub's log, which regions follow and check.
#[utoipa::path(
    get,
    path = "/v1/hub/risk-levels",
    tag = "national exchange",
    responses((status = 200, description = "every area's latest level, by area code", body = [PublishedLevel]), (status = 403, description = "not the hub", body = crate::api::openapi::ErrorBody))
)]
pub(crate) async fn risk_levels(State(state): State<AppState>) -> Result<Json<Vec<PublishedLevel>>, ApiError> {
    Ok(Json(state.service.national().risk_levels().await?))
}

/// The agreements naming this region as the receiving one.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct AgreementsHere {
    agreements: Vec<AgreementStanding>,
}

/// One agreement, where it stands here.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct AgreementAnswer {
    agreement: AgreementStanding,
}

/// At a region: every agreement the hub publishes for this region to recognise another
/// region's codes, and whether this region's officers confirmed it (it counts here only
/// within the window they confirmed).
#[utoipa::path(
    get,
    path = "/v1/national/agreements",
    tag = "national exchange",
    responses((status = 200, description = "`{agreements}`: `published` (the hub's), `confirmed` (this region's), `pending`", body = AgreementsHere), (status = 403, description = "not a region", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn agreements_here(
    State(state): State<AppState>,
    _by: Actor<may::ReadAgreements>,
) -> Result<Json<AgreementsHere>, ApiError> {
    Ok(Json(AgreementsHere { agreements: state.service.national().agreements_here().await? }))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ConfirmationBody {
    /// Until when this region recognises the codes (RFC 3339); the hub's end if absent,
    /// and never later than it.
    #[serde(default)]
    until: Option<String>,
}

/// A provincial officer who answers for the province proposes to confirm the hub's
/// agreement for this region to recognise `issuing`'s codes (optionally until a time): 202,
/// waiting for another such officer. A body is optional.
#[utoipa::path(
    post,
    path = "/v1/national/agreements/{issuing}/confirmation",
    tag = "national exchange",
    params(("issuing" = String, Path, description = "the issuing region (`41`)")),
    request_body(content = ConfirmationBody, description = "optional: `{until}`"),
    responses((status = 202, description = "`{agreement}`: proposed; it counts once another officer approves it", body = AgreementAnswer), (status = 422, description = "`invalid_input`: the hub publishes no such agreement", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn propose_confirmation(
    State(state): State<AppState>,
    by: Actor<may::ConfirmAgreement>,
    IdInPath(issuing): IdInPath,
    body: JsonBody,
) -> Result<(axum::http::StatusCode, Json<AgreementAnswer>), ApiError> {
    let until = if body.text()?.trim().is_empty() {
        None
    } else {
        let body: ConfirmationBody = json_object(&body, r#"{"until": "2020-12-31T00:00:00+08:00" (optional)}"#)?;
        body.until.map(|u| Timestamp::parse_field("until", &u)).transpose().map_err(ApiError::InvalidInput)?
    };
    let agreement = state.service.national().propose_confirmation(&by, &issuing, until).await?;
    Ok((axum::http::StatusCode::ACCEPTED, Json(AgreementAnswer { agreement })))
}

/// Another provincial officer approves the proposed confirmation: this region recognises
/// `issuing`'s codes within it from now on (logged as `agreement_confirmation`).
#[utoipa::path(
    post,
    path = "/v1/national/agreements/{issuing}/confirmation/approve",
    tag = "national exchange",
    params(("issuing" = String, Path, description = "the issuing region (`41`)")),
    responses((status = 200, description = "`{agreement}`: confirmed", body = AgreementAnswer), (status = 403, description = "`forbidden`: the proposer, or an officer of one city", body = crate::api::openapi::ErrorBody), (status = 409, description = "`conflict`: nothing waits for approval", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn approve_confirmation(
    State(state): State<AppState>,
    by: Actor<may::ConfirmAgreement>,
    IdInPath(issuing): IdInPath,
) -> Result<Json<AgreementAnswer>, ApiError> {
    Ok(Json(AgreementAnswer { agreement: state.service.national().approve_confirmation(&by, &issuing).await? }))
}
