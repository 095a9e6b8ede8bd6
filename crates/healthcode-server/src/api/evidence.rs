//! Evidence over HTTP: one event, or a batch of NDJSON lines, from a department's data
//! source; and the rejection log. `at` is always the server's clock
//! (`AtPolicy::ServerClock`): an event that brings its own `at` is refused. Refused inputs
//! are kept, with their reason, in the rejection log (`GET /v1/rejections`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use healthcode_domain::ValidationError;
use serde::Serialize;
use serde_json::Value;

use crate::api::extract::{Actor, QueryParams};
use crate::api::policy::may;
use crate::api::{BatchBody, JsonBody};
use crate::{ApiError, AppState};
use healthcode_service::{AtPolicy, IngestReport, RowOutcome, RowStatus, Source};
use healthcode_store::{Account, Rejection};
use std::borrow::Cow;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(one)).routes(routes!(batch)).routes(routes!(rejections))
}

/// An event as the OpenAPI document sketches it: `parse_event` reads the JSON itself (each
/// type has fields of its own) and refuses what it does not know, naming the field; this
/// lists the envelope every type shares (`healthcode_domain::event::parse`'s `ENVELOPE`).
#[allow(dead_code)] // A description only: never built.
#[derive(utoipa::ToSchema)]
pub(crate) struct EventSketch {
    /// `test`, `diagnosis`, `close_contact`, `entry`, `stay`, `vaccination`, `retraction`, …
    r#type: String,
    /// The department's id for the record: sent again, the event is a duplicate, not a second one.
    id: Option<String>,
    /// The person, by pseudonymous id …
    person_id: Option<String>,
    /// … or by document (`resident_id`, `passport`, …) and number.
    id_type: Option<String>,
    id_number: Option<String>,
    /// When it happened (RFC 3339); now if absent.
    at: Option<String>,
    /// Annotations the rules never read.
    note: Option<String>,
}

/// One event. 201 when accepted, 200 when a duplicate of a stored one, 422 when rejected
/// (400 when it is not JSON at all).
#[utoipa::path(
    post,
    path = "/v1/events",
    tag = "evidence",
    request_body = EventSketch,
    responses((status = 201, description = "the event was stored: `{row: 1, status: \"accepted\", id}`", body = RowOutcome), (status = 200, description = "the same event was already stored (idempotent): `{row: 1, status: \"duplicate\", id}`", body = RowOutcome)),
    security(("staff_key" = []))
)]
pub(crate) async fn one(
    State(state): State<AppState>,
    by: Actor<may::SubmitEvidence>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let source = data_source(&by)?;
    let text = without_nul(body.text()?).into_owned();
    ingest_one(&state, source, text, "api").await
}

/// The department a data feed speaks for: only its own evidence is accepted.
pub(crate) fn data_source(account: &Account) -> Result<(Source, String), ApiError> {
    let department =
        account.department.ok_or_else(|| ApiError::Forbidden("this data source has no department".into()))?;
    Ok((Source::Department(department), account.username.clone()))
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
    let report = state
        .service
        .evidence()
        .ingest_owned(source.0, Some(&source.1), &[1], &[text], AtPolicy::ServerClock, &origin)
        .await?;
    follow_up_retractions(state, &report).await?;
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
/// The caller is authorised (`Actor`, from the request's head) before the body (up to
/// 64 MiB) is read.
#[utoipa::path(
    post,
    path = "/v1/events/batch",
    tag = "evidence",
    request_body(content = String, description = "NDJSON: one event per line", content_type = "application/x-ndjson"),
    responses((status = 200, description = "a report per line: accepted, duplicate or rejected with its reason (kept in /v1/rejections)", body = IngestReport)),
    security(("staff_key" = []))
)]
pub(crate) async fn batch(
    State(state): State<AppState>,
    by: Actor<may::SubmitEvidence>,
    body: BatchBody,
) -> Result<Json<IngestReport>, ApiError> {
    let (source, who) = data_source(&by)?;
    let (line_numbers, rows) = split_lines(body.text()?);
    if rows.is_empty() {
        return Err(ApiError::InvalidInput(ValidationError::new(
            "the batch is empty: send one JSON event per line (NDJSON)",
        )));
    }
    let origin = format!("api batch ({who})");
    let report = state
        .service
        .evidence()
        .ingest_owned(source, Some(&who), &line_numbers, &rows, AtPolicy::ServerClock, &origin)
        .await?;
    follow_up_retractions(&state, &report).await?;
    Ok(Json(report))
}

