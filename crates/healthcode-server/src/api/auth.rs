//! Keys presented by venues and devices: `Authorization: Bearer <key>`.

use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;

use crate::api::JsonBody;
use crate::ApiError;

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
