//! Evidence and designations: stored once per id, numbered in ingestion order.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use healthcode_domain::{AreaRisk, Event, EventId, Evidence, PersonId, Timestamp};
use healthcode_store::{EvidenceColumns, Inserted, NewDesignation, NewEvidence, StoreError};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, Transaction};

use crate::evidence::id_array;
use crate::{backend, codec, corrupt};

pub(crate) fn insert_evidence(conn: &mut Connection, batch: &[NewEvidence]) -> Result<Vec<Inserted>, StoreError> {
    let tx = conn.transaction().map_err(backend("begin inserting evidence"))?;
    let outcomes = insert_evidence_in(&tx, batch)?;
    tx.commit().map_err(backend("commit evidence"))?;
    Ok(outcomes)
}

/// Inserts evidence inside a transaction the caller commits (a feed chunk commits it with
/// the batch's mark).
///
/// Stored ids are not looked up beforehand: the evidence id index finds them as each row
/// is inserted (`ON CONFLICT (id) DO NOTHING`), and only a row it turns away is read back
/// to tell a resend from a conflicting use of its id. A bulk load of new events thus pays
/// for one index probe per row, not two. Designations share the id space and are few:
/// their ids are looked up first.
pub(crate) fn insert_evidence_in<E: std::borrow::Borrow<NewEvidence>>(
    tx: &Transaction<'_>,
    batch: &[E],
) -> Result<Vec<Inserted>, StoreError> {
    let designated = designation_ids_among(tx, batch.iter().map(|e| e.borrow().id.as_str()).collect())?;

    // Outcomes in the batch's order; an id repeated within the batch is a duplicate of
    // its first use. `seq` is given in that order; a row the index turns away leaves a
    // gap (the sequence grows, it need not be dense).
    let mut seq = current_seq(tx)?;
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut first_use: HashMap<&str, &NewEvidence> = HashMap::new();
    let mut new: Vec<(usize, i64, &NewEvidence)> = Vec::with_capacity(batch.len());
    for (i, e) in batch.iter().enumerate() {
        let e = e.borrow();
        if designated.contains(e.id.as_str()) {
            outcomes.push(Inserted::Duplicate { same_content: false });
        } else if let Some(first) = first_use.get(e.id.as_str()) {
            outcomes.push(Inserted::Duplicate { same_content: same_record(e, first.person.as_str(), &first.evidence) });
        } else {
            seq += 1;
            first_use.insert(e.id.as_str(), e);
            new.push((i, seq, e));
            outcomes.push(Inserted::New { seq });
        }
    }
    if new.is_empty() {
        return Ok(outcomes);
    }

    // Written in key order, so that each page of the person-clustered table is visited
    // once per batch however the batch interleaves persons.
    new.sort_unstable_by(|(_, sa, a), (_, sb, b)| (a.person.as_str(), a.at, sa).cmp(&(b.person.as_str(), b.at, sb)));
    let mut turned_away: Vec<usize> = Vec::new();
    let mut hub_lines: Vec<(usize, &str)> = Vec::new();
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO evidence (seq, id, person_id, at, kind, value, t1, t2, text, n, extra)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (id) DO NOTHING",
            )
            .map_err(backend("prepare an evidence insert"))?;
        let mut stay = tx
            .prepare_cached("INSERT INTO stays (seq, person_id, area_normal, ended_at) VALUES (?1, ?2, ?3, ?4)")
            .map_err(backend("prepare a stay insert"))?;
        let mut queued: Option<&str> = None;
        // Each person stored, due at their earliest new event, grouped by that time: one
        // statement per distinct time (a feed chunk has one) instead of one per person.
        let mut due: HashMap<i64, Vec<Value>> = HashMap::new();
        for &(index, seq, e) in &new {
            let person = e.person.as_str();
            let c = EvidenceColumns::encode(&e.evidence);
            let inserted = insert
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
            if inserted == 0 {
                turned_away.push(index);
                continue;
            }
            hub_lines.extend(e.hub_line.as_deref().map(|line| (index, line)));
            if let Evidence::Stay { area, to, .. } = &e.evidence {
                stay.execute((seq, person, area.normal(), to.map(Timestamp::as_millis)))
                    .map_err(backend("index a stay"))?;
            }
            // Sorted by person and time: a person's first stored row here is their earliest.
            if queued != Some(person) {
                due.entry(e.at.as_millis()).or_default().push(Value::Text(person.to_string()));
                queued = Some(person);
            }
        }
        // Only ever moves a queue entry earlier, and ends any claim on it (whoever claimed
        // it may have read the person's evidence before this); an unclaimed entry already
        // due as early is not rewritten.
        let mut queue = tx
            .prepare_cached(
                "INSERT INTO reevaluation_queue (person_id, due) SELECT value, ?2 FROM rarray(?1) WHERE true
                 ON CONFLICT (person_id) DO UPDATE SET due = min(due, excluded.due), claimed_until = NULL
                 WHERE excluded.due < due OR claimed_until IS NOT NULL",
            )
            .map_err(backend("prepare a queue insert"))?;
        for (at, persons) in due {
            queue.execute((Rc::new(persons), at)).map_err(backend("queue persons"))?;
        }
    }
    set_seq(tx, seq)?;
    hub_lines.sort_unstable_by_key(|&(index, _)| index);
    queue_for_hub(tx, hub_lines.into_iter().map(|(_, line)| line))?;

    if !turned_away.is_empty() {
        let stored = stored_under(tx, turned_away.iter().map(|&i| batch[i].borrow().id.as_str()), Tables::Evidence)?;
        for i in turned_away {
            let e = batch[i].borrow();
            let same_content = matches!(
                stored.get(e.id.as_str()),
                Some(Existing::Evidence(person, body)) if same_record(e, person, body)
            );
            outcomes[i] = Inserted::Duplicate { same_content };
        }
    }
    Ok(outcomes)
}

