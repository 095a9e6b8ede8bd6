//! Code states (derived) and the re-evaluation queue.

use async_trait::async_trait;
use healthcode_domain::{AreaCode, Colour, PersonId, Timestamp};
use healthcode_store::{
    BulkPage, CodeCard, CodeState, CodeStore, CodeSummary, ColourChangeCount, LogAppend, StoreError, StoreResult,
};
use rusqlite::{Connection, OptionalExtension, Row};

use crate::evidence::id_array;
use crate::{backend, corrupt, SqliteStore};

/// Queueing a person again moves the entry earlier, never later, and ends any claim on it:
/// the server that claimed it may have read the person before what is queued now.
const QUEUE_UPSERT: &str = "ON CONFLICT (person_id) DO UPDATE SET due = min(due, excluded.due), claimed_until = NULL";

pub(crate) fn save(conn: &mut Connection, codes: &[CodeState], log: &LogAppend) -> Result<(), StoreError> {
    // In key order: each page of the codes and queue tables is then visited once per
    // batch. Of two codes for one person the later wins (a stable sort keeps their order).
    let mut sorted: Vec<&CodeState> = codes.iter().collect();
    sorted.sort_by(|a, b| a.person.cmp(&b.person));
    sorted.dedup_by(|later, earlier| {
        let same = later.person == earlier.person;
        if same {
            std::mem::swap(later, earlier);
        }
        same
    });
    if let Some(c) = sorted.iter().find(|c| c.revision < 1) {
        return Err(StoreError::Backend(format!(
            "the code of {} has revision {}; revisions start at 1",
            c.person, c.revision
        )));
    }
    let tx = conn.transaction().map_err(backend("begin saving codes"))?;
    let mut stale = Vec::new();
    {
        // A code is saved only over the revision it was evaluated from (none: a first
        // code, revision 1): an evaluation that another saved after it began loses.
        let mut upsert = tx
            .prepare_cached(
                "INSERT INTO codes
                 (person_id, colour, reasons, evidence, since, evaluated_at, rules_version, next_change, revision)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (person_id) DO UPDATE SET colour = excluded.colour, reasons = excluded.reasons,
                   evidence = excluded.evidence, since = excluded.since, evaluated_at = excluded.evaluated_at,
                   rules_version = excluded.rules_version, next_change = excluded.next_change,
                   revision = excluded.revision
                 WHERE codes.revision = excluded.revision - 1",
            )
            .map_err(backend("prepare saving codes"))?;
        // A claimed entry (taken before the evaluation read the person) becomes the next
        // change; an unclaimed one was queued since, by news this evaluation may not have
        // seen, and is only ever moved earlier. An entry already right is not rewritten.
        let mut requeue = tx
            .prepare_cached(
                "INSERT INTO reevaluation_queue (person_id, due) VALUES (?1, ?2)
                 ON CONFLICT (person_id) DO UPDATE
                   SET due = CASE WHEN claimed_until IS NULL THEN min(due, excluded.due) ELSE excluded.due END,
                       claimed_until = NULL
                 WHERE claimed_until IS NOT NULL OR excluded.due < due",
            )
            .map_err(backend("prepare queueing"))?;
        let mut dequeue = tx
            .prepare_cached("DELETE FROM reevaluation_queue WHERE person_id = ?1 AND claimed_until IS NOT NULL")
            .map_err(backend("prepare dequeueing"))?;
        for c in sorted {
            let reasons = serde_json::to_string(&c.reasons).map_err(encode)?;
            let evidence = serde_json::to_string(&c.evidence).map_err(encode)?;
            let saved = upsert
                .execute((
                    c.person.as_str(),
                    c.colour.as_str(),
                    reasons,
                    evidence,
                    c.since.as_millis(),
                    c.evaluated_at.as_millis(),
                    &c.rules_version,
                    c.next_change.map(Timestamp::as_millis),
                    c.revision,
                ))
                .map_err(backend("save a code"))?;
            if saved != 1 {
                stale.push(c.person.clone());
                continue;
            }
            match c.next_change {
                Some(t) => requeue.execute((c.person.as_str(), t.as_millis())),
                None => dequeue.execute([c.person.as_str()]),
            }
            .map_err(backend("update the queue"))?;
        }
    }
    if !stale.is_empty() {
        // Dropping the transaction rolls every code of the batch back, and its log.
        return Err(StoreError::CodeConflict { persons: stale });
    }
    crate::log::append(&tx, log)?;
    tx.commit().map_err(backend("commit codes"))
}

