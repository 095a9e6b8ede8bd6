//! The hot write paths as set operations: one `INSERT … SELECT FROM UNNEST(…)` per table
//! for a whole batch, instead of one statement (and one round trip) per row.

use std::collections::{BTreeMap, HashMap};

use healthcode_domain::{Evidence, Timestamp};
use healthcode_store::{CodeState, EvidenceColumns, Inserted, NewEvidence, StoreError, StoreResult};

use crate::{backend, corrupt};

/// What is already stored under each id of a batch: evidence (its person and body) or a
/// designation (any content: an evidence id may never reuse it).
enum Stored {
    Evidence(String, Evidence),
    Designation,
}

pub(crate) async fn insert_evidence<E: std::borrow::Borrow<NewEvidence> + Sync>(
    tx: &deadpool_postgres::Transaction<'_>,
    batch: &[E],
) -> StoreResult<Vec<Inserted>> {
    // Ingestion from many servers runs at once: no lock is held across the batch but this
    // table lock, which evidence inserts share and only a designation's insert waits on
    // (ids are one space across both tables: `lock_for_designations`). Taken before the
    // lookup, so that a designation inserted meanwhile is seen by it.
    tx.batch_execute("LOCK TABLE evidence IN ROW EXCLUSIVE MODE").await.map_err(backend("lock evidence"))?;
    let ids: Vec<&str> = batch.iter().map(|e| e.borrow().id.as_str()).collect();
    let stored = stored_under(tx, &ids).await?;

    // Outcomes in order; an id repeated within the batch is a duplicate of its first use.
    let fresh = batch.iter().filter(|e| !stored.contains_key(e.borrow().id.as_str())).count();
    let mut seqs = reserve_seqs(tx, fresh).await?.into_iter();
    let mut first_use: HashMap<&str, &NewEvidence> = HashMap::new();
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut new: Vec<(i64, &NewEvidence)> = Vec::with_capacity(fresh);
    for e in batch {
        let e = e.borrow();
        if let Some(found) = stored.get(e.id.as_str()) {
            outcomes.push(Inserted::Duplicate { same_content: found.same_as(e) });
        } else if let Some(first) = first_use.get(e.id.as_str()) {
            outcomes.push(Inserted::Duplicate { same_content: same_record(first, e) });
        } else {
            let seq = seqs.next().ok_or_else(|| corrupt("sequence numbers", "fewer than reserved"))?;
            first_use.insert(e.id.as_str(), e);
            new.push((seq, e));
            outcomes.push(Inserted::New { seq });
        }
    }
    if new.is_empty() {
        return Ok(outcomes);
    }

    check_registered(tx, &new).await?;
    // In the order of their ids, so that two batches sharing ids wait on each other
    // instead of deadlocking.
    new.sort_unstable_by(|a, b| a.1.id.as_str().cmp(b.1.id.as_str()));
    let lost = insert_rows(tx, &new).await?;
    if !lost.is_empty() {
        // Another server stored some of these ids after they were looked up (two servers
        // given one event): they are its records, and duplicates here.
        let stored = stored_under(tx, &lost.iter().map(String::as_str).collect::<Vec<_>>()).await?;
        for (outcome, e) in outcomes.iter_mut().zip(batch) {
            let e = e.borrow();
            if matches!(outcome, Inserted::New { .. }) && lost.contains(e.id.as_str()) {
                let found =
                    stored.get(e.id.as_str()).ok_or_else(|| corrupt("evidence", "a conflicting id vanished"))?;
                *outcome = Inserted::Duplicate { same_content: found.same_as(e) };
            }
        }
        new.retain(|(_, e)| !lost.contains(e.id.as_str()));
    }
    let mut hub_lines: Vec<(i64, &str)> =
        new.iter().filter_map(|(seq, e)| e.hub_line.as_deref().map(|line| (*seq, line))).collect();
    hub_lines.sort_unstable_by_key(|&(seq, _)| seq);
    queue_for_hub(tx, hub_lines.into_iter().map(|(_, line)| line).collect()).await?;

    let stays: Vec<(i64, &str, &str, Option<i64>)> = new
        .iter()
        .filter_map(|(s, e)| match &e.evidence {
            Evidence::Stay { area, to, .. } => {
                Some((*s, e.person.as_str(), area.normal(), to.map(Timestamp::as_millis)))
            }
            _ => None,
        })
        .collect();
    if !stays.is_empty() {
        let (seqs, persons, areas, ends) = unzip4(stays);
        tx.execute(
            "INSERT INTO stays (seq, person_id, area_normal, ended_at)
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[])",
            &[&seqs, &persons, &areas, &ends],
        )
        .await
        .map_err(backend("index stays"))?;
    }

    // One queue row per person (an upsert may not touch a row twice), due at their earliest event.
    let mut due: HashMap<&str, i64> = HashMap::new();
    for (_, e) in &new {
        let at = e.at.as_millis();
        due.entry(e.person.as_str()).and_modify(|d| *d = (*d).min(at)).or_insert(at);
    }
    // Sorted, so that concurrent batches lock their persons' rows in one order.
    let mut due: Vec<(&str, i64)> = due.into_iter().collect();
    due.sort_unstable();
    let (persons, dues): (Vec<&str>, Vec<i64>) = due.into_iter().unzip();
    // Only ever moves an entry earlier, and ends any claim on it (its claimer may have
    // read the person before this evidence); an unclaimed one already due as early is not rewritten (a
    // bulk feed names the same persons chunk after chunk: rewriting them was a third of
    // a feed chunk's time) nor even reached by the upsert, which would lock its row.
    tx.execute(
        "INSERT INTO reevaluation_queue (person_id, due)
         SELECT u.person_id, u.due FROM UNNEST($1::text[], $2::bigint[]) AS u (person_id, due)
         WHERE NOT EXISTS (SELECT 1 FROM reevaluation_queue q
                           WHERE q.person_id = u.person_id AND q.due <= u.due AND q.claimed_until IS NULL)
         ON CONFLICT (person_id) DO UPDATE
           SET due = least(reevaluation_queue.due, excluded.due), claimed_until = NULL
         WHERE excluded.due < reevaluation_queue.due OR reevaluation_queue.claimed_until IS NOT NULL",
        &[&persons, &dues],
    )
    .await
    .map_err(backend("queue persons"))?;
    Ok(outcomes)
}

