//! One error type for every handler, mapped to a status and a stable code in one place.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use healthcode_domain::{PersonId, ValidationError};
use healthcode_service::ServiceError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidJson(String),
    #[error("{}", .0.message)]
    InvalidInput(ValidationError),
    #[error("{}", .0.message)]
    InvalidEvent(ValidationError),
    #[error("no person is registered with id {0}")]
    UnknownPerson(PersonId),
    #[error("no such route: {0}")]
    NotFound(String),
    #[error("internal error; it has been logged")]
    Internal(String),
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::InvalidJson(_) => (StatusCode::BAD_REQUEST, "invalid_json"),
            ApiError::InvalidInput(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
            ApiError::InvalidEvent(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_event"),
            ApiError::UnknownPerson(_) => (StatusCode::NOT_FOUND, "unknown_person"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            ApiError::InvalidInput(e) | ApiError::InvalidEvent(e) => e.field.as_deref(),
            _ => None,
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(v) => ApiError::InvalidInput(v),
            ServiceError::UnknownPerson(id) => ApiError::UnknownPerson(id),
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
        let mut error = json!({"code": code, "message": self.to_string()});
        if let Some(field) = self.field() {
            error["field"] = json!(field);
        }
        (status, Json(json!({ "error": error }))).into_response()
    }
}

/// A JSON error response with a code that is not an `ApiError` (e.g. 405, 413).
pub(crate) fn plain(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"error": {"code": code, "message": message}}))).into_response()
}

pub(crate) async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(uri.path().to_string())
}
