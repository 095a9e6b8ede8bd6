//! Codes over HTTP: a person's code with the reasons for its colour (now, or as known at
//! a time), a resident's freshly signed code (JSON, SVG or PNG QR), the trust list
//! verifiers cache, and online verification.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use healthcode_domain::PersonId;
use serde::{Deserialize, Serialize};

use crate::api::auth::{bearer, json_object, reader, Wanted};
use crate::api::extract::{PersonInPath, QueryParams};
use crate::api::{parse_at, JsonBody};
use crate::{ApiError, AppState};
use healthcode_service::Explanation;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(code))
        .routes(routes!(token))
        .routes(routes!(qr_svg))
        .routes(routes!(qr_png))
        .routes(routes!(trust_list))
        .routes(routes!(verify))
}

/// A person's code with its explanation: now (kept current), or `?at=` as known then.
#[utoipa::path(
    get,
    path = "/v1/persons/{person_id}/code",
    tag = "codes",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)"), ("at" = Option<String>, Query, description = "RFC 3339: the code as known at that time instead of now"), ("purpose" = Option<String>, Query, description = "staff only: why the data is read, recorded in the person's access log and shown to them")),
    responses((status = 200, description = "the colour with its explanation: the rules that hold and the evidence that made them hold", body = Explanation)),
    security(("resident_key" = []), ("staff_key" = []))
)]
pub(crate) async fn code(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
) -> Result<Json<Explanation>, ApiError> {
    let at = query.get("at").map(parse_at).transpose()?;
    if state.service.overview().person(&person).await?.is_none() {
        return Err(ApiError::UnknownPerson(person));
    }
    reader(&state, &headers, &person, &query, Wanted::Data("code and its explanation")).await?;
    let explanation = match at {
        Some(at) => state.service.codes().explain_at(&person, at).await?,
        None => state.service.codes().current_code(&person).await?,
    };
    Ok(Json(explanation))
}

/// A freshly signed code for the person's current colour, for the person or a proxy.
async fn issue(
    state: &AppState,
    headers: &HeaderMap,
    person: &PersonId,
    query: &QueryParams,
) -> Result<healthcode_service::IssuedCode, ApiError> {
    let key = bearer(headers, "resident key")?;
    if key.starts_with(healthcode_service::RESIDENT_KEY_PREFIX) {
        return Ok(state.service.tokens().issue_code_token_for(key, person).await?);
    }
    // Any other key is refused here, with the reason (staff never hold a live code).
    reader(state, headers, person, query, Wanted::LiveCode).await?;
    Err(ApiError::Forbidden("only the person and those who act for them hold the live code".into()))
}

/// The person's live code, freshly signed for the holder of the key the request presents
/// (the person, or one who acts for them): what the token and QR routes answer with.
pub(crate) struct HeldCode(healthcode_service::IssuedCode);

impl FromRequestParts<AppState> for HeldCode {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let PersonInPath(person) = PersonInPath::from_request_parts(parts, state).await?;
        let query = QueryParams::from_request_parts(parts, state).await?;
        Ok(HeldCode(issue(state, &parts.headers, &person, &query).await?))
    }
}

/// The live code, freshly signed (`HC1:…`), for the person or a proxy.
#[utoipa::path(
    get,
    path = "/v1/persons/{person_id}/token",
    tag = "codes",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)")),
    responses((status = 200, description = "a freshly signed code `{token: \"HC1:…\", colour, issued_at, expires_at, …}`", body = healthcode_service::IssuedCode)),
    security(("resident_key" = []))
)]
pub(crate) async fn token(HeldCode(issued): HeldCode) -> Json<healthcode_service::IssuedCode> {
    Json(issued)
}

/// The same code as an SVG QR image.
#[utoipa::path(
    get,
    path = "/v1/persons/{person_id}/qr.svg",
    tag = "codes",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)")),
    responses((status = 200, description = "the signed code as a QR image", body = String, content_type = "image/svg+xml")),
    security(("resident_key" = []))
)]
pub(crate) async fn qr_svg(HeldCode(issued): HeldCode) -> Result<Response, ApiError> {
    let svg = healthcode_token::qr::svg(&issued.token).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

/// The same code as a PNG QR image (8 pixels a module).
#[utoipa::path(
    get,
    path = "/v1/persons/{person_id}/qr.png",
    tag = "codes",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)")),
    responses((status = 200, description = "the signed code as a QR image", body = Vec<u8>, content_type = "image/png")),
    security(("resident_key" = []))
)]
pub(crate) async fn qr_png(HeldCode(issued): HeldCode) -> Result<Response, ApiError> {
    let png = healthcode_token::qr::png(&issued.token, 8).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// The signed trust list. Public and cacheable: `ETag` is the hash of its signed content,
/// so a verifier asks with `If-None-Match` and gets 304 until the keys change.
#[utoipa::path(
    get,
    path = "/v1/trust-list",
    tag = "codes",
    responses((status = 200, description = "the trust list signed by the root key verifiers pin (`ETag`; `If-None-Match` answers 304)", body = healthcode_token::TrustListDocument), (status = 304, description = "unchanged since the `ETag` given in `If-None-Match`"))
)]
pub(crate) async fn trust_list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let signed = state.service.tokens().key_ring().signed_trust_list();
    let etag = format!("\"{}\"", signed.content_hash());
    let cache = [
        (header::ETAG, HeaderValue::from_str(&etag).expect("a hex hash is a valid header")),
        (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")),
    ];
    let matches = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(',').any(|tag| {
            let tag = tag.trim();
            tag == etag || tag == "*"
        })
    });
    if matches {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (cache, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], signed.to_json()).into_response()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenBody {
    pub token: String,
}

/// Verifies a resident's code: 200 with `valid` true and what the code shows, or `valid`
/// false with the reason (a verdict, not an error of the request).
#[utoipa::path(
    post,
    path = "/v1/verify",
    tag = "codes",
    request_body = TokenBody,
    responses((status = 200, description = "`{valid: true, code}` or `{valid: false, reason, message}`", body = Verdict))
)]
pub(crate) async fn verify(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    // The checkpoints' hot path: the usual body is read straight into its shape; anything
    // else goes the general way, for the general error messages.
    let token = match serde_json::from_str::<TokenBody>(body.text()?) {
        Ok(TokenBody { token }) => token,
        Err(_) => json_object::<TokenBody>(&body, r#"{"token": "HC1:…"}"#)?.token,
    };
    let verified = if state.verify_in_batches {
        state.service.tokens().verify_code_token_batched(&token).await
    } else {
        state.service.tokens().verify_code_token(&token)
    };
    Ok(match verified {
        Ok(code) => Json(Verdict::Valid { valid: true, code }).into_response(),
        Err(refused) => Json(Verdict::Invalid { valid: false, reason: refused.code(), message: refused.to_string() })
            .into_response(),
    })
}

/// A verification's verdict: valid with what the code shows, or not with the reason.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(crate) enum Verdict {
    Valid {
        /// `true`.
        valid: bool,
        code: healthcode_service::VerifiedCode,
    },
    Invalid {
        /// `false`.
        valid: bool,
        /// A stable code for the refusal: `expired`, `bad_signature`, `unknown_key`, …
        reason: &'static str,
        message: String,
    },
}
