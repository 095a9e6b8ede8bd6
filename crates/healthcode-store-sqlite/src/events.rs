//! Evidence and designations: stored once per id, numbered in ingestion order.

use std::collections::HashMap;

use healthcode_domain::{AreaRisk, Event, EventId, Evidence, PersonId, Timestamp};
use healthcode_store::{Inserted, NewDesignation, NewEvidence, StoreError};
use rusqlite::{Connection, OptionalExtension, Transaction};

use crate::persons::id_array;
use crate::{backend, codec, corrupt};

pub(crate) fn insert_evidence(conn: &mut Connection, batch: &[NewEvidence]) -> Result<Vec<Inserted>, StoreError> {
    let tx = conn.transaction().map_err(backend("begin inserting evidence"))?;
    let mut seq = current_seq(&tx)?;
    let mut outcomes = Vec::with_capacity(batch.len());
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO evidence (seq, id, person_id, at, kind, value, t1, t2, text, n, extra)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .map_err(backend("prepare an evidence insert"))?;
        let mut stay = tx
            .prepare_cached("INSERT INTO stays (seq, person_id, area_normal, ended_at) VALUES (?1, ?2, ?3, ?4)")
            .map_err(backend("prepare a stay insert"))?;
        let mut queue = tx
            .prepare_cached(
                "INSERT INTO reevaluation_queue (person_id, due) VALUES (?1, ?2)
                 ON CONFLICT (person_id) DO UPDATE SET due = min(due, excluded.due)",
            )
            .map_err(backend("prepare a queue insert"))?;
        for e in batch {
            if let Some(existing) = existing(&tx, e.id.as_str())? {
                let same_content = matches!(existing, Existing::Evidence(person, at, ref ev)
                    if person == e.person.as_str() && at == e.at.as_millis() && *ev == e.evidence);
                outcomes.push(Inserted::Duplicate { same_content });
                continue;
            }
            seq += 1;
            let person = e.person.as_str();
            let c = healthcode_store::EvidenceColumns::encode(&e.evidence);
            insert
                .execute(rusqlite::params![
                    seq,
                    e.id.as_str(),
                    person,
                    e.at.as_millis(),
                    c.kind,
                    c.value,
                    c.t1,
                    c.t2,
                    c.text,
                    c.n,
                    c.extra
                ])
                .map_err(backend("insert evidence"))?;
            if let Evidence::Stay { area, to, .. } = &e.evidence {
                stay.execute((seq, person, area.normal(), to.map(Timestamp::as_millis)))
                    .map_err(backend("index a stay"))?;
            }
            queue.execute((person, e.at.as_millis())).map_err(backend("queue a person"))?;
            outcomes.push(Inserted::New { seq });
        }
    }
    set_seq(&tx, seq)?;
    tx.commit().map_err(backend("commit evidence"))?;
    Ok(outcomes)
}

pub(crate) fn insert_designations(
    conn: &mut Connection,
    batch: &[NewDesignation],
) -> Result<Vec<Inserted>, StoreError> {
    let tx = conn.transaction().map_err(backend("begin inserting designations"))?;
    let mut seq = current_seq(&tx)?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for d in batch {
        let body = serde_json::to_string(&d.risk).map_err(|e| corrupt("designation body", e))?;
        if let Some(existing) = existing(&tx, d.id.as_str())? {
            let same_content =
                matches!(existing, Existing::Designation(at, ref b) if at == d.at.as_millis() && *b == body);
            outcomes.push(Inserted::Duplicate { same_content });
            continue;
        }
        seq += 1;
        tx.prepare_cached("INSERT INTO designations (seq, id, at, body) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut s| s.execute((seq, d.id.as_str(), d.at.as_millis(), &body)))
            .map_err(backend("insert a designation"))?;
        outcomes.push(Inserted::New { seq });
    }
    set_seq(&tx, seq)?;
    tx.commit().map_err(backend("commit designations"))?;
    Ok(outcomes)
}

/// What is already stored under an event id: ids are one space across evidence and
/// designations.
enum Existing {
    Evidence(String, i64, Evidence),
    Designation(i64, String),
}

fn existing(tx: &Transaction<'_>, id: &str) -> Result<Option<Existing>, StoreError> {
    let mut stmt = tx
        .prepare_cached(&format!("SELECT person_id, at, {COLUMNS} FROM evidence WHERE id = ?1"))
        .map_err(backend("look up an event id"))?;
    let mut rows = stmt.query([id]).map_err(backend("look up an event id"))?;
    if let Some(r) = rows.next().map_err(backend("look up an event id"))? {
        let person: String = r.get(0).map_err(backend("look up an event id"))?;
        let at: i64 = r.get(1).map_err(backend("look up an event id"))?;
        return Ok(Some(Existing::Evidence(person, at, codec::decode(r, 2)?)));
    }
    tx.prepare_cached("SELECT at, body FROM designations WHERE id = ?1")
        .and_then(|mut s| s.query_row([id], |r| Ok(Existing::Designation(r.get(0)?, r.get(1)?))).optional())
        .map_err(backend("look up an event id"))
}

/// The evidence columns that `codec::decode` reads, in its order.
const COLUMNS: &str = "kind, value, t1, t2, text, n, extra";

fn current_seq(tx: &Transaction<'_>) -> Result<i64, StoreError> {
    tx.query_row("SELECT value FROM sequence WHERE name = 'events'", [], |r| r.get(0))
        .map_err(backend("read the event sequence"))
}

fn set_seq(tx: &Transaction<'_>, seq: i64) -> Result<(), StoreError> {
    tx.execute("UPDATE sequence SET value = ?1 WHERE name = 'events'", [seq])
        .map(|_| ())
        .map_err(backend("advance the event sequence"))
}

pub(crate) fn evidence_for(conn: &Connection, person: &PersonId) -> Result<Vec<Event<Evidence>>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT seq, id, at, {COLUMNS} FROM evidence WHERE person_id = ?1 ORDER BY at, seq"))
        .map_err(backend("read evidence"))?;
    let mut rows = stmt.query([person.as_str()]).map_err(backend("read evidence"))?;
    let mut events = Vec::new();
    while let Some(r) = rows.next().map_err(backend("read evidence"))? {
        events.push(decode_row(r, 0)?);
    }
    Ok(events)
}