fn encode(e: serde_json::Error) -> StoreError {
    StoreError::Backend(format!("cannot encode a code: {e}"))
}

const SELECT_CODE: &str =
    "SELECT person_id, colour, reasons, evidence, since, evaluated_at, rules_version, next_change, revision FROM codes";

pub(crate) fn one(conn: &Connection, person: &PersonId) -> Result<Option<CodeState>, StoreError> {
    conn.prepare_cached(&format!("{SELECT_CODE} WHERE person_id = ?1"))
        .and_then(|mut s| s.query_row([person.as_str()], raw).optional())
        .map_err(backend("read a code"))?
        .map(decode)
        .transpose()
}

pub(crate) fn many(conn: &Connection, persons: &[PersonId]) -> Result<Vec<CodeState>, StoreError> {
    let mut stmt =
        conn.prepare_cached(&format!("{SELECT_CODE} WHERE person_id IN rarray(?1)")).map_err(backend("read codes"))?;
    let rows = stmt.query_map([id_array(persons)], raw).map_err(backend("read codes"))?;
    rows.map(|r| r.map_err(backend("read codes")).and_then(decode)).collect()
}

pub(crate) fn summaries(conn: &Connection, persons: &[PersonId]) -> Result<Vec<CodeSummary>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT person_id, colour, since, evaluated_at, next_change, revision FROM codes
             WHERE person_id IN rarray(?1)",
        )
        .map_err(backend("read code summaries"))?;
    let mut rows = stmt.query([id_array(persons)]).map_err(backend("read code summaries"))?;
    let mut out = Vec::with_capacity(persons.len());
    while let Some(r) = rows.next().map_err(backend("read code summaries"))? {
        let text = |i: usize| r.get_ref(i).and_then(|v| Ok(v.as_str()?)).map_err(backend("read code summaries"));
        let colour = text(1)?;
        out.push(CodeSummary {
            person: PersonId::parse(text(0)?).map_err(|e| corrupt("code person id", e))?,
            colour: Colour::parse(colour).ok_or_else(|| corrupt("colour", colour))?,
            since: Timestamp::from_millis(r.get(2).map_err(backend("read code summaries"))?),
            evaluated_at: Timestamp::from_millis(r.get(3).map_err(backend("read code summaries"))?),
            next_change: r
                .get::<_, Option<i64>>(4)
                .map_err(backend("read code summaries"))?
                .map(Timestamp::from_millis),
            revision: r.get(5).map_err(backend("read code summaries"))?,
        });
    }
    Ok(out)
}

pub(crate) fn with_colour(conn: &Connection, colour: Colour, limit: usize) -> Result<Vec<CodeState>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!("{SELECT_CODE} WHERE colour = ?1 ORDER BY person_id LIMIT ?2"))
        .map_err(backend("read codes by colour"))?;
    let rows = stmt.query_map((colour.as_str(), limit as i64), raw).map_err(backend("read codes by colour"))?;
    rows.map(|r| r.map_err(backend("read codes by colour")).and_then(decode)).collect()
}

pub(crate) fn colour_counts(conn: &Connection) -> Result<Vec<(Colour, u64)>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT colour, count(*) FROM codes GROUP BY colour ORDER BY colour")
        .map_err(backend("count codes"))?;
    let rows =
        stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).map_err(backend("count codes"))?;
    rows.map(|r| {
        let (colour, n) = r.map_err(backend("count codes"))?;
        Ok((Colour::parse(&colour).ok_or_else(|| corrupt("colour", colour))?, n as u64))
    })
    .collect()
}

