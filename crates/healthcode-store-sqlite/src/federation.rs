//! The national exchange, as the SQLite backend keeps it: persons' national pseudonyms,
//! the submissions queued for the hub, and the hub's records parked until their person
//! is known here.

use std::rc::Rc;

use async_trait::async_trait;
use healthcode_domain::{PersonId, Timestamp};
use healthcode_store::{
    DestroyedRows, FederationStore, NationalLink, ParkedRecord, QueuedSubmission, StoreError, StoreResult,
};
use rusqlite::types::Value;
use rusqlite::{Connection, Transaction};

use crate::evidence::id_array;
use crate::{backend, corrupt, SqliteStore};

/// The exchange's tables that hold persons' national pseudonyms (links, records parked
/// under them, records not yet submitted): emptied by the destruction besides
/// `healthcode_store::PERSONAL_TABLES`.
pub(crate) const PERSONAL_TABLES: &[&str] = &["national_parked", "national_links", "national_submissions"];

/// Erases one person's national pseudonyms, and any record still parked under them, in
/// the erasure's transaction.
pub(crate) fn erase(tx: &Transaction<'_>, person: &PersonId) -> Result<DestroyedRows, StoreError> {
    let parked = tx
        .execute(
            "DELETE FROM national_parked
             WHERE national_id IN (SELECT national_id FROM national_links WHERE person_id = ?1)",
            [person.as_str()],
        )
        .map_err(backend("erase a person's parked records"))?;
    let links = tx
        .execute("DELETE FROM national_links WHERE person_id = ?1", [person.as_str()])
        .map_err(backend("erase a person's national pseudonyms"))?;
    Ok(vec![("national_parked".to_string(), parked as u64), ("national_links".to_string(), links as u64)])
}

fn text_array(values: Vec<String>) -> Rc<Vec<Value>> {
    Rc::new(values.into_iter().map(Value::Text).collect())
}

fn hub_index(index: u64) -> Result<i64, StoreError> {
    i64::try_from(index).map_err(|_| StoreError::Backend(format!("hub index {index} is beyond what can be stored")))
}

fn links(conn: &Connection, sql: &str, ids: Rc<Vec<Value>>) -> Result<Vec<NationalLink>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend("read national pseudonyms"))?;
    let rows = stmt
        .query_map([ids], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(backend("read national pseudonyms"))?;
    rows.map(|r| {
        let (national_id, person) = r.map_err(backend("read national pseudonyms"))?;
        let person = PersonId::parse(&person).map_err(|e| corrupt("linked person id", e))?;
        Ok(NationalLink { national_id, person })
    })
    .collect()
}

