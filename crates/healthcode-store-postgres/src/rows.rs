//! Rows read by several capabilities, decoded in one place.

use healthcode_domain::{AreaCode, AreaRisk, Colour, Event, EventId, Evidence, PersonId, PersonKind, Timestamp};
use healthcode_store::{CodeState, EvidenceColumns, PersonRecord, StoreResult};
use tokio_postgres::Row;

use crate::{backend, corrupt};

pub(crate) const QUEUE_UPSERT: &str =
    "ON CONFLICT (person_id) DO UPDATE SET due = least(reevaluation_queue.due, excluded.due), claimed_until = NULL";
pub(crate) const EVIDENCE_COLUMNS: &str = "kind, value, t1, t2, text, n, extra";
pub(crate) const CODE_COLUMNS: &str =
    "person_id, colour, reasons, evidence, since, evaluated_at, rules_version, next_change, revision";

pub(crate) fn ids(persons: &[PersonId]) -> Vec<&str> {
    persons.iter().map(PersonId::as_str).collect()
}

pub(crate) fn ms(t: Timestamp) -> i64 {
    t.as_millis()
}

pub(crate) fn person(row: &Row) -> StoreResult<PersonRecord> {
    Ok(PersonRecord {
        id: PersonId::parse(row.get(0)).map_err(|e| corrupt("person id", e))?,
        kind: PersonKind::parse(row.get(1)).map_err(|e| corrupt("person kind", e))?,
        registered_at: Timestamp::from_millis(row.get(2)),
        residence_area: row
            .get::<_, Option<&str>>(3)
            .map(|a| AreaCode::parse(a).map_err(|e| corrupt("residence area", e)))
            .transpose()?,
    })
}

/// The evidence columns, from column `first`.
pub(crate) fn evidence_body(row: &Row, first: usize) -> StoreResult<Evidence> {
    EvidenceColumns {
        kind: row.get(first),
        value: row.get(first + 1),
        t1: row.get(first + 2),
        t2: row.get(first + 3),
        text: row.get(first + 4),
        n: row.get(first + 5),
        extra: row.get::<_, Option<&str>>(first + 6).map(Into::into),
    }
    .decode()
}

/// `seq, id, at` then the evidence columns, from column `first`.
pub(crate) fn evidence(row: &Row, first: usize) -> StoreResult<Event<Evidence>> {
    let body = evidence_body(row, first + 3)?;
    Ok(Event {
        seq: row.get(first),
        id: EventId::parse(row.get(first + 1)).map_err(|e| corrupt("event id", e))?,
        at: Timestamp::from_millis(row.get(first + 2)),
        body,
    })
}

pub(crate) fn designation(row: &Row) -> StoreResult<Event<AreaRisk>> {
    Ok(Event {
        seq: row.get(0),
        id: EventId::parse(row.get(1)).map_err(|e| corrupt("designation id", e))?,
        at: Timestamp::from_millis(row.get(2)),
        body: serde_json::from_str(row.get(3)).map_err(|e| corrupt("designation body", e))?,
    })
}

pub(crate) fn code(row: &Row) -> StoreResult<CodeState> {
    code_from(row, 0)
}

/// The `CODE_COLUMNS`, from column `first`.
pub(crate) fn code_from(row: &Row, first: usize) -> StoreResult<CodeState> {
    let colour: &str = row.get(first + 1);
    Ok(CodeState {
        person: PersonId::parse(row.get(first)).map_err(|e| corrupt("code person id", e))?,
        colour: Colour::parse(colour).ok_or_else(|| corrupt("colour", colour))?,
        reasons: serde_json::from_str(row.get(first + 2)).map_err(|e| corrupt("reasons", e))?,
        evidence: serde_json::from_str(row.get(first + 3)).map_err(|e| corrupt("reason evidence", e))?,
        since: Timestamp::from_millis(row.get(first + 4)),
        evaluated_at: Timestamp::from_millis(row.get(first + 5)),
        rules_version: row.get(first + 6),
        next_change: row.get::<_, Option<i64>>(first + 7).map(Timestamp::from_millis),
        revision: row.get(first + 8),
    })
}

pub(crate) fn person_id(row: &Row) -> StoreResult<PersonId> {
    PersonId::parse(row.get(0)).map_err(|e| corrupt("person id", e))
}

/// What is already stored under a designation's id (ids are one space across kinds).
pub(crate) enum Existing {
    Evidence,
    Designation(i64, String),
}

pub(crate) async fn existing(tx: &deadpool_postgres::Transaction<'_>, id: &str) -> StoreResult<Option<Existing>> {
    if tx
        .query_opt("SELECT 1 FROM evidence WHERE id = $1", &[&id])
        .await
        .map_err(backend("look up an event id"))?
        .is_some()
    {
        return Ok(Some(Existing::Evidence));
    }
    let row = tx
        .query_opt("SELECT at, body FROM designations WHERE id = $1", &[&id])
        .await
        .map_err(backend("look up an event id"))?;
    Ok(row.map(|r| Existing::Designation(r.get(0), r.get(1))))
}