/// A record's content is who it is about and what it says. `at` is when it was received:
/// a resend received later (the server stamps `at`) is the same record.
fn same_record(e: &NewEvidence, person: &str, body: &Evidence) -> bool {
    person == e.person.as_str() && *body == e.evidence
}

pub(crate) fn insert_designations(
    conn: &mut Connection,
    batch: &[NewDesignation],
) -> Result<Vec<Inserted>, StoreError> {
    let tx = conn.transaction().map_err(backend("begin inserting designations"))?;
    let mut stored = stored_under(&tx, batch.iter().map(|d| d.id.as_str()), Tables::Both)?;
    let mut seq = current_seq(&tx)?;
    let mut outcomes = Vec::with_capacity(batch.len());
    {
        let mut insert = tx
            .prepare_cached("INSERT INTO designations (seq, id, at, body) VALUES (?1, ?2, ?3, ?4)")
            .map_err(backend("prepare a designation insert"))?;
        for d in batch {
            if let Some(found) = stored.get(d.id.as_str()) {
                let same_content =
                    matches!(found, Existing::Designation(at, risk) if *at == d.at.as_millis() && *risk == d.risk);
                outcomes.push(Inserted::Duplicate { same_content });
                continue;
            }
            let body = serde_json::to_string(&d.risk)
                .map_err(|e| StoreError::Backend(format!("cannot encode a designation: {e}")))?;
            seq += 1;
            insert.execute((seq, d.id.as_str(), d.at.as_millis(), &body)).map_err(backend("insert a designation"))?;
            stored.insert(d.id.to_string(), Existing::Designation(d.at.as_millis(), d.risk.clone()));
            outcomes.push(Inserted::New { seq });
        }
    }
    set_seq(&tx, seq)?;
    let new = batch.iter().zip(&outcomes).filter(|(_, o)| matches!(o, Inserted::New { .. }));
    queue_for_hub(&tx, new.filter_map(|(d, _)| d.hub_line.as_deref()))?;
    tx.commit().map_err(backend("commit designations"))?;
    Ok(outcomes)
}

/// Queues new records' lines for the national hub in the transaction that stores them (the
/// outbox the hub link drains: `FederationStore::queued_submissions`), in order.
pub(crate) fn queue_for_hub<'a>(tx: &Transaction<'_>, lines: impl Iterator<Item = &'a str>) -> Result<(), StoreError> {
    let mut lines = lines.peekable();
    if lines.peek().is_none() {
        return Ok(());
    }
    let mut insert = tx
        .prepare_cached("INSERT INTO national_submissions (line) VALUES (?1)")
        .map_err(backend("prepare queueing records for the national hub"))?;
    for line in lines {
        insert.execute([line]).map_err(backend("queue a record for the national hub"))?;
    }
    Ok(())
}

/// What is already stored under an event id: ids are one space across evidence and
/// designations.
enum Existing {
    Evidence(String, Evidence),
    Designation(i64, AreaRisk),
}

/// Which tables `stored_under` looks in.
#[derive(PartialEq)]
enum Tables {
    Evidence,
    Both,
}