/// Complaints waiting for a retracted record follow it at once (the scheduler would on
/// its next tick): the resident sees the step and, if the code changed, the answer.
async fn follow_up_retractions(state: &AppState, report: &IngestReport) -> Result<(), ApiError> {
    if report.retractions > 0 {
        state.service.residents().follow_up_complaints().await?;
    }
    Ok(())
}

/// The non-blank lines of a batch with their 1-based line numbers.
pub(crate) fn split_lines(text: &str) -> (Vec<usize>, Vec<String>) {
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

/// A page of the rejection log.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Rejections {
    rejections: Vec<Rejection>,
    /// The `after` of the next page; null when this page is the last.
    #[schema(required = true)]
    next_after: Option<i64>,
}

/// Rejected inputs, oldest first: at most `limit` (1 to 1000, default 100) with an id
/// above `after` (default 0). `next_after` is the `after` of the next page, or null
/// when this page is the last. ID numbers in the kept inputs are masked (and were when
/// they were kept); a data source reads only the rejections of its own inputs.
#[utoipa::path(
    get,
    path = "/v1/rejections",
    tag = "evidence",
    params(("after" = Option<u64>, Query, description = "the last `next_after` seen"), ("limit" = Option<u64>, Query, description = "at most this many (1–1000)")),
    responses((status = 200, description = "`{rejections, next_after}`: refused inputs with their reasons", body = Rejections)),
    security(("staff_key" = []))
)]
pub(crate) async fn rejections(
    State(state): State<AppState>,
    reader: Actor<may::ReadRejections>,
    query: QueryParams,
) -> Result<Json<Rejections>, ApiError> {
    let after = query.whole_number("after", Some(0))? as i64;
    let limit = query.whole_number("limit", Some(100))?.clamp(1, 1000) as usize;
    let mut rejections = state.service.evidence().rejections(&reader, after, limit).await?;
    for r in &mut rejections {
        r.input = redact_id_numbers(&r.input);
    }
    let next_after = if rejections.len() == limit { rejections.last().map(|r| r.id) } else { None };
    Ok(Json(Rejections { rejections, next_after }))
}

/// Masks the value of every `"id_number"` in a kept input (JSON or not quite JSON): the
/// rejection log is for finding and fixing bad rows, not for reading ID numbers.
pub(crate) fn redact_id_numbers(input: &str) -> String {
    const KEY: &str = "\"id_number\"";
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(found) = rest.find(KEY) {
        let after_key = found + KEY.len();
        out.push_str(&rest[..after_key]);
        rest = &rest[after_key..];
        // Keep the separator (spaces and a colon), then mask the value.
        let separator = rest.len() - rest.trim_start_matches(|c: char| c.is_whitespace() || c == ':').len();
        out.push_str(&rest[..separator]);
        rest = &rest[separator..];
        let value_len = if let Some(string) = rest.strip_prefix('"') {
            // Up to the closing quote (escapes skipped), or the end of a broken input.
            let mut escaped = false;
            let close = string.char_indices().find(|&(_, c)| {
                let end = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                end
            });
            close.map_or(rest.len(), |(i, _)| i + 2)
        } else {
            rest.find(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '+' | '-'))).unwrap_or(rest.len())
        };
        if value_len > 0 {
            out.push_str("\"***\"");
        }
        rest = &rest[value_len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::{redact_id_numbers, split_lines, without_nul};

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

    #[test]
    fn id_numbers_are_masked_in_json_and_broken_json() {
        let cases = [
            (
                r#"{"id_type":"passport","id_number":"E1234567","type":"fever"}"#,
                r#"{"id_type":"passport","id_number":"***","type":"fever"}"#,
            ),
            (r#"{"id_number" : "11010519491231002X"}"#, r#"{"id_number" : "***"}"#),
            (r#"{"id_number":110105194912310021,"x":1}"#, r#"{"id_number":"***","x":1}"#),
            (r#"{"id_number":"E12\"34"} tail"#, r#"{"id_number":"***"} tail"#),
            (r#"{"id_number":"E1234567"#, r#"{"id_number":"***""#),
            (r#"{"id_number":"#, r#"{"id_number":"#),
            (r#"{"person_id":"p1","type":"fever"}"#, r#"{"person_id":"p1","type":"fever"}"#),
            ("not json at all", "not json at all"),
        ];
        for (input, masked) in cases {
            assert_eq!(redact_id_numbers(input), masked, "{input}");
        }
    }
}
