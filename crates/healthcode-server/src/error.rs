//! One error type for every handler, mapped to a status and a stable code in one place
//! (`ApiError::status_and_code`). Every response it makes is JSON:
//! `{"error": {"code", "message", "field"?}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use healthcode_domain::{PersonId, ValidationError};
use healthcode_service::ServiceError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON (or NDJSON) text: not UTF-8, empty, malformed, too deep,
    /// a number out of range.
    #[error("{0}")]
    InvalidJson(String),
    /// A request that is JSON but asks for something invalid (registration, queries).
    #[error("{}", .0.message)]
    InvalidInput(ValidationError),
    /// An event that was refused; it is kept in the rejection log with its reason.
    #[error("{}", .0.message)]
    InvalidEvent(ValidationError),
    /// An area code that is not (or no longer) a division; the answer lists the nearest
    /// valid codes with their names.
    #[error("field `{field}`: {refused}")]
    UnknownArea { field: String, refused: healthcode_places::UnknownArea },
    /// A well-formed code that names no division (`GET /v1/places/{code}`).
    #[error("`{code}` is not an administrative division in the list")]
    UnknownPlace { code: String, suggestions: Vec<serde_json::Value> },
    #[error("no person is registered with id {0}")]
    UnknownPerson(PersonId),
    #[error("no venue is registered with id {0}")]
    UnknownVenue(String),
    #[error("this account has uploaded no batch `{0}`; upload it with POST /v1/feeds/{0}")]
    UnknownBatch(String),
    /// A body in a format the route does not take; the message names the ones it does.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A missing or wrong key.
    #[error("{0}")]
    Unauthorised(String),
    /// Authenticated, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// Over a rate limit; the response says when to try again.
    #[error("{0}")]
    TooManyRequests(String),
    /// A signed code that failed verification; `reason` is its stable code.
    #[error("{message}")]
    InvalidToken { reason: &'static str, message: String },
    #[error("no such route: {0}")]
    NotFound(String),
    #[error("this route does not take {0}")]
    MethodNotAllowed(String),
    #[error("the body is larger than {}; {hint}", human_bytes(*.limit))]
    PayloadTooLarge { limit: usize, hint: &'static str },
    /// A fault of ours. The detail is logged, never shown.
    #[error("internal error; it has been logged")]
    Internal(String),
    /// The database cannot be reached just now. The detail is logged, never shown.
    #[error("the service cannot reach its database just now; retry in a few seconds")]
    Unavailable(String),
}

impl ApiError {
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        ApiError::Internal(detail.to_string())
    }

    /// The one place where errors become statuses and stable codes.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::InvalidJson(_) => (StatusCode::BAD_REQUEST, "invalid_json"),
            ApiError::InvalidInput(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
            ApiError::InvalidEvent(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_event"),
            ApiError::UnknownArea { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_area"),
            ApiError::UnknownPlace { .. } => (StatusCode::NOT_FOUND, "unknown_place"),
            ApiError::UnknownPerson(_) => (StatusCode::NOT_FOUND, "unknown_person"),
            ApiError::UnknownVenue(_) => (StatusCode::NOT_FOUND, "unknown_venue"),
            ApiError::UnknownBatch(_) => (StatusCode::NOT_FOUND, "unknown_batch"),
            ApiError::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            ApiError::Unauthorised(_) => (StatusCode::UNAUTHORIZED, "unauthorised"),
            ApiError::InvalidToken { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_token"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::InvalidInput(e) | ApiError::InvalidEvent(e) => e.field.as_deref(),
            ApiError::UnknownArea { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(v) => ApiError::InvalidInput(v),
            ServiceError::UnknownPerson(id) => ApiError::UnknownPerson(id),
            ServiceError::UnknownArea { field, refused } => ApiError::UnknownArea { field, refused },
            ServiceError::UnknownVenue(id) => ApiError::UnknownVenue(id),
            ServiceError::Unauthorised(why) => ApiError::Unauthorised(why),
            ServiceError::LogTampered(why) => ApiError::Internal(why),
            ServiceError::Forbidden(why) => ApiError::Forbidden(why),
            ServiceError::Conflict(why) => ApiError::Conflict(why),
            ServiceError::RateLimited(why) => ApiError::TooManyRequests(why),
            ServiceError::Token(refused) => {
                ApiError::InvalidToken { reason: refused.code(), message: refused.to_string() }
            }
            ServiceError::Store(healthcode_store::StoreError::Unavailable(why)) => ApiError::Unavailable(why),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<healthcode_store::StoreError> for ApiError {
    fn from(e: healthcode_store::StoreError) -> Self {
        match e {
            healthcode_store::StoreError::Unavailable(why) => ApiError::Unavailable(why),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        if let ApiError::Unavailable(detail) = &self {
            tracing::warn!(%detail, "database unavailable");
        }
        let suggestions = match &self {
            ApiError::UnknownArea { refused, .. } => {
                Some(refused.suggestions.iter().map(|(code, name)| json!({"code": code, "name": name})).collect())
            }
            ApiError::UnknownPlace { suggestions, .. } => Some(suggestions.clone()),
            _ => None,
        };
        let error = ErrorDetail {
            code: code.to_string(),
            message: self.to_string(),
            field: self.field().map(str::to_string),
            reason: match &self {
                ApiError::InvalidToken { reason, .. } => Some(reason.to_string()),
                _ => None,
            },
            suggestions,
        };
        let mut response = (status, Json(ErrorBody { error })).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("5"));
        }
        response
    }
}

fn human_bytes(n: usize) -> String {
    const MIB: usize = 1024 * 1024;
    let (mib, rest) = (n / MIB, n % MIB);
    if mib > 0 && rest == 0 {
        format!("{mib} MiB")
    } else {
        format!("{n} bytes")
    }
}

/// Every error the API answers with: `{"error": {...}}`. The answer itself, and its
/// description in the OpenAPI document.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorDetail {
    /// A stable code: `invalid_json`, `invalid_input`, `invalid_event`, `unknown_area`,
    /// `unknown_place`, `unknown_person`, `unknown_venue`, `unknown_batch`,
    /// `unsupported_media_type`, `unauthorised`, `forbidden`, `conflict`,
    /// `too_many_requests`, `invalid_token`, `not_found`, `method_not_allowed`,
    /// `payload_too_large`, `internal`, `unavailable`.
    pub code: String,
    /// What was wrong and how to put it right, for a person to read.
    pub message: String,
    /// The field of the input that was refused, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub field: Option<String>,
    /// `invalid_token`: why the code was refused (`bad_signature`, `expired`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reason: Option<String>,
    /// `unknown_area`, `unknown_place`: the nearest valid divisions.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Option<Vec<Suggestion>>)]
    pub suggestions: Option<Vec<serde_json::Value>>,
}

/// A valid division offered in place of a refused code (places add their full names).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Suggestion {
    pub code: String,
    pub name: String,
}

/// The fallback for a path no route matches.
pub(crate) async fn not_found(uri: axum::http::Uri) -> ApiError {
    let path: String = uri.path().chars().take(200).collect();
    ApiError::NotFound(path)
}

/// The fallback for a known path with a method it does not take.
pub(crate) async fn method_not_allowed(method: axum::http::Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

/// A handler that panicked (a bug): logged, and answered like any internal error.
pub(crate) fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a handler panicked");
    ApiError::internal(format!("panic: {detail}")).into_response()
}