/// Which of `ids` are designations' ids. Designations are few (hundreds in an epidemic)
/// and a feed chunk's ids many: reading them all is cheaper than probing for each id,
/// until there are more of them than ids asked about.
fn designation_ids_among<'a>(tx: &Transaction<'_>, ids: HashSet<&'a str>) -> Result<HashSet<&'a str>, StoreError> {
    let designations: i64 = tx
        .prepare_cached("SELECT count(*) FROM designations")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(backend("count designations"))?;
    let mut found = HashSet::new();
    let mut keep = |id: ValueRef<'_>| -> rusqlite::Result<()> {
        if let Some(id) = ids.get(id.as_str()?) {
            found.insert(*id);
        }
        Ok(())
    };
    let read = |e| StoreError::Backend(format!("cannot look up designation ids: {e}"));
    if designations as usize <= ids.len() {
        let mut stmt = tx.prepare_cached("SELECT id FROM designations").map_err(read)?;
        let mut rows = stmt.query([]).map_err(read)?;
        while let Some(r) = rows.next().map_err(read)? {
            keep(r.get_ref(0).map_err(read)?).map_err(read)?;
        }
    } else {
        let array: Rc<Vec<Value>> = Rc::new(ids.iter().map(|id| Value::Text(id.to_string())).collect());
        let mut stmt = tx.prepare_cached("SELECT id FROM designations WHERE id IN rarray(?1)").map_err(read)?;
        let mut rows = stmt.query([array]).map_err(read)?;
        while let Some(r) = rows.next().map_err(read)? {
            keep(r.get_ref(0).map_err(read)?).map_err(read)?;
        }
    }
    Ok(found)
}

/// What is stored under any of `ids`, looked up with one query per table.
fn stored_under<'a>(
    tx: &Transaction<'_>,
    ids: impl Iterator<Item = &'a str>,
    tables: Tables,
) -> Result<HashMap<String, Existing>, StoreError> {
    let ids: Rc<Vec<Value>> = Rc::new(ids.map(|id| Value::Text(id.to_string())).collect());
    let mut stored = HashMap::new();
    let mut stmt = tx
        .prepare_cached(&format!("SELECT id, person_id, {COLUMNS} FROM evidence WHERE id IN rarray(?1)"))
        .map_err(backend("look up event ids"))?;
    let mut rows = stmt.query([ids.clone()]).map_err(backend("look up event ids"))?;
    while let Some(r) = rows.next().map_err(backend("look up event ids"))? {
        let id: String = r.get(0).map_err(backend("look up event ids"))?;
        let person: String = r.get(1).map_err(backend("look up event ids"))?;
        stored.insert(id, Existing::Evidence(person, codec::decode(r, 2)?));
    }
    if tables == Tables::Evidence {
        return Ok(stored);
    }
    let mut stmt = tx
        .prepare_cached("SELECT id, at, body FROM designations WHERE id IN rarray(?1)")
        .map_err(backend("look up event ids"))?;
    let mut rows = stmt.query([ids]).map_err(backend("look up event ids"))?;
    while let Some(r) = rows.next().map_err(backend("look up event ids"))? {
        let id: String = r.get(0).map_err(backend("look up event ids"))?;
        let at: i64 = r.get(1).map_err(backend("look up event ids"))?;
        let body = r.get_ref(2).and_then(|v| Ok(v.as_str()?)).map_err(backend("look up event ids"))?;
        let risk = serde_json::from_str(body).map_err(|e| corrupt("designation body", e))?;
        stored.insert(id, Existing::Designation(at, risk));
    }
    Ok(stored)
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
    // Where each requested person's list is (their first place, if asked for twice).
    let mut place: HashMap<&str, usize> = HashMap::with_capacity(persons.len());
    for (i, p) in persons.iter().enumerate() {
        place.entry(p.as_str()).or_insert(i);
    }
    let mut lists: Vec<Vec<Event<Evidence>>> = std::iter::repeat_with(Vec::new).take(persons.len()).collect();
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT person_id, seq, id, at, {COLUMNS} FROM evidence WHERE person_id IN rarray(?1)"
        ))
        .map_err(backend("read evidence"))?;
    let mut rows = stmt.query([id_array(persons)]).map_err(backend("read evidence"))?;
    // A person's rows come together (one range of the primary key): look the person up
    // once per range, not once per row.
    let mut current: Option<(String, usize)> = None;
    while let Some(r) = rows.next().map_err(backend("read evidence"))? {
        let person = r.get_ref(0).and_then(|v| Ok(v.as_str()?)).map_err(backend("read evidence"))?;
        let i = match &current {
            Some((p, i)) if p == person => *i,
            _ => {
                let i = *place.get(person).ok_or_else(|| corrupt("evidence of a person not asked for", person))?;
                current = Some((person.to_string(), i));
                i
            }
        };
        lists[i].push(decode_row(r, 1)?);
    }
    for events in &mut lists {
        // Already in key order as SQLite reads it today; sorting sorted input is one pass.
        events.sort_by_key(Event::order_key);
    }
    Ok(persons
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let first = place[p.as_str()];
            let events = if first == i { std::mem::take(&mut lists[i]) } else { lists[first].clone() };
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

/// Designations matching a fixed SQL condition (never built from input) on a seq given
/// as `?1`, by `(at, seq)`.
pub(crate) fn designations_where(
    conn: &Connection,
    condition: &'static str,
    seq: i64,
) -> Result<Vec<Event<AreaRisk>>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT seq, id, at, body FROM designations WHERE {condition} ORDER BY at, seq"))
        .map_err(backend("read designations"))?;
    let rows = stmt
        .query_map([seq], |r| {
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
