//! `Store` for `PostgresStore`: each method is one transaction on one pooled connection.

use std::collections::HashMap;

use async_trait::async_trait;
use healthcode_domain::{
    AccessOutcome, AreaCode, AreaRisk, Colour, Event, EventId, Evidence, PersonId, PersonKind, Timestamp,
};
use healthcode_store::Consent;
use healthcode_store::{
    Access, Account, Alarm, Checkin, CodeState, CodeSummary, ColourChangeCount, Complaint, ComplaintQuery, Credential,
    Decision, DestroyedRows, DeviceRecord, EvidenceColumns, FeedBatch, FeedChunk, FeedCommit, FeedRejectedRow,
    Inserted, LogAppend, LogNode, NewAccess, NewAlarm, NewCheckin, NewDesignation, NewEvidence, NewRejection,
    PersonProfile, PersonRecord, ProxyLink, Rejection, ResidentKey, SealedPersonalData, Store, StoreResult,
    StoredCheckpoint, VenueRecord,
};
use healthcode_store::{ResearchCount, ResearchMetric};
use tokio_postgres::Row;

use crate::{backend, batch, corrupt, residents, PostgresStore};

const QUEUE_UPSERT: &str = "ON CONFLICT (person_id) DO UPDATE SET due = least(reevaluation_queue.due, excluded.due)";
const EVIDENCE_COLUMNS: &str = "kind, value, t1, t2, text, n, extra";
const CODE_COLUMNS: &str =
    "person_id, colour, reasons, evidence, since, evaluated_at, rules_version, next_change, revision";

fn ids(persons: &[PersonId]) -> Vec<&str> {
    persons.iter().map(PersonId::as_str).collect()
}

fn ms(t: Timestamp) -> i64 {
    t.as_millis()
}