pub(crate) fn colour_counts_by_area(conn: &Connection) -> Result<Vec<(Option<AreaCode>, Colour, u64)>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT p.residence_area, c.colour, count(*) FROM codes c JOIN persons p ON p.id = c.person_id
             GROUP BY p.residence_area, c.colour",
        )
        .map_err(backend("count codes by area"))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))
        .map_err(backend("count codes by area"))?;
    rows.map(|r| {
        let (area, colour, n) = r.map_err(backend("count codes by area"))?;
        let area = area.map(|a| AreaCode::parse(&a).map_err(|e| corrupt("residence area", e))).transpose()?;
        Ok((area, Colour::parse(&colour).ok_or_else(|| corrupt("colour", colour))?, n as u64))
    })
    .collect()
}

pub(crate) fn stays_under(
    conn: &Connection,
    prefix: &str,
    ended_after: Timestamp,
) -> Result<Vec<PersonId>, StoreError> {
    let upper = format!("{prefix}:");
    let mut stmt = conn
        .prepare_cached(
            "SELECT DISTINCT person_id FROM stays
             WHERE area_normal >= ?1 AND area_normal < ?2 AND (ended_at IS NULL OR ended_at > ?3)
             ORDER BY person_id",
        )
        .map_err(backend("find persons by stay"))?;
    let rows = stmt
        .query_map((prefix, upper, ended_after.as_millis()), |r| r.get::<_, String>(0))
        .map_err(backend("find persons by stay"))?;
    rows.map(|r| {
        let id = r.map_err(backend("find persons by stay"))?;
        PersonId::parse(&id).map_err(|e| corrupt("person id of a stay", e))
    })
    .collect()
}

pub(crate) fn queue_stays_under(
    conn: &Connection,
    prefix: &str,
    ended_after: Timestamp,
    due: Timestamp,
) -> Result<u64, StoreError> {
    // Normal forms are digits, and ':' sorts right after '9': [prefix, prefix:) is
    // exactly the codes that start with the prefix.
    let upper = format!("{prefix}:");
    conn.prepare_cached(&format!(
        "INSERT INTO reevaluation_queue (person_id, due)
         SELECT DISTINCT person_id, ?4 FROM stays
         WHERE area_normal >= ?1 AND area_normal < ?2 AND (ended_at IS NULL OR ended_at > ?3)
         ORDER BY person_id {QUEUE_UPSERT}"
    ))
    .and_then(|mut s| s.execute((prefix, upper, ended_after.as_millis(), due.as_millis())))
    .map(|n| n as u64)
    .map_err(backend("queue persons by stay"))
}

/// The persons `queue_stays_under` would queue, in pages of at most `page` (ids in person
/// order, one per line).
pub(crate) fn page_stays_under(
    conn: &mut Connection,
    prefix: &str,
    ended_after: Timestamp,
    due: Timestamp,
    page: usize,
) -> Result<u64, StoreError> {
    let upper = format!("{prefix}:");
    // One transaction: a designation is paged whole or not at all (and then paged again).
    let tx = conn.transaction().map_err(backend("page persons by stay"))?;
    let persons: Vec<String> = tx
        .prepare_cached(
            "SELECT DISTINCT person_id FROM stays
             WHERE area_normal >= ?1 AND area_normal < ?2 AND (ended_at IS NULL OR ended_at > ?3)
             ORDER BY person_id",
        )
        .and_then(|mut s| s.query_map((prefix, upper, ended_after.as_millis()), |r| r.get::<_, String>(0))?.collect())
        .map_err(backend("page persons by stay"))?;
    {
        let mut insert = tx
            .prepare_cached("INSERT INTO bulk_pages (due, persons, size) VALUES (?1, ?2, ?3)")
            .map_err(backend("page persons by stay"))?;
        for chunk in persons.chunks(page.max(1)) {
            insert
                .execute((due.as_millis(), chunk.join("\n"), chunk.len() as i64))
                .map_err(backend("page persons by stay"))?;
        }
    }
    tx.commit().map_err(backend("page persons by stay"))?;
    Ok(persons.len() as u64)
}

