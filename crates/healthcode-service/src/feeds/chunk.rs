//! One chunk of a batch: its rows admitted (off the async runtime), then committed in one
//! store transaction with the batch's mark.

use std::collections::HashSet;

use healthcode_domain::{PersonId, Timestamp};
use healthcode_store::{FeedChunk, FeedCommit, FeedCounts, FeedRejection, FeedRow, NationalLink, PersonRecord};
use serde_json::Value;

use super::{CsvHeader, RawLine, Spec};
use crate::admission::{parse_row, unknown_person, Admitted, NamedPersons};
use crate::redact::{kept_input, kept_parsed_input, mask_numbers};
use crate::{AtPolicy, Evidence, ServiceError};

/// A chunk after validation, before the store has seen it.
pub(super) struct Parsed {
    rows: Vec<FeedRow>,
    /// Which rows name their person by `person_id` (who must be registered already).
    by_id: Vec<bool>,
    named: NamedPersons,
    rejected: Vec<FeedRejection>,
    /// National pseudonyms of the persons named by document, in a region of the national
    /// exchange: linked once the chunk commits, as the event routes link theirs.
    links: Vec<NationalLink>,
}

impl Parsed {
    /// The persons named by `person_id`, each once.
    pub(super) fn named_by_id(&self) -> Vec<PersonId> {
        self.named.by_id.iter().cloned().collect()
    }
}

pub(super) fn parse_chunk(
    service: &Evidence,
    spec: &Spec,
    header: Option<&CsvHeader>,
    lines: Vec<(u64, RawLine)>,
    now: Timestamp,
) -> Parsed {
    let mut parsed = Parsed {
        rows: Vec::with_capacity(lines.len()),
        by_id: Vec::with_capacity(lines.len()),
        named: NamedPersons::default(),
        rejected: Vec::new(),
        links: Vec::new(),
    };
    for (line, raw) in lines {
        let text = match raw {
            RawLine::Text(text) => text,
            RawLine::Refused { reason, start } => {
                let input = mask_numbers(&start);
                parsed.rejected.push(FeedRejection { line, event_id: None, field: None, reason, input });
                continue;
            }
        };
        let value = match header {
            Some(header) => header.row(&text),
            None => parse_row(&text),
        };
        let admitted = value.map(|v| {
            let admitted = service.admit_value(&v, AtPolicy::ServerClock, now, spec.source);
            (v, admitted)
        });
        // What the rejection log keeps: an NDJSON row as sent, a CSV row as its JSON
        // object; identity numbers masked in both.
        let input = |value: Option<&Value>| match value {
            Some(v) if header.is_some() => kept_parsed_input(&v.to_string(), v),
            Some(v) => kept_parsed_input(&text, v),
            None => kept_input(&text),
        };
        match admitted {
            Ok((value, Ok((Admitted::Evidence(evidence), _))))
                if matches!(evidence.evidence, healthcode_domain::Evidence::Retraction { .. }) =>
            {
                parsed.rejected.push(FeedRejection {
                    line,
                    event_id: Some(evidence.id.to_string()),
                    field: Some("type".into()),
                    reason: "retractions are checked one by one against the record they withdraw: send them to \
                             /v1/events or /v1/events/batch, not in a bulk feed"
                        .into(),
                    input: input(Some(&value)),
                })
            }
            Ok((value, Ok((Admitted::Evidence(evidence), person)))) => {
                if let Some(healthcode_domain::PersonRef::Document(document)) = &person {
                    let linked = parsed.links.last().is_some_and(|l| l.person == evidence.person);
                    if let (false, Some(national_id)) = (linked, service.pseudonyms.national_id(document)) {
                        parsed.links.push(NationalLink { national_id, person: evidence.person.clone() });
                    }
                }
                parsed.by_id.push(person.is_some_and(|p| parsed.named.note(&evidence.person, &p)));
                parsed.rows.push(FeedRow { line, input: input(Some(&value)), evidence });
            }
            Ok((value, Ok((Admitted::Designation(_), _)))) => parsed.rejected.push(FeedRejection {
                line,
                event_id: None,
                field: Some("type".into()),
                reason: "area designations are made by the provincial office at /v1/designations, not by data feeds"
                    .into(),
                input: input(Some(&value)),
            }),
            Ok((value, Err(e))) => parsed.rejected.push(FeedRejection {
                line,
                event_id: value.get("id").and_then(Value::as_str).map(|s| s.chars().take(200).collect()),
                field: e.field,
                reason: e.message,
                input: input(Some(&value)),
            }),
            Err(e) => parsed.rejected.push(FeedRejection {
                line,
                event_id: None,
                field: e.field,
                reason: spanning(e.message, line, &text),
                input: input(None),
            }),
        }
    }
    parsed
}

