use axum::extract::State;
use axum::Json;
use healthcode_domain::ValidationError;
use serde_json::{json, Value};

use crate::api::{query_params, RawQuery};
use crate::{ApiError, AppState};

/// Rejected inputs, oldest first: at most `limit` (1 to 1000, default 100) with an id
/// above `after` (default 0). `next_after` is the `after` of the next page, or null
/// when this page is the last. ID numbers in the kept inputs are masked (and were when
/// they were kept); a data source reads only the rejections of its own inputs.
pub(crate) async fn rejections(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    query: RawQuery,
) -> Result<Json<Value>, ApiError> {
    let reader = crate::api::policy::allow(&state, &headers, crate::api::policy::Action::ReadRejections).await?;
    let query = query_params(query)?;
    let number = |name: &str, default: i64| -> Result<i64, ApiError> {
        match query.get(name) {
            None => Ok(default),
            Some(v) => v.trim().parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                ApiError::InvalidInput(ValidationError::field(
                    name,
                    format!("`{name}` must be a whole number of at least 0"),
                ))
            }),
        }
    };
    let after = number("after", 0)?;
    let limit = number("limit", 100)?.clamp(1, 1000) as usize;
    let mut rejections = state.service.rejections(&reader, after, limit).await?;
    for r in &mut rejections {
        r.input = redact_id_numbers(&r.input);
    }
    let next_after = if rejections.len() == limit { rejections.last().map(|r| r.id) } else { None };
    Ok(Json(json!({"rejections": rejections, "next_after": next_after})))
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

/// The active rule set, published read-only.
pub(crate) async fn rules(State(state): State<AppState>) -> Json<Value> {
    let rules = state.service.rules();
    let list: Vec<Value> = rules.rules().map(|r| json!({"id": r.id, "colour": r.colour, "title": r.title})).collect();
    Json(json!({
        "name": rules.name(),
        "version": rules.version(),
        "digest": rules.digest(),
        "rules": list,
        "source": rules.file(),
    }))
}

/// Persons, codes by colour (every colour, 0 when none) and the re-evaluation queue.
pub(crate) async fn stats(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let stats = state.service.stats().await?;
    let mut codes = json!({});
    for (colour, n) in stats.codes {
        codes[colour.as_str()] = json!(n);
    }
    Ok(Json(json!({ "persons": stats.persons, "codes": codes, "queue": stats.queue })))
}

#[cfg(test)]
mod tests {
    use super::redact_id_numbers;

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