pub(crate) fn claim_page(conn: &Connection, now: Timestamp, until: Timestamp) -> Result<Option<BulkPage>, StoreError> {
    let page = conn
        .prepare_cached(
            "UPDATE bulk_pages SET claimed_until = ?2 WHERE id = (
               SELECT id FROM bulk_pages WHERE due <= ?1 AND (claimed_until IS NULL OR claimed_until <= ?1)
               ORDER BY due, id LIMIT 1)
             RETURNING id, persons",
        )
        .and_then(|mut s| {
            s.query_row((now.as_millis(), until.as_millis()), |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
                .optional()
        })
        .map_err(backend("claim a page"))?;
    page.map(|(id, persons)| Ok(BulkPage { id, persons: page_persons(&persons)? })).transpose()
}

/// A page's persons, as stored (one id per line).
pub(crate) fn page_persons(text: &str) -> Result<Vec<PersonId>, StoreError> {
    text.lines().map(|id| PersonId::parse(id).map_err(|e| corrupt("paged person id", e))).collect()
}

pub(crate) fn finish_page(conn: &Connection, id: i64) -> Result<(), StoreError> {
    conn.execute("DELETE FROM bulk_pages WHERE id = ?1", [id]).map(|_| ()).map_err(backend("finish a page"))
}

pub(crate) fn paged_persons(conn: &Connection) -> Result<u64, StoreError> {
    conn.query_row("SELECT coalesce(sum(size), 0) FROM bulk_pages", [], |r| r.get::<_, i64>(0))
        .map(|n| n as u64)
        .map_err(backend("count paged persons"))
}

pub(crate) fn queue_with_evidence(conn: &Connection, due: Timestamp) -> Result<u64, StoreError> {
    conn.prepare_cached(&format!(
        "INSERT INTO reevaluation_queue (person_id, due) SELECT DISTINCT person_id, ?1 FROM evidence WHERE true ORDER BY person_id {QUEUE_UPSERT}"
    ))
    .and_then(|mut s| s.execute([due.as_millis()]))
    .map(|n| n as u64)
    .map_err(backend("queue persons with evidence"))
}

pub(crate) fn queue_other_versions(conn: &Connection, version: &str, due: Timestamp) -> Result<u64, StoreError> {
    conn.prepare_cached(&format!(
        "INSERT INTO reevaluation_queue (person_id, due)
         SELECT person_id, ?2 FROM codes WHERE rules_version <> ?1 ORDER BY person_id {QUEUE_UPSERT}"
    ))
    .and_then(|mut s| s.execute((version, due.as_millis())))
    .map(|n| n as u64)
    .map_err(backend("queue codes of other rule-set versions"))
}

pub(crate) fn queue(conn: &mut Connection, persons: &[PersonId], due: Timestamp) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(backend("begin queueing"))?;
    tx.prepare_cached(&format!(
        "INSERT INTO reevaluation_queue (person_id, due) SELECT value, ?2 FROM rarray(?1) WHERE true {QUEUE_UPSERT}"
    ))
    .and_then(|mut s| s.execute((id_array(persons), due.as_millis())))
    .map_err(backend("queue persons"))?;
    tx.commit().map_err(backend("commit queueing"))
}

