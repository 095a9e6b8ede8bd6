//! Keys presented by residents, staff, venues and devices: `Authorization: Bearer <key>`.

use axum::http::{header, HeaderMap};
use healthcode_domain::PersonId;
use healthcode_service::{Reader, RESIDENT_KEY_PREFIX};
use serde::de::DeserializeOwned;

use crate::api::extract::QueryParams;
use crate::api::policy::{allow, Action};
use crate::api::JsonBody;
use crate::{ApiError, AppState};

/// What a reader of a person's data gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wanted {
    /// Data about the person (their code's explanation, history, complaints), named as it
    /// goes into the access log.
    Data(&'static str),
    /// The person's live code (token or QR): only the person and their proxies hold it.
    LiveCode,
    /// What only the person and their proxies see (their access log, their family).
    OwnOnly(&'static str),
}

/// Who is reading `person`'s data: their resident key, a proxy's, or a staff key whose role
/// may (`Action::ReadPersonData`) with `?purpose=`. The read goes into the person's access
/// log unless it is the person's own.
pub(crate) async fn reader(
    state: &AppState,
    headers: &HeaderMap,
    person: &PersonId,
    query: &QueryParams,
    wanted: Wanted,
) -> Result<Reader, ApiError> {
    let key = bearer(headers, "resident key")?;
    let reader = if key.starts_with(RESIDENT_KEY_PREFIX) {
        state.service.residents().reader_for_resident(key, person).await?
    } else {
        let account = allow(state, headers, Action::ReadPersonData).await?;
        state.service.residents().reader_for_staff(account, person, query.get("purpose")).await?
    };
    let what = match wanted {
        Wanted::Data(what) => what,
        Wanted::LiveCode if reader.may_hold_code() => "code",
        Wanted::OwnOnly(what) if reader.may_hold_code() => what,
        Wanted::LiveCode | Wanted::OwnOnly(_) => {
            return Err(ApiError::Forbidden(
                "only the person and those who act for them see this; staff read the code's explanation \
                 (`/v1/persons/{id}/code?purpose=…`)"
                    .into(),
            ))
        }
    };
    state.service.residents().record_access(person, &reader, what).await?;
    Ok(reader)
}

/// The bearer key of a request, or `unauthorised` saying which key is wanted.
pub(crate) fn bearer<'a>(headers: &'a HeaderMap, wanted: &str) -> Result<&'a str, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::Unauthorised(format!("send `Authorization: Bearer <{wanted}>`")))
}

/// The body as a JSON object of a known shape: unknown fields and wrong types are
/// refused with the field named.
pub(crate) fn json_object<T: DeserializeOwned>(body: &JsonBody, shape: &str) -> Result<T, ApiError> {
    let text = body.text()?;
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| ApiError::InvalidJson(format!("the body is not JSON ({e}); send a JSON object: {shape}")))?;
    serde_json::from_value(value).map_err(|e| {
        ApiError::InvalidInput(healthcode_domain::ValidationError::new(format!("{e}; send a JSON object: {shape}")))
    })
}
