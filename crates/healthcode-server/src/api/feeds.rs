//! Bulk feeds over HTTP: `POST /v1/feeds/{batch_id}` streams a department's batch (NDJSON
//! or CSV) into the store chunk by chunk, never holding the body whole; `GET` says where
//! a batch stands, so that an interrupted upload resumes after its last stored line
//! (`?first_line=`). Authorised like `/v1/events`: a data source's key, its department's
//! evidence only.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::Json;
use healthcode_domain::ValidationError;
use healthcode_service::{FeedFormat, FeedReport, LineSplitter, RawLine};
use http_body_util::BodyExt;

use crate::api::evidence::{data_source, without_nul};
use crate::api::extract::{Actor, IdInPath, QueryParams};
use crate::api::policy::may;
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upload, status))
}

/// Uploads (or resumes) a department's batch, NDJSON or CSV, streamed: rows are judged one by one,
/// refused ones kept with their reasons.
#[utoipa::path(
    post,
    path = "/v1/feeds/{batch_id}",
    tag = "evidence",
    params(("batch_id" = String, Path, description = "the department's name for the batch (resumable)")),
    request_body(content = String, description = "NDJSON or CSV (with a header line); a batch is resumed where it stands", content_type = "application/x-ndjson"),
    responses((status = 200, description = "the batch's report: rows accepted, duplicate, rejected, and the line to resume from", body = FeedReport), (status = 415, description = "`unsupported_media_type`: send `Content-Type: application/x-ndjson` or `text/csv`", body = crate::api::openapi::ErrorBody), (status = 409, description = "`conflict`: the batch was begun in another format, is being uploaded already, was moved by another upload, or `first_line` would leave lines out", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn upload(
    State(state): State<AppState>,
    by: Actor<may::SubmitEvidence>,
    headers: HeaderMap,
    IdInPath(batch): IdInPath,
    query: QueryParams,
    body: Body,
) -> Result<Json<FeedReport>, ApiError> {
    let (source, who) = data_source(&by)?;
    let format = format_of(&headers)?;
    let first_line = number_in_query(&query, "first_line")?;
    let mut upload = state.service.evidence().open_feed(source, &who, &batch, format, first_line).await?;
    let mut splitter = LineSplitter::new();
    let mut lines = Vec::new();
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            tracing::debug!(error = %e, batch, "a feed upload's body broke off");
            ApiError::InvalidJson(format!(
                "the body of batch `{batch}` broke off before its end; the lines received in whole chunks are stored: \
                 ask where the batch stands (GET /v1/feeds/{batch}) and send the rest"
            ))
        })?;
        let Some(data) = frame.data_ref() else { continue };
        splitter.push(data, &mut lines);
        for line in lines.drain(..) {
            upload.push(clean(line)).await?;
        }
    }
    splitter.finish(&mut lines);
    for line in lines {
        upload.push(clean(line)).await?;
    }
    Ok(Json(upload.finish().await?))
}

/// Where a batch stands; `?rejected_after=LINE` pages through its rejected rows.
#[utoipa::path(
    get,
    path = "/v1/feeds/{batch_id}",
    tag = "evidence",
    params(("batch_id" = String, Path, description = "the batch")),
    responses((status = 200, description = "the batch's report", body = FeedReport)),
    security(("staff_key" = []))
)]
pub(crate) async fn status(
    State(state): State<AppState>,
    by: Actor<may::SubmitEvidence>,
    IdInPath(batch): IdInPath,
    query: QueryParams,
) -> Result<Json<FeedReport>, ApiError> {
    let (_, who) = data_source(&by)?;
    healthcode_service::check_batch_id(&batch).map_err(ApiError::InvalidInput)?;
    let after = number_in_query(&query, "rejected_after")?.unwrap_or(0);
    match state.service.evidence().feed_report(&who, &batch, after).await? {
        Some(report) => Ok(Json(report)),
        None => Err(ApiError::UnknownBatch(batch)),
    }
}

/// A NUL (raw, or escaped in JSON) is made a character the parser refuses at its place,
/// as on `/v1/events/batch`: no database text column can hold it.
fn clean(line: RawLine) -> RawLine {
    match line {
        RawLine::Text(text) if text.contains('\0') || text.contains("\\u0000") => {
            RawLine::Text(without_nul(&text).into_owned())
        }
        other => other,
    }
}

/// The body's format from its `Content-Type`, which is required here: a CSV and an
/// NDJSON file cannot be told apart reliably by their first bytes.
fn format_of(headers: &HeaderMap) -> Result<FeedFormat, ApiError> {
    let value = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    for parameter in parts {
        let (name, charset) = parameter.split_once('=').unwrap_or((parameter, ""));
        let charset = charset.trim().trim_matches('"');
        if name.trim().eq_ignore_ascii_case("charset") && !charset.eq_ignore_ascii_case("utf-8") {
            return Err(ApiError::UnsupportedMediaType(format!(
                "batches are UTF-8 text, not {charset}; convert the file first (e.g. iconv -f GBK -t UTF-8)"
            )));
        }
    }
    match essence.as_str() {
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" | "application/x-jsonlines" => {
            Ok(FeedFormat::Ndjson)
        }
        "text/csv" => Ok(FeedFormat::Csv),
        _ => Err(ApiError::UnsupportedMediaType(format!(
            "a batch is sent with Content-Type application/x-ndjson (one JSON event per line) or text/csv (a header \
             line, then one event per line), not `{}`",
            value.chars().take(100).collect::<String>()
        ))),
    }
}

fn number_in_query(query: &QueryParams, name: &str) -> Result<Option<u64>, ApiError> {
    query
        .get(name)
        .map(|v| {
            v.parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                ApiError::InvalidInput(ValidationError::field(name, format!("`{name}` is a line number (1 or more)")))
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(content_type: &str) -> Result<FeedFormat, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        format_of(&headers)
    }

    #[test]
    fn the_format_comes_from_the_content_type() {
        assert_eq!(with("application/x-ndjson").unwrap(), FeedFormat::Ndjson);
        assert_eq!(with("text/csv; charset=UTF-8").unwrap(), FeedFormat::Csv);
        assert!(with("text/csv; charset=gbk").unwrap_err().to_string().contains("convert the file"));
        assert!(with("application/json").unwrap_err().to_string().contains("application/x-ndjson"));
        assert!(format_of(&HeaderMap::new()).is_err());
    }
}