pub(crate) fn due(conn: &Connection, now: Timestamp, limit: usize) -> Result<Vec<PersonId>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT person_id FROM reevaluation_queue WHERE due <= ?1 ORDER BY due, person_id LIMIT ?2")
        .map_err(backend("read the queue"))?;
    let rows = stmt
        .query_map((now.as_millis(), limit as i64), |r| r.get::<_, String>(0))
        .map_err(backend("read the queue"))?;
    rows.map(|r| {
        let id = r.map_err(backend("read the queue"))?;
        PersonId::parse(&id).map_err(|e| corrupt("queued person id", e))
    })
    .collect()
}

/// Claims the queue entries of these persons that are due and not claimed by another.
pub(crate) fn claim_persons(
    conn: &mut Connection,
    persons: &[PersonId],
    now: Timestamp,
    until: Timestamp,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE reevaluation_queue SET claimed_until = ?3
         WHERE person_id IN (SELECT value FROM rarray(?1)) AND due <= ?2
           AND (claimed_until IS NULL OR claimed_until <= ?2)",
    )
    .and_then(|mut s| s.execute((id_array(persons), now.as_millis(), until.as_millis())))
    .map(drop)
    .map_err(backend("claim queued persons"))
}

/// Claims the earliest unclaimed due persons (one writer: no two claims overlap).
pub(crate) fn claim_due(
    conn: &Connection,
    now: Timestamp,
    limit: usize,
    until: Timestamp,
) -> Result<Vec<PersonId>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "UPDATE reevaluation_queue SET claimed_until = ?3 WHERE person_id IN (
               SELECT person_id FROM reevaluation_queue
               WHERE due <= ?1 AND (claimed_until IS NULL OR claimed_until <= ?1)
               ORDER BY due, person_id LIMIT ?2)
             RETURNING person_id, due",
        )
        .map_err(backend("claim queued persons"))?;
    let mut claimed = stmt
        .query_map((now.as_millis(), limit as i64, until.as_millis()), |r| {
            Ok((r.get::<_, i64>(1)?, r.get::<_, String>(0)?))
        })
        .map_err(backend("claim queued persons"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend("claim queued persons"))?;
    claimed.sort_unstable();
    claimed.into_iter().map(|(_, id)| PersonId::parse(&id).map_err(|e| corrupt("queued person id", e))).collect()
}

pub(crate) fn queue_len(conn: &Connection) -> Result<u64, StoreError> {
    conn.query_row("SELECT count(*) FROM reevaluation_queue", [], |r| r.get::<_, i64>(0))
        .map(|n| n as u64)
        .map_err(backend("count the queue"))
}

type RawCode = (String, String, String, String, i64, i64, String, Option<i64>, i64);

fn raw(r: &Row<'_>) -> rusqlite::Result<RawCode> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
}

fn decode(
    (person, colour, reasons, evidence, since, evaluated_at, rules_version, next_change, revision): RawCode,
) -> Result<CodeState, StoreError> {
    Ok(CodeState {
        person: PersonId::parse(&person).map_err(|e| corrupt("code person id", e))?,
        colour: Colour::parse(&colour).ok_or_else(|| corrupt("colour", &colour))?,
        reasons: serde_json::from_str(&reasons).map_err(|e| corrupt("reasons", e))?,
        evidence: serde_json::from_str(&evidence).map_err(|e| corrupt("reason evidence", e))?,
        since: Timestamp::from_millis(since),
        evaluated_at: Timestamp::from_millis(evaluated_at),
        rules_version,
        next_change: next_change.map(Timestamp::from_millis),
        revision,
    })
}

pub(crate) fn add_colour_changes(conn: &mut Connection, counts: &[ColourChangeCount]) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(backend("begin counting colour changes"))?;
    {
        let mut add = tx
            .prepare_cached(
                "INSERT INTO colour_change_counts (origin, area, hour, persons) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (origin, area, hour) DO UPDATE SET persons = persons + excluded.persons",
            )
            .map_err(backend("prepare counting colour changes"))?;
        for c in counts {
            add.execute((&c.origin, &c.area, c.hour, c.persons as i64)).map_err(backend("count colour changes"))?;
        }
    }
    tx.commit().map_err(backend("commit colour change counts"))
}