impl Stored {
    /// Whether `e` is the record stored: the same person and body. `at` is when it was
    /// received: a resend received later (the server stamps `at`) is the same record.
    fn same_as(&self, e: &NewEvidence) -> bool {
        matches!(self, Stored::Evidence(person, body) if person == e.person.as_str() && *body == e.evidence)
    }
}

fn same_record(a: &NewEvidence, b: &NewEvidence) -> bool {
    a.person == b.person && a.evidence == b.evidence
}

/// What is stored under each of `ids`, as evidence or as a designation.
async fn stored_under(tx: &deadpool_postgres::Transaction<'_>, ids: &[&str]) -> StoreResult<HashMap<String, Stored>> {
    let mut stored: HashMap<String, Stored> = HashMap::new();
    let rows = tx
        .query("SELECT id, person_id, kind, value, t1, t2, text, n, extra FROM evidence WHERE id = ANY($1)", &[&ids])
        .await
        .map_err(backend("look up event ids"))?;
    for row in &rows {
        let body = EvidenceColumns {
            kind: row.get(2),
            value: row.get(3),
            t1: row.get(4),
            t2: row.get(5),
            text: row.get(6),
            n: row.get(7),
            extra: row.get::<_, Option<&str>>(8).map(Into::into),
        }
        .decode()?;
        stored.insert(row.get(0), Stored::Evidence(row.get(1), body));
    }
    let rows = tx
        .query("SELECT id FROM designations WHERE id = ANY($1)", &[&ids])
        .await
        .map_err(backend("look up event ids"))?;
    for row in &rows {
        stored.insert(row.get(0), Stored::Designation);
    }
    Ok(stored)
}