type PersonHistory = (PersonId, Vec<Event<Evidence>>);

pub(crate) fn evidence_for_many(conn: &Connection, persons: &[PersonId]) -> Result<Vec<PersonHistory>, StoreError> {
    let mut by_person: HashMap<String, Vec<Event<Evidence>>> = HashMap::with_capacity(persons.len());
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT person_id, seq, id, at, {COLUMNS} FROM evidence WHERE person_id IN rarray(?1)"
        ))
        .map_err(backend("read evidence"))?;
    let mut rows = stmt.query([id_array(persons)]).map_err(backend("read evidence"))?;
    while let Some(r) = rows.next().map_err(backend("read evidence"))? {
        let person = r.get_ref(0).and_then(|v| Ok(v.as_str()?)).map_err(backend("read evidence"))?;
        let event = decode_row(r, 1)?;
        match by_person.get_mut(person) {
            Some(events) => events.push(event),
            None => {
                by_person.insert(person.to_string(), vec![event]);
            }
        }
    }
    Ok(persons
        .iter()
        .map(|p| {
            let mut events = by_person.remove(p.as_str()).unwrap_or_default();
            events.sort_by_key(Event::order_key);
            (p.clone(), events)
        })
        .collect())
}

pub(crate) fn mark_applied(conn: &mut Connection, seqs: &[i64]) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(backend("begin marking designations"))?;
    {
        let mut mark = tx
            .prepare_cached("UPDATE designations SET applied = 1 WHERE seq = ?1")
            .map_err(backend("prepare marking designations"))?;
        for seq in seqs {
            mark.execute([seq]).map_err(backend("mark a designation applied"))?;
        }
    }
    tx.commit().map_err(backend("commit marking designations"))
}

/// Designations matching a fixed SQL condition (never built from input), by `(at, seq)`.
pub(crate) fn designations_where(
    conn: &Connection,
    condition: &'static str,
) -> Result<Vec<Event<AreaRisk>>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT seq, id, at, body FROM designations WHERE {condition} ORDER BY at, seq"))
        .map_err(backend("read designations"))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, String>(3)?))
        })
        .map_err(backend("read designations"))?;
    rows.map(|r| {
        let (seq, id, at, body) = r.map_err(backend("read designations"))?;
        Ok(Event {
            id: EventId::parse(&id).map_err(|e| corrupt("designation id", e))?,
            at: Timestamp::from_millis(at),
            seq,
            body: serde_json::from_str(&body).map_err(|e| corrupt("designation body", e))?,
        })
    })
    .collect()
}

/// Decodes `seq, id, at` and the evidence columns, starting at column `first`.
fn decode_row(r: &rusqlite::Row<'_>, first: usize) -> Result<Event<Evidence>, StoreError> {
    let seq: i64 = r.get(first).map_err(backend("read evidence"))?;
    let id = r.get_ref(first + 1).and_then(|v| Ok(v.as_str()?)).map_err(backend("read evidence"))?;
    let at: i64 = r.get(first + 2).map_err(backend("read evidence"))?;
    Ok(Event {
        id: EventId::parse(id).map_err(|e| corrupt("event id", e))?,
        at: Timestamp::from_millis(at),
        seq,
        body: codec::decode(r, first + 3)?,
    })
}