pub(crate) fn colour_changes(
    conn: &Connection,
    origin: &str,
    area: &str,
    from_hour: i64,
    to_hour: i64,
) -> Result<Vec<ColourChangeCount>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT hour, persons FROM colour_change_counts
             WHERE origin = ?1 AND area = ?2 AND hour >= ?3 AND hour < ?4 ORDER BY hour",
        )
        .map_err(backend("read colour change counts"))?;
    let rows = stmt
        .query_map((origin, area, from_hour, to_hour), |r| {
            Ok(ColourChangeCount {
                hour: r.get(0)?,
                origin: origin.to_string(),
                area: area.to_string(),
                persons: r.get::<_, i64>(1)? as u64,
            })
        })
        .map_err(backend("read colour change counts"))?;
    rows.map(|r| r.map_err(backend("read colour change counts"))).collect()
}

pub(crate) fn mark_colour_burst(
    conn: &mut Connection,
    origin: &str,
    area: &str,
    hour: i64,
) -> Result<bool, StoreError> {
    let marked = conn
        .execute(
            "UPDATE colour_change_counts SET alarmed = 1 WHERE origin = ?1 AND area = ?2 AND hour = ?3 AND alarmed = 0",
            (origin, area, hour),
        )
        .map_err(backend("mark a colour burst"))?;
    Ok(marked == 1)
}

#[async_trait]
impl CodeStore for SqliteStore {
    async fn queue_persons_with_stays_under(
        &self,
        area_prefix: &str,
        ended_after: Timestamp,
        due: Timestamp,
    ) -> StoreResult<u64> {
        let prefix = area_prefix.to_string();
        self.write(move |c| crate::codes::queue_stays_under(c, &prefix, ended_after, due)).await
    }

    async fn page_persons_with_stays_under(
        &self,
        area_prefix: &str,
        ended_after: Timestamp,
        due: Timestamp,
        page: usize,
    ) -> StoreResult<u64> {
        let prefix = area_prefix.to_string();
        self.write(move |c| crate::codes::page_stays_under(c, &prefix, ended_after, due, page)).await
    }

    async fn claim_page(&self, now: Timestamp, until: Timestamp) -> StoreResult<Option<BulkPage>> {
        self.write(move |c| crate::codes::claim_page(c, now, until)).await
    }

    async fn finish_page(&self, id: i64) -> StoreResult<()> {
        self.write(move |c| crate::codes::finish_page(c, id)).await
    }

    async fn paged_persons(&self) -> StoreResult<u64> {
        self.read(crate::codes::paged_persons).await
    }

    async fn queue_persons_with_evidence(&self, due: Timestamp) -> StoreResult<u64> {
        self.write(move |c| crate::codes::queue_with_evidence(c, due)).await
    }

    async fn queue_codes_of_other_versions(&self, version: &str, due: Timestamp) -> StoreResult<u64> {
        let version = version.to_string();
        self.write(move |c| crate::codes::queue_other_versions(c, &version, due)).await
    }

    async fn queue_persons(&self, persons: &[PersonId], due: Timestamp) -> StoreResult<()> {
        let persons = persons.to_vec();
        self.write(move |c| crate::codes::queue(c, &persons, due)).await
    }

    async fn due_persons(&self, now: Timestamp, limit: usize) -> StoreResult<Vec<PersonId>> {
        self.read(move |c| crate::codes::due(c, now, limit)).await
    }

    async fn claim_due_persons(&self, now: Timestamp, limit: usize, until: Timestamp) -> StoreResult<Vec<PersonId>> {
        self.write(move |c| crate::codes::claim_due(c, now, limit, until)).await
    }

    async fn claim_persons(&self, persons: &[PersonId], now: Timestamp, until: Timestamp) -> StoreResult<()> {
        if persons.is_empty() {
            return Ok(());
        }
        let persons = persons.to_vec();
        self.write(move |c| crate::codes::claim_persons(c, &persons, now, until)).await
    }