/// A reason for refusing a CSV record that spans lines says which: the lines after its
/// first were taken into it by a quote, and a stray quote is the likely mistake.
fn spanning(reason: String, line: u64, text: &str) -> String {
    match text.matches('\n').count() {
        0 => reason,
        breaks => format!(
            "{reason} (this record runs from line {line} to line {}: a quoted field takes in the line breaks until \
             its closing quote; if no field should span lines, a quote on line {line} is stray or unclosed, and the \
             rows on the lines after it are inside this record)",
            line + breaks as u64
        ),
    }
}

/// Commits a parsed chunk: evidence about persons named by `person_id` who are not
/// `known` (looked up after the previous chunk committed, so that persons it registered
/// by document count) is rejected.
#[allow(clippy::too_many_arguments)] // one chunk's place in its batch, spelled out
pub(super) async fn commit(
    service: &Evidence,
    spec: &Spec,
    parsed: Parsed,
    known: &HashSet<PersonId>,
    after: u64,
    through: u64,
    complete: bool,
    now: Timestamp,
) -> Result<FeedCounts, ServiceError> {
    let Parsed { rows, by_id, named, mut rejected, links } = parsed;
    // What travels to the hub (key-person records, if this region takes part in the
    // national exchange) is queued with the rows that carry it, in the chunk's transaction.
    let mut rows = rows;
    {
        let mut evidence: Vec<&mut healthcode_store::NewEvidence> = rows.iter_mut().map(|r| &mut r.evidence).collect();
        service.attach_hub_lines(&mut evidence, &links).await?;
    }
    let mut kept = Vec::with_capacity(rows.len());
    for (row, by_id) in rows.into_iter().zip(by_id) {
        if by_id && !known.contains(&row.evidence.person) {
            let refusal = unknown_person(&row.evidence.person);
            rejected.push(FeedRejection {
                line: row.line,
                event_id: Some(row.evidence.id.to_string()),
                field: refusal.field,
                reason: refusal.message,
                input: row.input,
            });
        } else {
            kept.push(row);
        }
    }
    let chunk = FeedChunk {
        owner: spec.owner.clone(),
        batch: spec.batch.clone(),
        format: spec.format.as_str().to_string(),
        received_at: now,
        origin: spec.origin.clone(),
        after,
        through,
        complete,
        persons: named
            .by_document
            .into_iter()
            .map(|(id, kind)| PersonRecord { id, kind, registered_at: now, residence_area: None })
            .collect(),
        rows: kept,
        rejected,
    };
    let validation_rejected = chunk.rejected.len() as u64;
    match service.feed_store.commit_feed_chunk(chunk).await? {
        FeedCommit::Committed(outcomes) => {
            // After the chunk's transaction: a server dying in between leaves these
            // persons unlinked until they are named again (their records went to the hub
            // with the chunk).
            service.link_national(links).await?;
            Ok(FeedCounts::from_outcomes(validation_rejected, &outcomes))
        }
        FeedCommit::Moved { committed_through } => Err(ServiceError::Conflict(format!(
            "batch `{}` was moved to line {committed_through} by another upload meanwhile; ask where it stands \
             (GET) and resume from there",
            spec.batch
        ))),
    }
}