/// Inserts the rows, and returns the ids among them that another transaction stored
/// first (none, unless two servers were given the same event at once). The fast way
/// first, in a savepoint; if an id is taken, again skipping the taken ones. An insert
/// that meets an id another open transaction is inserting waits for it to end.
async fn insert_rows(
    tx: &deadpool_postgres::Transaction<'_>,
    new: &[(i64, &NewEvidence)],
) -> StoreResult<std::collections::HashSet<String>> {
    tx.batch_execute("SAVEPOINT evidence_rows").await.map_err(backend("insert evidence"))?;
    let inserted = if new.len() >= COPY_FROM_ROWS {
        copy_evidence(tx, new).await
    } else {
        insert_evidence_rows(tx, new, false).await.map(|_| ())
    };
    match inserted {
        Ok(()) => {
            tx.batch_execute("RELEASE SAVEPOINT evidence_rows").await.map_err(backend("insert evidence"))?;
            Ok(Default::default())
        }
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT evidence_rows").await.map_err(backend("insert evidence"))?;
            let kept: std::collections::HashSet<String> =
                insert_evidence_rows(tx, new, true).await.map_err(backend("insert evidence"))?.into_iter().collect();
            Ok(new.iter().map(|(_, e)| e.id.as_str()).filter(|id| !kept.contains(*id)).map(str::to_string).collect())
        }
        Err(e) => Err(backend("insert evidence")(e)),
    }
}