#[async_trait]
impl FederationStore for SqliteStore {
    async fn link_national_ids(&self, links: &[NationalLink]) -> StoreResult<()> {
        if links.is_empty() {
            return Ok(());
        }
        let links = links.to_vec();
        self.write(move |c| {
            let tx = c.transaction().map_err(backend("begin linking national pseudonyms"))?;
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO national_links (national_id, person_id) VALUES (?1, ?2)
                         ON CONFLICT (national_id) DO NOTHING",
                    )
                    .map_err(backend("prepare linking national pseudonyms"))?;
                for l in &links {
                    insert
                        .execute((&l.national_id, l.person.as_str()))
                        .map_err(backend("link a national pseudonym"))?;
                }
            }
            tx.commit().map_err(backend("commit national pseudonyms"))
        })
        .await
    }

    async fn persons_by_national_id(&self, national_ids: &[String]) -> StoreResult<Vec<NationalLink>> {
        if national_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = national_ids.to_vec();
        self.read(move |c| {
            links(
                c,
                "SELECT national_id, person_id FROM national_links WHERE national_id IN rarray(?1)
                 ORDER BY national_id",
                text_array(ids),
            )
        })
        .await
    }

    async fn national_ids_of(&self, persons: &[PersonId]) -> StoreResult<Vec<NationalLink>> {
        if persons.is_empty() {
            return Ok(Vec::new());
        }
        let persons = persons.to_vec();
        self.read(move |c| {
            links(
                c,
                "SELECT national_id, person_id FROM national_links WHERE person_id IN rarray(?1)
                 ORDER BY national_id",
                id_array(&persons),
            )
        })
        .await
    }

    async fn queue_submissions(&self, lines: &[String]) -> StoreResult<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let lines = lines.to_vec();
        self.write(move |c| {
            let tx = c.transaction().map_err(backend("begin queueing submissions"))?;
            {
                let mut insert = tx
                    .prepare_cached("INSERT INTO national_submissions (line) VALUES (?1)")
                    .map_err(backend("prepare queueing submissions"))?;
                for line in &lines {
                    insert.execute([line]).map_err(backend("queue a submission"))?;
                }
            }
            tx.commit().map_err(backend("commit queued submissions"))
        })
        .await
    }

    async fn queued_submissions(&self, limit: usize) -> StoreResult<Vec<QueuedSubmission>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached("SELECT seq, line FROM national_submissions ORDER BY seq LIMIT ?1")
                .map_err(backend("read queued submissions"))?;
            let rows = stmt
                .query_map([limit], |r| Ok(QueuedSubmission { seq: r.get(0)?, line: r.get(1)? }))
                .map_err(backend("read queued submissions"))?;
            rows.map(|r| r.map_err(backend("read queued submissions"))).collect()
        })
        .await
    }

    async fn remove_submissions(&self, seqs: &[i64]) -> StoreResult<()> {
        if seqs.is_empty() {
            return Ok(());
        }
        let seqs: Vec<Value> = seqs.iter().map(|&s| Value::Integer(s)).collect();
        self.write(move |c| {
            c.prepare_cached("DELETE FROM national_submissions WHERE seq IN rarray(?1)")
                .and_then(|mut s| s.execute([Rc::new(seqs)]))
                .map(drop)
                .map_err(backend("remove acknowledged submissions"))
        })
        .await
    }

    async fn park_records(&self, records: &[ParkedRecord]) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        let records = records
            .iter()
            .map(|r| Ok((r.national_id.clone(), hub_index(r.hub_index)?, r.entry.clone(), r.parked_at.as_millis())))
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.write(move |c| {
            let tx = c.transaction().map_err(backend("begin parking records"))?;
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO national_parked (national_id, hub_index, entry, parked_at) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (national_id, hub_index) DO NOTHING",
                    )
                    .map_err(backend("prepare parking records"))?;
                for (national_id, index, entry, parked_at) in &records {
                    insert.execute((national_id, index, entry, parked_at)).map_err(backend("park a record"))?;
                }
            }
            tx.commit().map_err(backend("commit parked records"))
        })
        .await
    }

    async fn parked_records(&self, national_ids: &[String]) -> StoreResult<Vec<ParkedRecord>> {
        if national_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = national_ids.to_vec();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT national_id, hub_index, entry, parked_at FROM national_parked WHERE national_id IN rarray(?1)
                     ORDER BY hub_index, national_id",
                )
                .map_err(backend("read parked records"))?;
            let rows = stmt
                .query_map([text_array(ids)], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
                })
                .map_err(backend("read parked records"))?;
            rows.map(|r| {
                let (national_id, index, entry, parked_at) = r.map_err(backend("read parked records"))?;
                let hub_index = u64::try_from(index).map_err(|e| corrupt("parked record's hub index", e))?;
                Ok(ParkedRecord { national_id, hub_index, entry, parked_at: Timestamp::from_millis(parked_at) })
            })
            .collect()
        })
        .await
    }

    async fn unpark_records(&self, national_id: &str, hub_indices: &[u64]) -> StoreResult<()> {
        // An index beyond what can be stored names no parked record.
        let indices: Vec<Value> =
            hub_indices.iter().filter_map(|&i| i64::try_from(i).ok()).map(Value::Integer).collect();
        if indices.is_empty() {
            return Ok(());
        }
        let national_id = national_id.to_string();
        self.write(move |c| {
            c.prepare_cached("DELETE FROM national_parked WHERE national_id = ?1 AND hub_index IN rarray(?2)")
                .and_then(|mut s| s.execute((&national_id, Rc::new(indices))))
                .map(drop)
                .map_err(backend("unpark records"))
        })
        .await
    }

    async fn delete_parked_before(&self, before: Timestamp) -> StoreResult<u64> {
        self.write(move |c| {
            c.execute("DELETE FROM national_parked WHERE parked_at < ?1", [before.as_millis()])
                .map(|n| n as u64)
                .map_err(backend("delete old parked records"))
        })
        .await
    }
}