    async fn queue_len(&self) -> StoreResult<u64> {
        self.read(crate::codes::queue_len).await
    }

    async fn save_codes(&self, codes: &[CodeState], log: &LogAppend) -> StoreResult<()> {
        if codes.is_empty() && log.is_empty() {
            return Ok(());
        }
        let (codes, log) = (codes.to_vec(), log.clone());
        self.write(move |c| crate::codes::save(c, &codes, &log)).await
    }

    /// One trip to a reader connection instead of three: this is on the path of every code
    /// a resident shows (BENCHMARKS.md).
    async fn code_card(&self, person: &PersonId) -> StoreResult<Option<CodeCard>> {
        let person = person.clone();
        self.read(move |c| {
            let Some(record) = crate::evidence::persons::one(c, &person)? else { return Ok(None) };
            Ok(Some(CodeCard {
                record,
                code: crate::codes::one(c, &person)?,
                profile: crate::residents::profile(c, &person)?,
            }))
        })
        .await
    }

    async fn code_card_with_key(
        &self,
        person: &PersonId,
        key_hash: &str,
    ) -> StoreResult<(Option<CodeCard>, Option<healthcode_store::ResidentKey>)> {
        let (person, key_hash) = (person.clone(), key_hash.to_string());
        self.read(move |c| {
            let owner = crate::residents::key(c, &key_hash)?;
            let Some(record) = crate::evidence::persons::one(c, &person)? else { return Ok((None, owner)) };
            let card = CodeCard {
                record,
                code: crate::codes::one(c, &person)?,
                profile: crate::residents::profile(c, &person)?,
            };
            Ok((Some(card), owner))
        })
        .await
    }

    async fn code(&self, person: &PersonId) -> StoreResult<Option<CodeState>> {
        let person = person.clone();
        self.read(move |c| crate::codes::one(c, &person)).await
    }

    async fn codes(&self, persons: &[PersonId]) -> StoreResult<Vec<CodeState>> {
        let persons = persons.to_vec();
        self.read(move |c| crate::codes::many(c, &persons)).await
    }

    async fn code_summaries(&self, persons: &[PersonId]) -> StoreResult<Vec<CodeSummary>> {
        let persons = persons.to_vec();
        self.read(move |c| crate::codes::summaries(c, &persons)).await
    }

    async fn colour_counts(&self) -> StoreResult<Vec<(Colour, u64)>> {
        self.read(crate::codes::colour_counts).await
    }

    async fn colour_counts_by_area(&self) -> StoreResult<Vec<(Option<AreaCode>, Colour, u64)>> {
        self.read(crate::codes::colour_counts_by_area).await
    }

    async fn codes_with_colour(&self, colour: Colour, limit: usize) -> StoreResult<Vec<CodeState>> {
        self.read(move |c| crate::codes::with_colour(c, colour, limit)).await
    }

    async fn add_colour_changes(&self, counts: &[ColourChangeCount]) -> StoreResult<()> {
        if counts.is_empty() {
            return Ok(());
        }
        let counts = counts.to_vec();
        self.write(move |c| crate::codes::add_colour_changes(c, &counts)).await
    }

    async fn colour_changes(
        &self,
        origin: &str,
        area: &str,
        from_hour: i64,
        to_hour: i64,
    ) -> StoreResult<Vec<ColourChangeCount>> {
        let (origin, area) = (origin.to_string(), area.to_string());
        self.read(move |c| crate::codes::colour_changes(c, &origin, &area, from_hour, to_hour)).await
    }

    async fn mark_colour_burst(&self, origin: &str, area: &str, hour: i64) -> StoreResult<bool> {
        let (origin, area) = (origin.to_string(), area.to_string());
        self.write(move |c| crate::codes::mark_colour_burst(c, &origin, &area, hour)).await
    }
}
