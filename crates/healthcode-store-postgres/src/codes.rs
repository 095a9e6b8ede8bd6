//! Codes, the re-evaluation queue and the counts of colour changes.

use async_trait::async_trait;
use healthcode_domain::{AreaCode, Colour, PersonId, Timestamp};
use healthcode_store::{
    BulkPage, CodeCard, CodeState, CodeStore, CodeSummary, ColourChangeCount, LogAppend, ResidentStore, StagedCodes,
    StoreResult,
};
use tokio::sync::oneshot;

use crate::rows::{code, for_each_key, ids, ms, person_id, sorted_keys, CODE_COLUMNS, QUEUE_UPSERT};
use crate::{backend, corrupt, PostgresStore};

#[async_trait]
impl CodeStore for PostgresStore {
    async fn code_card(&self, person: &PersonId) -> StoreResult<Option<CodeCard>> {
        Ok(self.code_card_row(person, None).await?.map(|(card, _)| card))
    }

    async fn code_card_with_key(
        &self,
        person: &PersonId,
        key_hash: &str,
    ) -> StoreResult<(Option<CodeCard>, Option<healthcode_store::ResidentKey>)> {
        match self.code_card_row(person, Some(key_hash)).await? {
            Some((card, owner)) => Ok((Some(card), owner)),
            // No such person: whose the key is, alone.
            None => Ok((None, self.resident_key(key_hash).await?)),
        }
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

    async fn page_persons_with_stays_under(
        &self,
        area_prefix: &str,
        ended_after: Timestamp,
        due: Timestamp,
        page: usize,
    ) -> StoreResult<u64> {
        let client = self.client().await?;
        let upper = format!("{area_prefix}:");
        // Numbered in person order and grouped by page number, in one statement: the
        // persons never leave the database.
        let rows = client
            .query(
                "INSERT INTO bulk_pages (due, persons, size)
                 SELECT $4::bigint, string_agg(person_id, chr(10) ORDER BY person_id), count(*)
                 FROM (SELECT person_id, (row_number() OVER (ORDER BY person_id) - 1) / $5::bigint AS page
                       FROM (SELECT DISTINCT person_id FROM stays
                             WHERE area_normal >= $1 AND area_normal < $2 AND (ended_at IS NULL OR ended_at > $3)) d) n
                 GROUP BY page
                 RETURNING size",
                &[&area_prefix, &upper, &ms(ended_after), &ms(due), &(page.max(1) as i64)],
            )
            .await
            .map_err(backend("page persons by stay"))?;
        Ok(rows.iter().map(|r| r.get::<_, i32>(0) as u64).sum())
    }

    async fn claim_page(&self, now: Timestamp, until: Timestamp) -> StoreResult<Option<BulkPage>> {
        let client = self.client().await?;
        // SKIP LOCKED: servers claiming at once each pass over the page another is taking.
        let row = client
            .query_opt(
                "UPDATE bulk_pages SET claimed_until = $2 WHERE id = (
                   SELECT id FROM bulk_pages WHERE due <= $1 AND (claimed_until IS NULL OR claimed_until <= $1)
                   ORDER BY due, id LIMIT 1 FOR UPDATE SKIP LOCKED)
                 RETURNING id, persons",
                &[&ms(now), &ms(until)],
            )
            .await
            .map_err(backend("claim a page"))?;
        let Some(row) = row else { return Ok(None) };
        let persons = row
            .get::<_, &str>(1)
            .lines()
            .map(|id| PersonId::parse(id).map_err(|e| corrupt("paged person id", e)))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(BulkPage { id: row.get(0), persons }))
    }

    async fn finish_page(&self, id: i64) -> StoreResult<()> {
        let client = self.client().await?;
        client.execute("DELETE FROM bulk_pages WHERE id = $1", &[&id]).await.map_err(backend("finish a page"))?;
        Ok(())
    }

    async fn paged_persons(&self) -> StoreResult<u64> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT coalesce(sum(size), 0)::bigint FROM bulk_pages", &[])
            .await
            .map_err(backend("count paged persons"))?;
        Ok(row.get::<_, i64>(0) as u64)
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

    async fn claim_due_persons(&self, now: Timestamp, limit: usize, until: Timestamp) -> StoreResult<Vec<PersonId>> {
        let client = self.client().await?;
        // SKIP LOCKED: servers claiming at once each pass over the rows another is taking.
        let rows = client
            .query(
                "WITH taken AS (
                   SELECT person_id FROM reevaluation_queue
                   WHERE due <= $1 AND (claimed_until IS NULL OR claimed_until <= $1)
                   ORDER BY due, person_id LIMIT $2 FOR UPDATE SKIP LOCKED),
                 claimed AS (
                   UPDATE reevaluation_queue q SET claimed_until = $3 FROM taken
                   WHERE q.person_id = taken.person_id RETURNING q.person_id, q.due)
                 SELECT person_id FROM claimed ORDER BY due, person_id",
                &[&ms(now), &(limit as i64), &ms(until)],
            )
            .await
            .map_err(backend("claim queued persons"))?;
        rows.iter().map(person_id).collect()
    }

    async fn claim_persons(&self, persons: &[PersonId], now: Timestamp, until: Timestamp) -> StoreResult<()> {
        if persons.is_empty() {
            return Ok(());
        }
        let client = self.client().await?;
        client
            .execute(
                "UPDATE reevaluation_queue SET claimed_until = $3
                 WHERE person_id = ANY($1) AND due <= $2 AND (claimed_until IS NULL OR claimed_until <= $2)",
                &[&ids(persons), &ms(now), &ms(until)],
            )
            .await
            .map_err(backend("claim queued persons"))?;
        Ok(())
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
        self.stage_codes(codes).await?.commit(log).await
    }

    /// Two: one writes its codes while the other appends its log entries (BENCHMARKS.md,
    /// issue 16).
    fn saves_at_once(&self) -> usize {
        2
    }

    async fn stage_codes<'a>(&'a self, codes: &'a [CodeState]) -> StoreResult<Box<dyn StagedCodes + 'a>> {
        let mut client = self.client().await?;
        let codes = codes.to_vec();
        let (staged_sender, staged) = oneshot::channel::<StoreResult<()>>();
        let (log_sender, log) = oneshot::channel::<LogAppend>();
        let (done_sender, done) = oneshot::channel::<StoreResult<()>>();
        // The transaction lives in a task of its own, which waits for the log entries
        // between the two halves.
        tokio::spawn(async move {
            let begun = async {
                let tx = client.transaction().await.map_err(backend("begin saving codes"))?;
                if !codes.is_empty() {
                    crate::batch::save_codes(&tx, &codes).await?;
                }
                Ok(tx)
            }
            .await;
            let tx = match begun {
                Ok(tx) => tx,
                Err(e) => {
                    let _ = staged_sender.send(Err(e));
                    return;
                }
            };
            if staged_sender.send(Ok(())).is_err() {
                return;
            }
            // No log entries: the writer gave up, and the transaction rolls back as it drops.
            let Ok(log) = log.await else { return };
            let committed = async {
                crate::log::append(&tx, &log).await?;
                tx.commit().await.map_err(backend("commit codes"))
            }
            .await;
            let _ = done_sender.send(committed);
        });
        staged.await.map_err(|_| ended("staging codes"))??;
        Ok(Box::new(OpenSave { log: log_sender, done }))
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
            .query(&for_each_key(CODE_COLUMNS, "codes", "person_id", ""), &[&sorted_keys(wanted)])
            .await
            .map_err(backend("read codes"))?;
        rows.iter().map(code).collect()
    }

    async fn code_summaries(&self, wanted: &[PersonId]) -> StoreResult<Vec<CodeSummary>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &for_each_key(
                    "person_id, colour, since, evaluated_at, next_change, revision",
                    "codes",
                    "person_id",
                    "",
                ),
                &[&sorted_keys(wanted)],
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
}

