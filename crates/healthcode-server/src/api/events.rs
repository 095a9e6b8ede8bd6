//! Ingestion over HTTP. `at` is always the server's clock (`AtPolicy::ServerClock`): an
//! event that brings its own `at` is refused. Refused inputs are kept, with their reason,
//! in the rejection log (`GET /v1/rejections`).

use std::borrow::Cow;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use healthcode_domain::ValidationError;
use healthcode_service::{AtPolicy, IngestReport, RowStatus, Source};

use crate::api::policy::{allow, Action};
use serde_json::Value;

use crate::api::{BatchBody, JsonBody};
use crate::{ApiError, AppState};

/// One event. 201 when accepted, 200 when a duplicate of a stored one, 422 when rejected
/// (400 when it is not JSON at all).
pub(crate) async fn one(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let source = data_source(&state, &headers).await?;
    let text = without_nul(body.text()?).into_owned();
    ingest_one(&state, source, text, "api").await
}

/// The department a data feed speaks for: only its own evidence is accepted.
pub(crate) async fn data_source(state: &AppState, headers: &HeaderMap) -> Result<(Source, String), ApiError> {
    let account = allow(state, headers, Action::SubmitEvidence).await?;
    let department =
        account.department.ok_or_else(|| ApiError::Forbidden("this data source has no department".into()))?;
    Ok((Source::Department(department), account.username))
}

/// One `area_risk` designation (`type` may be left out), as a proposal: it takes effect
/// when a provincial officer other than the proposer approves it (202 with the proposal).
pub(crate) async fn designation(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let office = allow(&state, &headers, Action::Designate).await?;
    let text = without_nul(body.text()?).into_owned();
    let mut value: Value = serde_json::from_str(&text)
        .map_err(|e| ApiError::InvalidJson(format!("the body is not JSON ({e}); send an `area_risk` designation")))?;
    if let Value::Object(object) = &mut value {
        match object.get("type") {
            None => {
                object.insert("type".into(), Value::String("area_risk".into()));
            }
            Some(Value::String(t)) if t == "area_risk" => {}
            Some(_) => {
                return Err(ApiError::InvalidEvent(ValidationError::field(
                    "type",
                    "this endpoint takes `area_risk` designations (`type` may be left out); send evidence about \
                     persons to /v1/events",
                )))
            }
        }
        if object.contains_key("at") {
            return Err(ApiError::InvalidEvent(ValidationError::field(
                "at",
                "field `at` is set by the server when the designation is approved; remove it",
            )));
        }
    }
    let parsed = healthcode_domain::parse_event(&value, state.service.now()).map_err(ApiError::InvalidEvent)?;
    let healthcode_domain::EventBody::AreaRisk(risk) = parsed.body else {
        return Err(ApiError::InvalidEvent(ValidationError::field("type", "a designation is an `area_risk` event")));
    };
    let event_id = parsed.id.map(|id| id.as_str().to_string());
    let proposal =
        state.service.propose_designation_as(&office, event_id, risk.area, risk.level, risk.escalate_to_red).await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "proposal": proposal }))).into_response())
}

/// A designation proposal, approved by a provincial officer other than its proposer.
pub(crate) async fn approve_designation(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<axum::extract::Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let by = allow(&state, &headers, Action::ApproveDesignation).await?;
    let id = crate::api::id_in_path(path, "proposal")?;
    Ok(Json(serde_json::json!({ "proposal": state.service.approve_designation(&by, &id).await? })))
}

pub(crate) async fn designation_proposals(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    allow(&state, &headers, Action::ReadDesignationProposals).await?;
    Ok(Json(serde_json::json!({ "proposals": state.service.designation_proposals().await? })))
}

async fn ingest_one(
    state: &AppState,
    source: (Source, String),
    text: String,
    origin: &str,
) -> Result<Response, ApiError> {
    // The same test the service applies (`IgnoredAny` would let `1e999` through).
    let is_json = serde_json::from_str::<Value>(&text).is_ok();
    let origin = format!("{origin} ({})", source.1);
    let report =
        state.service.ingest_owned(source.0, Some(&source.1), &[1], &[text], AtPolicy::ServerClock, &origin).await?;
    row_response(report, is_json)
}

