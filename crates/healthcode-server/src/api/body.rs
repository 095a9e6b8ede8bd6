//! The request body as bytes, with every failure (too large, unreadable) as a JSON error
//! rather than axum's plain-text rejection.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::Response;

use crate::error::plain;

pub(crate) struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state).await.map(RawBody).map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                plain(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    &format!("the body is larger than {} MiB; split the batch", crate::MAX_BODY_BYTES / (1024 * 1024)),
                )
            } else {
                plain(StatusCode::BAD_REQUEST, "invalid_body", "the request body could not be read")
            }
        })
    }
}