fn person(row: &Row) -> StoreResult<PersonRecord> {
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
fn evidence_body(row: &Row, first: usize) -> StoreResult<Evidence> {
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
fn evidence(row: &Row, first: usize) -> StoreResult<Event<Evidence>> {
    let body = evidence_body(row, first + 3)?;
    Ok(Event {
        seq: row.get(first),
        id: EventId::parse(row.get(first + 1)).map_err(|e| corrupt("event id", e))?,
        at: Timestamp::from_millis(row.get(first + 2)),
        body,
    })
}

fn designation(row: &Row) -> StoreResult<Event<AreaRisk>> {
    Ok(Event {
        seq: row.get(0),
        id: EventId::parse(row.get(1)).map_err(|e| corrupt("designation id", e))?,
        at: Timestamp::from_millis(row.get(2)),
        body: serde_json::from_str(row.get(3)).map_err(|e| corrupt("designation body", e))?,
    })
}

fn code(row: &Row) -> StoreResult<CodeState> {
    let colour: &str = row.get(1);
    Ok(CodeState {
        person: PersonId::parse(row.get(0)).map_err(|e| corrupt("code person id", e))?,
        colour: Colour::parse(colour).ok_or_else(|| corrupt("colour", colour))?,
        reasons: serde_json::from_str(row.get(2)).map_err(|e| corrupt("reasons", e))?,
        evidence: serde_json::from_str(row.get(3)).map_err(|e| corrupt("reason evidence", e))?,
        since: Timestamp::from_millis(row.get(4)),
        evaluated_at: Timestamp::from_millis(row.get(5)),
        rules_version: row.get(6),
        next_change: row.get::<_, Option<i64>>(7).map(Timestamp::from_millis),
        revision: row.get(8),
    })
}

fn person_id(row: &Row) -> StoreResult<PersonId> {
    PersonId::parse(row.get(0)).map_err(|e| corrupt("person id", e))
}

/// What is already stored under a designation's id (ids are one space across kinds).
enum Existing {
    Evidence,
    Designation(i64, String),
}

async fn existing(tx: &deadpool_postgres::Transaction<'_>, id: &str) -> StoreResult<Option<Existing>> {
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

#[async_trait]
impl Store for PostgresStore {
    async fn register_person(&self, p: &PersonRecord) -> StoreResult<bool> {
        let client = self.client().await?;
        let n = client
            .execute(
                "INSERT INTO persons (id, kind, registered_at, residence_area) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO NOTHING",
                &[
                    &p.id.as_str(),
                    &p.kind.as_str(),
                    &ms(p.registered_at),
                    &p.residence_area.as_ref().map(AreaCode::as_str),
                ],
            )
            .await
            .map_err(backend("register a person"))?;
        Ok(n == 1)
    }

    async fn register_persons(&self, batch: &[PersonRecord]) -> StoreResult<u64> {
        if batch.is_empty() {
            return Ok(0);
        }
        let client = self.client().await?;
        let ids: Vec<&str> = batch.iter().map(|p| p.id.as_str()).collect();
        let kinds: Vec<&str> = batch.iter().map(|p| p.kind.as_str()).collect();
        let registered: Vec<i64> = batch.iter().map(|p| ms(p.registered_at)).collect();
        let areas: Vec<Option<&str>> = batch.iter().map(|p| p.residence_area.as_ref().map(AreaCode::as_str)).collect();
        client
            .execute(
                "INSERT INTO persons (id, kind, registered_at, residence_area)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[])
                 ON CONFLICT (id) DO NOTHING",
                &[&ids, &kinds, &registered, &areas],
            )
            .await
            .map_err(backend("register persons"))
    }

    async fn person(&self, id: &PersonId) -> StoreResult<Option<PersonRecord>> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT id, kind, registered_at, residence_area FROM persons WHERE id = $1", &[&id.as_str()])
            .await
            .map_err(backend("read a person"))?;
        row.as_ref().map(person).transpose()
    }

    async fn fill_residence_area(&self, id: &PersonId, area: &AreaCode) -> StoreResult<bool> {
        let client = self.client().await?;
        let n = client
            .execute(
                "UPDATE persons SET residence_area = $2 WHERE id = $1 AND residence_area IS NULL",
                &[&id.as_str(), &area.as_str()],
            )
            .await
            .map_err(backend("set a residence area"))?;
        Ok(n == 1)
    }

    async fn persons(&self, wanted: &[PersonId]) -> StoreResult<Vec<PersonRecord>> {
        let client = self.client().await?;
        let rows = client
            .query("SELECT id, kind, registered_at, residence_area FROM persons WHERE id = ANY($1)", &[&ids(wanted)])
            .await
            .map_err(backend("read persons"))?;
        rows.iter().map(person).collect()
    }

    async fn person_count(&self) -> StoreResult<u64> {
        let client = self.client().await?;
        let row = client.query_one("SELECT count(*) FROM persons", &[]).await.map_err(backend("count persons"))?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    async fn insert_evidence(&self, batch: &[NewEvidence]) -> StoreResult<Vec<Inserted>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend("begin inserting evidence"))?;
        let outcomes = batch::insert_evidence(&tx, batch).await?;
        tx.commit().await.map_err(backend("commit evidence"))?;
        Ok(outcomes)
    }

    async fn evidence_for(&self, who: &PersonId) -> StoreResult<Vec<Event<Evidence>>> {
        let client = self.client().await?;
        let sql = format!("SELECT seq, id, at, {EVIDENCE_COLUMNS} FROM evidence WHERE person_id = $1 ORDER BY at, seq");
        let rows = client.query(&sql, &[&who.as_str()]).await.map_err(backend("read evidence"))?;
        rows.iter().map(|r| evidence(r, 0)).collect()
    }

    async fn evidence_for_many(&self, wanted: &[PersonId]) -> StoreResult<Vec<(PersonId, Vec<Event<Evidence>>)>> {
        let client = self.client().await?;
        let sql = format!(
            "SELECT person_id, seq, id, at, {EVIDENCE_COLUMNS} FROM evidence WHERE person_id = ANY($1) ORDER BY person_id, at, seq"
        );
        let rows = client.query(&sql, &[&ids(wanted)]).await.map_err(backend("read evidence"))?;
        let mut by_person: HashMap<&str, Vec<Event<Evidence>>> = HashMap::with_capacity(wanted.len());
        for row in &rows {
            by_person.entry(row.get(0)).or_default().push(evidence(row, 1)?);
        }
        Ok(wanted.iter().map(|p| (p.clone(), by_person.remove(p.as_str()).unwrap_or_default())).collect())
    }

    async fn insert_designations(&self, batch: &[NewDesignation]) -> StoreResult<Vec<Inserted>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend("begin inserting designations"))?;
        let mut seq = batch::reserve_seq(&tx, batch.len()).await?;
        let mut outcomes = Vec::with_capacity(batch.len());
        for d in batch {
            let body = serde_json::to_string(&d.risk).map_err(|e| corrupt("designation body", e))?;
            if let Some(found) = existing(&tx, d.id.as_str()).await? {
                let same_content = matches!(found, Existing::Designation(at, ref b) if at == ms(d.at) && *b == body);
                outcomes.push(Inserted::Duplicate { same_content });
                continue;
            }
            seq += 1;
            tx.execute(
                "INSERT INTO designations (seq, id, at, body) VALUES ($1, $2, $3, $4)",
                &[&seq, &d.id.as_str(), &ms(d.at), &body],
            )
            .await
            .map_err(backend("insert a designation"))?;
            outcomes.push(Inserted::New { seq });
        }
        tx.commit().await.map_err(backend("commit designations"))?;
        Ok(outcomes)
    }

    async fn designations(&self) -> StoreResult<Vec<Event<AreaRisk>>> {
        let client = self.client().await?;
        let rows = client
            .query("SELECT seq, id, at, body FROM designations ORDER BY at, seq", &[])
            .await
            .map_err(backend("read designations"))?;
        rows.iter().map(designation).collect()
    }

    async fn unapplied_designations(&self) -> StoreResult<Vec<Event<AreaRisk>>> {
        let client = self.client().await?;
        let rows = client
            .query("SELECT seq, id, at, body FROM designations WHERE NOT applied ORDER BY at, seq", &[])
            .await
            .map_err(backend("read designations"))?;
        rows.iter().map(designation).collect()
    }

    async fn mark_designations_applied(&self, seqs: &[i64]) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute("UPDATE designations SET applied = true WHERE seq = ANY($1)", &[&seqs])
            .await
            .map_err(backend("mark designations applied"))?;
        Ok(())
    }

    async fn persons_with_stays_under(&self, area_prefix: &str, ended_after: Timestamp) -> StoreResult<Vec<PersonId>> {
        let client = self.client().await?;
        let upper = format!("{area_prefix}:");
        let rows = client
            .query(
                "SELECT DISTINCT person_id FROM stays
                 WHERE area_normal >= $1 AND area_normal < $2 AND (ended_at IS NULL OR ended_at > $3)
                 ORDER BY person_id",
                &[&area_prefix, &upper, &ms(ended_after)],
            )
            .await
            .map_err(backend("find persons by stay"))?;
        rows.iter().map(person_id).collect()
    }

    async fn queue_persons_with_stays_under(
        &self,
        area_prefix: &str,
        ended_after: Timestamp,
        due: Timestamp,
    ) -> StoreResult<u64> {
        let client = self.client().await?;
        let upper = format!("{area_prefix}:");
        client
            .execute(
                &format!(
                    "INSERT INTO reevaluation_queue (person_id, due)
                     SELECT DISTINCT person_id, $4::bigint FROM stays
                     WHERE area_normal >= $1 AND area_normal < $2 AND (ended_at IS NULL OR ended_at > $3) {QUEUE_UPSERT}"
                ),
                &[&area_prefix, &upper, &ms(ended_after), &ms(due)],
            )
            .await
            .map_err(backend("queue persons by stay"))
    }

    async fn queue_persons_with_evidence(&self, due: Timestamp) -> StoreResult<u64> {
        let client = self.client().await?;
        client
            .execute(
                &format!(
                    "INSERT INTO reevaluation_queue (person_id, due) SELECT DISTINCT person_id, $1::bigint FROM evidence {QUEUE_UPSERT}"
                ),
                &[&ms(due)],
            )
            .await
            .map_err(backend("queue persons with evidence"))
    }

    async fn queue_codes_of_other_versions(&self, version: &str, due: Timestamp) -> StoreResult<u64> {
        let client = self.client().await?;
        client
            .execute(
                &format!(
                    "INSERT INTO reevaluation_queue (person_id, due)
                     SELECT person_id, $2::bigint FROM codes WHERE rules_version <> $1 {QUEUE_UPSERT}"
                ),
                &[&version, &ms(due)],
            )
            .await
            .map_err(backend("queue codes of other rule-set versions"))
    }

    async fn queue_persons(&self, persons: &[PersonId], due: Timestamp) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute(
                &format!(
                    "INSERT INTO reevaluation_queue (person_id, due) SELECT DISTINCT unnest($1::text[]), $2::bigint {QUEUE_UPSERT}"
                ),
                &[&ids(persons), &ms(due)],
            )
            .await
            .map_err(backend("queue persons"))?;
        Ok(())
    }

    async fn due_persons(&self, now: Timestamp, limit: usize) -> StoreResult<Vec<PersonId>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT person_id FROM reevaluation_queue WHERE due <= $1 ORDER BY due, person_id LIMIT $2",
                &[&ms(now), &(limit as i64)],
            )
            .await
            .map_err(backend("read the queue"))?;
        rows.iter().map(person_id).collect()
    }

    async fn queue_len(&self) -> StoreResult<u64> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT count(*) FROM reevaluation_queue", &[])
            .await
            .map_err(backend("count the queue"))?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    async fn save_codes(&self, codes: &[CodeState], log: &LogAppend) -> StoreResult<()> {
        if codes.is_empty() && log.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend("begin saving codes"))?;
        if !codes.is_empty() {
            batch::save_codes(&tx, codes).await?;
        }
        crate::log::append(&tx, log).await?;
        tx.commit().await.map_err(backend("commit codes"))
    }

    async fn append_log(&self, append: &LogAppend) -> StoreResult<()> {
        self.append_log_alone(append).await
    }

    async fn log_size(&self) -> StoreResult<u64> {
        self.log_size_row().await
    }

    async fn log_nodes(&self, ids: &[(u8, u64)]) -> StoreResult<Vec<LogNode>> {
        self.log_node_rows(ids).await
    }

    async fn log_leaves(&self, from: u64, limit: usize) -> StoreResult<Vec<(u64, Vec<u8>)>> {
        self.log_leaf_rows(from, limit).await
    }

    async fn log_indices_of(&self, person: &PersonId) -> StoreResult<Vec<u64>> {
        self.log_index_rows(person).await
    }

    async fn save_checkpoint(&self, checkpoint: &StoredCheckpoint) -> StoreResult<()> {
        self.save_checkpoint_row(checkpoint).await
    }

    async fn checkpoints(&self, after_size: u64, limit: usize) -> StoreResult<Vec<StoredCheckpoint>> {
        self.checkpoint_rows("size > $1 ORDER BY size", after_size, limit).await
    }

    async fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>> {
        Ok(self.checkpoint_rows("size >= $1 ORDER BY size DESC", 0, 1).await?.pop())
    }

    async fn code(&self, who: &PersonId) -> StoreResult<Option<CodeState>> {
        let client = self.client().await?;
        let row = client
            .query_opt(&format!("SELECT {CODE_COLUMNS} FROM codes WHERE person_id = $1"), &[&who.as_str()])
            .await
            .map_err(backend("read a code"))?;
        row.as_ref().map(code).transpose()
    }

    async fn codes(&self, wanted: &[PersonId]) -> StoreResult<Vec<CodeState>> {
        let client = self.client().await?;
        let rows = client
            .query(&format!("SELECT {CODE_COLUMNS} FROM codes WHERE person_id = ANY($1)"), &[&ids(wanted)])
            .await
            .map_err(backend("read codes"))?;
        rows.iter().map(code).collect()
    }

    async fn code_summaries(&self, wanted: &[PersonId]) -> StoreResult<Vec<CodeSummary>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT person_id, colour, since, evaluated_at, next_change, revision FROM codes
                 WHERE person_id = ANY($1)",
                &[&ids(wanted)],
            )
            .await
            .map_err(backend("read code summaries"))?;
        rows.iter()
            .map(|r| {
                let colour: &str = r.get(1);
                Ok(CodeSummary {
                    person: person_id(r)?,
                    colour: Colour::parse(colour).ok_or_else(|| corrupt("colour", colour))?,
                    since: Timestamp::from_millis(r.get(2)),
                    evaluated_at: Timestamp::from_millis(r.get(3)),
                    next_change: r.get::<_, Option<i64>>(4).map(Timestamp::from_millis),
                    revision: r.get(5),
                })
            })
            .collect()
    }

    async fn colour_counts(&self) -> StoreResult<Vec<(Colour, u64)>> {
        let client = self.client().await?;
        let rows = client
            .query("SELECT colour, count(*) FROM codes GROUP BY colour ORDER BY colour", &[])
            .await
            .map_err(backend("count codes"))?;
        rows.iter()
            .map(|r| {
                let colour: &str = r.get(0);
                Ok((Colour::parse(colour).ok_or_else(|| corrupt("colour", colour))?, r.get::<_, i64>(1) as u64))
            })
            .collect()
    }

    async fn colour_counts_by_area(&self) -> StoreResult<Vec<(Option<AreaCode>, Colour, u64)>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT p.residence_area, c.colour, count(*) FROM codes c JOIN persons p ON p.id = c.person_id
                 GROUP BY p.residence_area, c.colour",
                &[],
            )
            .await
            .map_err(backend("count codes by area"))?;
        rows.iter()
            .map(|r| {
                let area = r
                    .get::<_, Option<&str>>(0)
                    .map(|a| AreaCode::parse(a).map_err(|e| corrupt("residence area", e)))
                    .transpose()?;
                let colour: &str = r.get(1);
                let colour = Colour::parse(colour).ok_or_else(|| corrupt("colour", colour))?;
                Ok((area, colour, r.get::<_, i64>(2) as u64))
            })
            .collect()
    }

    async fn codes_with_colour(&self, colour: Colour, limit: usize) -> StoreResult<Vec<CodeState>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!("SELECT {CODE_COLUMNS} FROM codes WHERE colour = $1 ORDER BY person_id LIMIT $2"),
                &[&colour.as_str(), &(limit as i64)],
            )
            .await
            .map_err(backend("read codes by colour"))?;
        rows.iter().map(code).collect()
    }

    async fn record_rejections(&self, batch: &[NewRejection]) -> StoreResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend("begin recording rejections"))?;
        let insert = tx
            .prepare_cached(
                "INSERT INTO rejections (received_at, origin, input, field, reason, owner)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .await
            .map_err(backend("prepare recording rejections"))?;
        for r in batch {
            tx.execute(&insert, &[&ms(r.received_at), &r.origin, &r.input, &r.field, &r.reason, &r.owner])
                .await
                .map_err(backend("record a rejection"))?;
        }
        tx.commit().await.map_err(backend("commit rejections"))
    }

    async fn commit_feed_chunk(&self, chunk: FeedChunk) -> StoreResult<FeedCommit> {
        crate::feeds::commit_chunk(self, chunk).await
    }

    async fn feed_batch(&self, owner: &str, batch: &str) -> StoreResult<Option<FeedBatch>> {
        crate::feeds::batch(self, owner, batch).await
    }

    async fn feed_rejections(
        &self,
        owner: &str,
        batch: &str,
        after_line: u64,
        limit: usize,
    ) -> StoreResult<Vec<FeedRejectedRow>> {
        crate::feeds::rejections(self, owner, batch, after_line, limit).await
    }

    async fn rejections(&self, after: i64, limit: usize, owner: Option<&str>) -> StoreResult<Vec<Rejection>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, received_at, origin, input, field, reason, owner FROM rejections
                 WHERE id > $1 AND ($3::text IS NULL OR owner = $3) ORDER BY id LIMIT $2",
                &[&after, &(limit as i64), &owner],
            )
            .await
            .map_err(backend("read rejections"))?;
        Ok(rows
            .iter()
            .map(|r| Rejection {
                id: r.get(0),
                received_at: Timestamp::from_millis(r.get(1)),
                origin: r.get(2),
                input: r.get(3),
                field: r.get(4),
                reason: r.get(5),
                owner: r.get(6),
            })
            .collect())
    }

    async fn add_colour_changes(&self, counts: &[ColourChangeCount]) -> StoreResult<()> {
        if counts.is_empty() {
            return Ok(());
        }
        // One row per key: an upsert may not touch a row twice.
        let mut summed: std::collections::BTreeMap<(&str, &str, i64), i64> = Default::default();
        for c in counts {
            *summed.entry((c.origin.as_str(), c.area.as_str(), c.hour)).or_default() += c.persons as i64;
        }
        let origins: Vec<&str> = summed.keys().map(|k| k.0).collect();
        let areas: Vec<&str> = summed.keys().map(|k| k.1).collect();
        let hours: Vec<i64> = summed.keys().map(|k| k.2).collect();
        let persons: Vec<i64> = summed.values().copied().collect();
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO colour_change_counts (origin, area, hour, persons)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[])
                 ON CONFLICT (origin, area, hour) DO UPDATE SET persons = colour_change_counts.persons + excluded.persons",
                &[&origins, &areas, &hours, &persons],
            )
            .await
            .map_err(backend("count colour changes"))?;
        Ok(())
    }

    async fn colour_changes(
        &self,
        origin: &str,
        area: &str,
        from_hour: i64,
        to_hour: i64,
    ) -> StoreResult<Vec<ColourChangeCount>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT hour, persons FROM colour_change_counts
                 WHERE origin = $1 AND area = $2 AND hour >= $3 AND hour < $4 ORDER BY hour",
                &[&origin, &area, &from_hour, &to_hour],
            )
            .await
            .map_err(backend("read colour change counts"))?;
        Ok(rows
            .iter()
            .map(|r| ColourChangeCount {
                hour: r.get(0),
                origin: origin.to_string(),
                area: area.to_string(),
                persons: r.get::<_, i64>(1) as u64,
            })
            .collect())
    }

    async fn mark_colour_burst(&self, origin: &str, area: &str, hour: i64) -> StoreResult<bool> {
        let client = self.client().await?;
        let marked = client
            .execute(
                "UPDATE colour_change_counts SET alarmed = true
                 WHERE origin = $1 AND area = $2 AND hour = $3 AND NOT alarmed",
                &[&origin, &area, &hour],
            )
            .await
            .map_err(backend("mark a colour burst"))?;
        Ok(marked == 1)
    }

    async fn save_profile(&self, profile: &PersonProfile) -> StoreResult<()> {
        self.save_profile_row(profile).await
    }

    async fn profile(&self, person: &PersonId) -> StoreResult<Option<PersonProfile>> {
        self.profile_row(person).await
    }

    async fn person_by_code_id(&self, code_id: &str) -> StoreResult<Option<PersonId>> {
        self.person_by_code_id_row(code_id).await
    }

    async fn register_venue(&self, venue: &VenueRecord) -> StoreResult<()> {
        self.register_venue_row(venue).await
    }

    async fn venue(&self, id: &str) -> StoreResult<Option<VenueRecord>> {
        Ok(self.venues_where("id = $1", id, 1).await?.pop())
    }

    async fn venue_by_operator_key(&self, key_hash: &str) -> StoreResult<Option<VenueRecord>> {
        Ok(self.venues_where("operator_key_hash = $1", key_hash, 1).await?.pop())
    }

    async fn venues(&self, limit: usize) -> StoreResult<Vec<VenueRecord>> {
        self.venues_where("$1 = $1", "", limit).await
    }

    async fn register_device(&self, device: &DeviceRecord) -> StoreResult<()> {
        self.register_device_row(device).await
    }

    async fn device_by_key(&self, key_hash: &str) -> StoreResult<Option<DeviceRecord>> {
        Ok(self.device_rows("key_hash = $1", &key_hash).await?.pop())
    }

    async fn device(&self, id: &str) -> StoreResult<Option<DeviceRecord>> {
        Ok(self.device_rows("id = $1", &id).await?.pop())
    }

    async fn devices(&self, limit: usize) -> StoreResult<Vec<DeviceRecord>> {
        self.device_rows("true ORDER BY registered_at DESC, id LIMIT $1", &(limit as i64)).await
    }

    async fn approve_device(&self, id: &str, by: &str, at: Timestamp) -> StoreResult<bool> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE devices SET approved_by = $2, approved_at = $3 WHERE id = $1 AND approved_by IS NULL",
                &[&id, &by, &at.as_millis()],
            )
            .await
            .map_err(backend("approve a device"))?;
        Ok(changed == 1)
    }

    async fn record_checkins(&self, batch: &[NewCheckin]) -> StoreResult<()> {
        self.record_checkin_rows(batch).await
    }

    async fn checkins_at_venue(
        &self,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<Checkin>> {
        self.checkins_where("venue_id", venue, from, to, limit).await
    }

    async fn checkins_of_person(
        &self,
        person: &PersonId,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<Checkin>> {
        self.checkins_where("person_id", person.as_str(), from, to, limit).await
    }

    async fn checkin_counts(
        &self,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<(AccessOutcome, u64)>> {
        self.checkin_count_rows(venue, from, to).await
    }

    async fn create_account(&self, account: &Account) -> StoreResult<bool> {
        self.create_account_row(account).await
    }

    async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>> {
        self.account_by_username_row(username).await
    }

    async fn save_credential(&self, credential: &Credential) -> StoreResult<()> {
        self.save_credential_row(credential).await
    }

    async fn credential(&self, key_hash: &str) -> StoreResult<Option<(Credential, Account)>> {
        self.credential_row(key_hash).await
    }

    async fn delete_credential(&self, key_hash: &str) -> StoreResult<()> {
        self.delete_credential_row(key_hash).await
    }

    async fn save_decision(&self, decision: &Decision) -> StoreResult<()> {
        self.save_decision_row(decision).await
    }

    async fn decision(&self, id: &str) -> StoreResult<Option<Decision>> {
        Ok(self.decision_rows(Some(id), 1).await?.pop())
    }

    async fn decisions(&self, limit: usize) -> StoreResult<Vec<Decision>> {
        self.decision_rows(None, limit).await
    }

    async fn record_alarm(&self, alarm: &NewAlarm) -> StoreResult<i64> {
        self.record_alarm_row(alarm).await
    }

    async fn alarms(&self, after: i64, limit: usize) -> StoreResult<Vec<Alarm>> {
        self.alarm_rows(after, limit).await
    }

    async fn save_resident_key(&self, key: &ResidentKey) -> StoreResult<()> {
        residents::save_key(&self.client().await?, key).await
    }

    async fn resident_key(&self, key_hash: &str) -> StoreResult<Option<ResidentKey>> {
        residents::key(&self.client().await?, key_hash).await
    }

    async fn claim_resident_key(&self, key: &ResidentKey) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend("begin claiming a resident key"))?;
        // Two servers registering the same person at once: the second waits, then sees the key.
        tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&key.person.as_str()])
            .await
            .map_err(backend("lock a person's keys"))?;
        let n = tx
            .execute(
                "INSERT INTO resident_keys (key_hash, person_id, label, created_at)
                 SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM resident_keys WHERE person_id = $2)",
                &[&key.key_hash, &key.person.as_str(), &key.label, &key.created_at.as_millis()],
            )
            .await
            .map_err(backend("claim a resident key"))?;
        tx.commit().await.map_err(backend("commit a resident key"))?;
        Ok(n == 1)
    }

    async fn has_resident_key(&self, person: &PersonId) -> StoreResult<bool> {
        residents::has_key(&self.client().await?, person).await
    }

    async fn delete_resident_keys(&self, person: &PersonId) -> StoreResult<u64> {
        residents::delete_keys(&self.client().await?, person).await
    }

    async fn save_proxy(&self, link: &ProxyLink) -> StoreResult<bool> {
        residents::save_proxy(&self.client().await?, link).await
    }

    async fn end_proxy(&self, proxy: &PersonId, dependant: &PersonId) -> StoreResult<bool> {
        residents::end_proxy(&self.client().await?, proxy, dependant).await
    }

    async fn proxy_links(&self, person: &PersonId) -> StoreResult<Vec<ProxyLink>> {
        residents::proxy_links(&self.client().await?, person).await
    }

    async fn record_accesses(&self, accesses: &[NewAccess]) -> StoreResult<()> {
        if accesses.is_empty() {
            return Ok(());
        }
        residents::record_accesses(&mut self.client().await?, accesses).await
    }

    async fn accesses(&self, person: &PersonId, limit: usize) -> StoreResult<Vec<Access>> {
        residents::accesses(&self.client().await?, person, limit).await
    }

    async fn save_complaint(&self, complaint: &Complaint) -> StoreResult<()> {
        residents::save_complaint(&self.client().await?, complaint).await
    }

    async fn complaint(&self, id: &str) -> StoreResult<Option<Complaint>> {
        residents::complaint(&self.client().await?, id).await
    }

    async fn complaints(&self, query: &ComplaintQuery, limit: usize) -> StoreResult<Vec<Complaint>> {
        residents::complaints(&self.client().await?, query, limit).await
    }

    async fn delete_documents_before(&self, kind: &str, before: Timestamp) -> StoreResult<u64> {
        let client = self.client().await?;
        client
            .execute("DELETE FROM documents WHERE kind = $1 AND at < $2", &[&kind, &before.as_millis()])
            .await
            .map_err(backend("delete old documents"))
    }

    async fn delete_checkins_before(&self, before: Timestamp) -> StoreResult<u64> {
        let client = self.client().await?;
        client
            .execute("DELETE FROM checkins WHERE at < $1", &[&before.as_millis()])
            .await
            .map_err(backend("delete old check-ins"))
    }

    async fn save_consent(&self, consent: &Consent) -> StoreResult<()> {
        residents::save_consent(&self.client().await?, consent).await
    }

    async fn consents(&self, person: &PersonId) -> StoreResult<Vec<Consent>> {
        residents::consents(&self.client().await?, person).await
    }

    async fn research_counts(
        &self,
        metric: ResearchMetric,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<ResearchCount>> {
        residents::research_counts(&self.client().await?, metric, from, to).await
    }

    async fn save_personal_data(&self, data: &SealedPersonalData) -> StoreResult<()> {
        residents::save_personal(&self.client().await?, data).await
    }

    async fn personal_data(&self, person: &PersonId) -> StoreResult<Option<SealedPersonalData>> {
        residents::personal(&self.client().await?, person).await
    }

    async fn personal_data_after(
        &self,
        after: Option<&PersonId>,
        limit: usize,
    ) -> StoreResult<Vec<SealedPersonalData>> {
        let after = after.map(|p| p.as_str().to_string()).unwrap_or_default();
        residents::personal_after(&self.client().await?, &after, limit).await
    }

    async fn destroy_personal_data(&self) -> StoreResult<DestroyedRows> {
        residents::destroy(&mut self.client().await?).await
    }

    async fn put_document(&self, kind: &str, id: &str, at: Timestamp, body: &str) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO documents (kind, id, at, body) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (kind, id) DO UPDATE SET at = excluded.at, body = excluded.body",
                &[&kind, &id, &at.as_millis(), &body],
            )
            .await
            .map_err(backend("save a document"))?;
        Ok(())
    }

    async fn document(&self, kind: &str, id: &str) -> StoreResult<Option<String>> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT body FROM documents WHERE kind = $1 AND id = $2", &[&kind, &id])
            .await
            .map_err(backend("read a document"))?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn documents(&self, kind: &str, limit: usize) -> StoreResult<Vec<String>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT body FROM documents WHERE kind = $1 ORDER BY at DESC, id LIMIT $2",
                &[&kind, &(limit as i64)],
            )
            .await
            .map_err(backend("read documents"))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}