/// A save whose codes are written, in a transaction a task holds open until the log entries
/// come (`CodeStore::stage_codes`).
struct OpenSave {
    log: oneshot::Sender<LogAppend>,
    done: oneshot::Receiver<StoreResult<()>>,
}

#[async_trait]
impl StagedCodes for OpenSave {
    async fn commit(self: Box<Self>, log: &LogAppend) -> StoreResult<()> {
        let OpenSave { log: sender, done } = *self;
        sender.send(log.clone()).map_err(|_| ended("committing codes"))?;
        done.await.map_err(|_| ended("committing codes"))?
    }
}

/// The task holding a staged save ended without an answer (it panicked).
fn ended(what: &str) -> healthcode_store::StoreError {
    healthcode_store::StoreError::Backend(format!("{what}: the task holding the transaction ended without an answer"))
}

impl PostgresStore {
    /// A person's record, stored code and profile, and whose resident key `key_hash` is,
    /// in one round trip: what showing a code reads on every request (four trips before,
    /// about 180 µs of the server's CPU per code, BENCHMARKS.md).
    async fn code_card_row(
        &self,
        person: &PersonId,
        key_hash: Option<&str>,
    ) -> StoreResult<Option<(CodeCard, Option<healthcode_store::ResidentKey>)>> {
        let client = self.client().await?;
        let columns: String = CODE_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ");
        // Prepared once per connection: an unprepared query is two round trips (parse and
        // describe, then execute), and this one runs on every code display.
        let statement = client
            .prepare_cached(&format!(
                "SELECT p.id, p.kind, p.registered_at, p.residence_area, {columns},
                        pp.code_id, pp.masked_name, k.person_id, k.label, k.created_at
                 FROM persons p
                 LEFT JOIN codes c ON c.person_id = p.id
                 LEFT JOIN person_profiles pp ON pp.person_id = p.id
                 LEFT JOIN resident_keys k ON k.key_hash = $2
                 WHERE p.id = $1"
            ))
            .await
            .map_err(backend("prepare reading a code card"))?;
        let row =
            client.query_opt(&statement, &[&person.as_str(), &key_hash]).await.map_err(backend("read a code card"))?;
        let Some(row) = row else { return Ok(None) };
        let record = crate::rows::person(&row)?;
        let code = match row.get::<_, Option<&str>>(4) {
            Some(_) => Some(crate::rows::code_from(&row, 4)?),
            None => None,
        };
        let profile = row.get::<_, Option<String>>(13).map(|code_id| healthcode_store::PersonProfile {
            person: person.clone(),
            code_id,
            masked_name: row.get(14),
        });
        let owner = match (row.get::<_, Option<&str>>(15), key_hash) {
            (Some(holder), Some(key_hash)) => Some(healthcode_store::ResidentKey {
                key_hash: key_hash.to_string(),
                person: PersonId::parse(holder).map_err(|e| corrupt("resident key person", e))?,
                label: row.get(16),
                created_at: Timestamp::from_millis(row.get(17)),
            }),
            _ => None,
        };
        Ok(Some((CodeCard { record, code, profile }, owner)))
    }
}