/// The answer for one ingested row: 201 accepted, 200 duplicate, 422 (400 if not JSON)
/// rejected.
fn row_response(report: IngestReport, is_json: bool) -> Result<Response, ApiError> {
    let row = report.rows.into_iter().next().ok_or_else(|| ApiError::internal("ingest gave no outcome for the row"))?;
    match row.status {
        RowStatus::Accepted => Ok((StatusCode::CREATED, Json(row)).into_response()),
        RowStatus::Duplicate => Ok((StatusCode::OK, Json(row)).into_response()),
        RowStatus::Rejected => {
            let error = ValidationError { field: row.field, message: row.error.unwrap_or_default() };
            Err(if is_json { ApiError::InvalidEvent(error) } else { ApiError::InvalidJson(error.message) })
        }
    }
}

/// NDJSON, one event per line (`\n` or `\r\n`). Each non-blank line gets an outcome whose
/// `row` is its line number in the submitted file: blank lines are skipped but counted.
/// The caller is authorised before the body (up to 64 MiB) is read.
pub(crate) async fn batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Result<Json<IngestReport>, ApiError> {
    let (source, who) = data_source(&state, &headers).await?;
    let body = BatchBody::read(request).await?;
    let (line_numbers, rows) = split_lines(body.text()?);
    if rows.is_empty() {
        return Err(ApiError::InvalidInput(ValidationError::new(
            "the batch is empty: send one JSON event per line (NDJSON)",
        )));
    }
    let origin = format!("api batch ({who})");
    let report =
        state.service.ingest_owned(source, Some(&who), &line_numbers, &rows, AtPolicy::ServerClock, &origin).await?;
    Ok(Json(report))
}

/// The non-blank lines of a batch with their 1-based line numbers.
fn split_lines(text: &str) -> (Vec<usize>, Vec<String>) {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| (i + 1, without_nul(line).into_owned()))
        .unzip()
}

/// JSON text never holds a NUL character raw, and no event field may hold one escaped
/// (`\u0000`): PostgreSQL text cannot store it. Each is replaced by a raw U+0001, a
/// control character that JSON forbids in the same places, so the row is refused by
/// the parser at the very column of the NUL (and the kept input is storable).
pub(crate) fn without_nul(row: &str) -> Cow<'_, str> {
    if !row.contains('\0') && !row.contains("\\u0000") {
        return Cow::Borrowed(row);
    }
    let mut out = String::with_capacity(row.len());
    let mut rest = row;
    while let Some(c) = rest.chars().next() {
        if c == '\\' {
            if rest[1..].starts_with("u0000") {
                out.push('\u{1}');
                rest = &rest[6..];
            } else {
                // An escape pair (`\\`, `\"`, …) is copied whole so `\\u0000` stays text.
                let pair = rest[1..].chars().next().map_or(1, |n| 1 + n.len_utf8());
                out.push_str(&rest[..pair]);
                rest = &rest[pair..];
            }
        } else {
            out.push(if c == '\0' { '\u{1}' } else { c });
            rest = &rest[c.len_utf8()..];
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::{split_lines, without_nul};

    #[test]
    fn nul_raw_or_escaped_becomes_a_control_character_the_parser_refuses() {
        assert_eq!(without_nul(r#"{"a":"x"}"#), r#"{"a":"x"}"#);
        assert_eq!(without_nul("{\"a\":\"x\0y\"}"), "{\"a\":\"x\u{1}y\"}");
        assert_eq!(without_nul(r#"{"a":"x\u0000y"}"#), "{\"a\":\"x\u{1}y\"}");
        assert_eq!(without_nul(r#"{"a":"x\\u0000y"}"#), r#"{"a":"x\\u0000y"}"#, "an escaped backslash");
        assert_eq!(without_nul(r#"{"a":"é\u0000\"}"#), "{\"a\":\"é\u{1}\\\"}");
        for text in ["{\"a\":\"x\0\"}", r#"{"a":"x\u0000"}"#] {
            assert!(serde_json::from_str::<serde_json::Value>(&without_nul(text)).is_err(), "{text:?}");
        }
        assert_eq!(without_nul("tail\\"), "tail\\");
    }

    #[test]
    fn line_numbers_count_blank_lines_and_crlf() {
        let (numbers, rows) = split_lines("{\"a\":1}\r\n\r\n  \n{\"b\":2}\n\n");
        assert_eq!(numbers, [1, 4]);
        assert_eq!(rows, ["{\"a\":1}", "{\"b\":2}"]);
    }
}