/// Saves codes over the revisions they were evaluated from: if any stored code is at
/// another revision, nothing is saved (`CodeConflict`, and the caller's transaction is
/// dropped with everything in it).
pub(crate) async fn save_codes(tx: &deadpool_postgres::Transaction<'_>, codes: &[CodeState]) -> StoreResult<()> {
    // The last code given for a person wins (an upsert may not touch a row twice), in
    // person order, so that two servers saving codes of the same persons lock their rows in
    // one order and wait on each other instead of deadlocking (a map in hash order did, when
    // three servers ingested overlapping persons at once).
    let mut last: BTreeMap<&str, &CodeState> = BTreeMap::new();
    for c in codes {
        last.insert(c.person.as_str(), c);
    }
    let codes: Vec<&CodeState> = last.into_values().collect();
    if let Some(c) = codes.iter().find(|c| c.revision < 1) {
        return Err(StoreError::Backend(format!(
            "the code of {} has revision {}; revisions start at 1",
            c.person, c.revision
        )));
    }
    let persons: Vec<&str> = codes.iter().map(|c| c.person.as_str()).collect();
    let colours: Vec<&str> = codes.iter().map(|c| c.colour.as_str()).collect();
    let reasons = codes
        .iter()
        .map(|c| serde_json::to_string(&c.reasons).map_err(|e| corrupt("reasons", e)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let evidence = codes
        .iter()
        .map(|c| serde_json::to_string(&c.evidence).map_err(|e| corrupt("reason evidence", e)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let since: Vec<i64> = codes.iter().map(|c| c.since.as_millis()).collect();
    let evaluated: Vec<i64> = codes.iter().map(|c| c.evaluated_at.as_millis()).collect();
    let versions: Vec<&str> = codes.iter().map(|c| c.rules_version.as_str()).collect();
    let next: Vec<Option<i64>> = codes.iter().map(|c| c.next_change.map(Timestamp::as_millis)).collect();
    let revisions: Vec<i64> = codes.iter().map(|c| c.revision).collect();
    let saved = tx
        .query(
            "INSERT INTO codes
               (person_id, colour, reasons, evidence, since, evaluated_at, rules_version, next_change, revision)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],
                                  $7::text[], $8::bigint[], $9::bigint[])
             ON CONFLICT (person_id) DO UPDATE SET colour = excluded.colour, reasons = excluded.reasons,
               evidence = excluded.evidence, since = excluded.since, evaluated_at = excluded.evaluated_at,
               rules_version = excluded.rules_version, next_change = excluded.next_change,
               revision = excluded.revision
             WHERE codes.revision = excluded.revision - 1
             RETURNING person_id",
            &[&persons, &colours, &reasons, &evidence, &since, &evaluated, &versions, &next, &revisions],
        )
        .await
        .map_err(backend("save codes"))?;
    if saved.len() != codes.len() {
        let saved: std::collections::HashSet<&str> = saved.iter().map(|r| r.get(0)).collect();
        let mut stale =
            codes.iter().filter(|c| !saved.contains(c.person.as_str())).map(|c| c.person.clone()).collect::<Vec<_>>();
        stale.sort();
        return Err(StoreError::CodeConflict { persons: stale });
    }

    // A claimed entry (taken before the evaluation read the person) becomes the next change,
    // or goes; an unclaimed one was queued since, by news this evaluation may not have seen,
    // and is only ever moved earlier.
    let (queued, dues): (Vec<&str>, Vec<i64>) =
        codes.iter().filter_map(|c| c.next_change.map(|t| (c.person.as_str(), t.as_millis()))).unzip();
    tx.execute(
        "INSERT INTO reevaluation_queue (person_id, due) SELECT * FROM UNNEST($1::text[], $2::bigint[])
         ON CONFLICT (person_id) DO UPDATE
           SET due = CASE WHEN reevaluation_queue.claimed_until IS NULL
                          THEN least(reevaluation_queue.due, excluded.due) ELSE excluded.due END,
               claimed_until = NULL",
        &[&queued, &dues],
    )
    .await
    .map_err(backend("update the queue"))?;
    let done: Vec<&str> = codes.iter().filter(|c| c.next_change.is_none()).map(|c| c.person.as_str()).collect();
    tx.execute("DELETE FROM reevaluation_queue WHERE person_id = ANY($1) AND claimed_until IS NOT NULL", &[&done])
        .await
        .map_err(backend("update the queue"))?;
    Ok(())
}

/// Refuses the batch unless every person it names is registered: the foreign key's
/// promise, kept with one query per batch instead of a trigger per row (migration 0008).
/// Persons are only ever deleted all together, by the destruction, which locks evidence
/// first: a batch checked here cannot lose its persons before it commits.
async fn check_registered(tx: &deadpool_postgres::Transaction<'_>, new: &[(i64, &NewEvidence)]) -> StoreResult<()> {
    let mut named: Vec<&str> = new.iter().map(|(_, e)| e.person.as_str()).collect();
    named.sort_unstable();
    named.dedup();
    let found: i64 = tx
        .query_one("SELECT count(*) FROM persons WHERE id = ANY($1)", &[&named])
        .await
        .map_err(backend("check that the persons are registered"))?
        .get(0);
    if found as usize == named.len() {
        return Ok(());
    }
    let registered: std::collections::HashSet<String> = tx
        .query("SELECT id FROM persons WHERE id = ANY($1)", &[&named])
        .await
        .map_err(backend("check that the persons are registered"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let missing = named.iter().find(|p| !registered.contains(**p)).copied().unwrap_or_default();
    Err(StoreError::Backend(format!(
        "cannot insert evidence: person `{missing}` is not registered (evidence must name a registered person)"
    )))
}

/// From this many rows, evidence goes in by binary COPY: measured about twice as fast as
/// one `INSERT … SELECT FROM UNNEST` on a feed's chunks of 50,000.
const COPY_FROM_ROWS: usize = 1_000;

/// One `INSERT … SELECT FROM UNNEST`; with `skip_taken`, rows whose id is already stored
/// are left out. Returns the ids inserted when skipping (nothing otherwise).
async fn insert_evidence_rows(
    tx: &deadpool_postgres::Transaction<'_>,
    new: &[(i64, &NewEvidence)],
    skip_taken: bool,
) -> Result<Vec<String>, tokio_postgres::Error> {
    let columns: Vec<EvidenceColumns<'_>> = new.iter().map(|(_, e)| EvidenceColumns::encode(&e.evidence)).collect();
    let seqs: Vec<i64> = new.iter().map(|(s, _)| *s).collect();
    let ids: Vec<&str> = new.iter().map(|(_, e)| e.id.as_str()).collect();
    let persons: Vec<&str> = new.iter().map(|(_, e)| e.person.as_str()).collect();
    let ats: Vec<i64> = new.iter().map(|(_, e)| e.at.as_millis()).collect();
    let kinds: Vec<&str> = columns.iter().map(|c| c.kind).collect();
    let values: Vec<Option<&str>> = columns.iter().map(|c| c.value).collect();
    let t1s: Vec<Option<i64>> = columns.iter().map(|c| c.t1).collect();
    let t2s: Vec<Option<i64>> = columns.iter().map(|c| c.t2).collect();
    let texts: Vec<Option<&str>> = columns.iter().map(|c| c.text).collect();
    let ns: Vec<Option<i64>> = columns.iter().map(|c| c.n).collect();
    let extras: Vec<Option<&str>> = columns.iter().map(|c| c.extra.as_deref()).collect();
    let insert = "INSERT INTO evidence (seq, id, person_id, at, kind, value, t1, t2, text, n, extra)
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[],
                              $7::bigint[], $8::bigint[], $9::text[], $10::bigint[], $11::text[])";
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 11] =
        [&seqs, &ids, &persons, &ats, &kinds, &values, &t1s, &t2s, &texts, &ns, &extras];
    if !skip_taken {
        tx.execute(insert, &params).await?;
        return Ok(Vec::new());
    }
    let rows = tx.query(&format!("{insert} ON CONFLICT (id) DO NOTHING RETURNING id"), &params).await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The same rows by `COPY … FROM STDIN (FORMAT binary)`.
async fn copy_evidence(
    tx: &deadpool_postgres::Transaction<'_>,
    new: &[(i64, &NewEvidence)],
) -> Result<(), tokio_postgres::Error> {
    use tokio_postgres::binary_copy::BinaryCopyInWriter;
    use tokio_postgres::types::{ToSql, Type};
    let sink = tx
        .copy_in(
            "COPY evidence (seq, id, person_id, at, kind, value, t1, t2, text, n, extra) FROM STDIN (FORMAT binary)",
        )
        .await?;
    let types = [
        Type::INT8,
        Type::TEXT,
        Type::TEXT,
        Type::INT8,
        Type::TEXT,
        Type::TEXT,
        Type::INT8,
        Type::INT8,
        Type::TEXT,
        Type::INT8,
        Type::TEXT,
    ];
    let writer = BinaryCopyInWriter::new(sink, &types);
    tokio::pin!(writer);
    for (seq, e) in new {
        let c = EvidenceColumns::encode(&e.evidence);
        let (id, person, at, extra) = (e.id.as_str(), e.person.as_str(), e.at.as_millis(), c.extra.as_deref());
        let row: [&(dyn ToSql + Sync); 11] =
            [seq, &id, &person, &at, &c.kind, &c.value, &c.t1, &c.t2, &c.text, &c.n, &extra];
        writer.as_mut().write(&row).await?;
    }
    writer.finish().await?;
    Ok(())
}

/// Queues new records' lines for the national hub in the transaction that stores them (the
/// outbox the hub link drains: `FederationStore::queued_submissions`), in order.
pub(crate) async fn queue_for_hub(client: &impl deadpool_postgres::GenericClient, lines: Vec<&str>) -> StoreResult<()> {
    if lines.is_empty() {
        return Ok(());
    }
    // Numbered in the order given.
    client
        .execute(
            "INSERT INTO national_submissions (line)
             SELECT line FROM UNNEST($1::text[]) WITH ORDINALITY AS u (line, n) ORDER BY n",
            &[&lines],
        )
        .await
        .map_err(backend("queue records for the national hub"))?;
    Ok(())
}

/// Before a designation's insert looks up its ids: the sequence row's lock orders
/// designations (they commit in the order of their numbers, which the followers' watermark
/// relies on), and a share lock on evidence waits for the evidence inserts in progress to
/// commit (their ids are then seen by the lookup) and keeps new ones out until the
/// designation commits.
pub(crate) async fn lock_for_designations(tx: &deadpool_postgres::Transaction<'_>) -> StoreResult<()> {
    tx.batch_execute(
        "SELECT value FROM sequence WHERE name = 'events' FOR UPDATE;
         LOCK TABLE evidence IN SHARE ROW EXCLUSIVE MODE",
    )
    .await
    .map_err(backend("lock the sequence"))
}

/// `n` new event numbers, increasing. Another server's numbers may fall between them.
pub(crate) async fn reserve_seqs(tx: &deadpool_postgres::Transaction<'_>, n: usize) -> StoreResult<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let rows = tx
        .query("SELECT nextval('event_seq') FROM generate_series(1, $1::bigint)", &[&(n as i64)])
        .await
        .map_err(backend("reserve sequence numbers"))?;
    let mut seqs: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    seqs.sort_unstable();
    Ok(seqs)
}

fn unzip4<A, B, C, D>(items: Vec<(A, B, C, D)>) -> (Vec<A>, Vec<B>, Vec<C>, Vec<D>) {
    let mut out = (Vec::with_capacity(items.len()), Vec::new(), Vec::new(), Vec::new());
    for (a, b, c, d) in items {
        out.0.push(a);
        out.1.push(b);
        out.2.push(c);
        out.3.push(d);
    }
    out
}
