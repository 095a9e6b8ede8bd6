//! The request body, read by hand so that every failure is a JSON `ApiError` rather than
//! one of axum's plain-text rejections. The `Content-Type` is not checked (`curl -d`
//! sends a form type): the bytes must be UTF-8 JSON, whatever the header says.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use http_body_util::BodyExt;

use crate::ApiError;

/// How much of an oversized body is read and thrown away before answering 413.
const DRAIN_BYTES: usize = crate::MAX_BODY_BYTES + crate::MAX_JSON_BYTES;

/// A body of at most `LIMIT` bytes.
pub(crate) struct Body<const LIMIT: usize>(pub Bytes);

/// One JSON document (an event, a registration).
pub(crate) type JsonBody = Body<{ crate::MAX_JSON_BYTES }>;
/// A batch of NDJSON lines.
pub(crate) type BatchBody = Body<{ crate::MAX_BODY_BYTES }>;

impl<S: Send + Sync, const LIMIT: usize> FromRequest<S> for Body<LIMIT> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        Self::read(req).await
    }
}

impl<const LIMIT: usize> Body<LIMIT> {
    /// Reads the request's body. A handler that must authenticate before reading a large
    /// body takes the `Request` and calls this once the caller is known.
    pub(crate) async fn read(req: Request) -> Result<Self, ApiError> {
        let too_large = ApiError::PayloadTooLarge {
            limit: LIMIT,
            hint: if LIMIT == crate::MAX_BODY_BYTES {
                "split the batch"
            } else {
                "send large sets of events to /v1/events/batch"
            },
        };
        let declared =
            req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
        let mut body = req.into_body();
        let mut over = declared.is_some_and(|n| n > LIMIT as u64);
        let mut buffered: Vec<u8> = Vec::with_capacity(if over { 0 } else { declared.unwrap_or(0) as usize });
        let mut seen = 0usize;
        // Past the limit nothing is kept, but the rest is read (up to `DRAIN_BYTES`) so
        // that the client, still sending, gets to read the 413 instead of a broken pipe.
        while seen <= if over { DRAIN_BYTES } else { LIMIT } {
            match body.frame().await {
                None => break,
                Some(Ok(frame)) => {
                    let Some(data) = frame.data_ref() else { continue };
                    seen = seen.saturating_add(data.len());
                    if seen > LIMIT {
                        over = true;
                        buffered = Vec::new();
                    } else if !over {
                        buffered.extend_from_slice(data);
                    }
                }
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "reading a request body failed");
                    return Err(ApiError::InvalidJson(
                        "the request body could not be read completely; send it again".into(),
                    ));
                }
            }
        }
        if over {
            return Err(too_large);
        }
        Ok(Body(Bytes::from(buffered)))
    }

    /// The body as text: UTF-8 (as JSON must be), without a leading byte-order mark.
    pub(crate) fn text(&self) -> Result<&str, ApiError> {
        let text = std::str::from_utf8(&self.0).map_err(|e| {
            let good = &self.0[..e.valid_up_to()];
            let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
            let column = good.len() - good.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
            ApiError::InvalidJson(format!(
                "the body is not UTF-8 text (invalid byte at line {line}, byte {column}); JSON must be sent as \
                 UTF-8 (convert a GBK file first, e.g. with iconv -f GBK -t UTF-8)"
            ))
        })?;
        Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
    }
}
