//! The national exchange, as the SQLite backend keeps it: persons' national pseudonyms,
//! the submissions queued for the hub, the hub's records parked until their person is
//! known here, and which key signed each record of another region in use here.

use std::rc::Rc;

use async_trait::async_trait;
use healthcode_domain::{PersonId, Timestamp};
use healthcode_store::{
    AdmittedRecord, DestroyedRows, FederationStore, NationalLink, ParkedRecord, QueuedSubmission, SignedOutside,
    Signer, StoreError, StoreResult,
};
use rusqlite::types::Value;
use rusqlite::{Connection, Row, Transaction};

use crate::evidence::id_array;
use crate::{backend, corrupt, SqliteStore};

/// The exchange's tables that hold persons' national pseudonyms or ids (links, records
/// parked under them, records not yet submitted, records in use about them): emptied by the
/// destruction besides `healthcode_store::PERSONAL_TABLES`.
pub(crate) const PERSONAL_TABLES: &[&str] =
    &["national_parked", "national_links", "national_submissions", "national_admitted"];

/// Erases one person's national pseudonyms, any record still parked under them, and the
/// signers of the records about them, in the erasure's transaction.
pub(crate) fn erase(tx: &Transaction<'_>, person: &PersonId) -> Result<DestroyedRows, StoreError> {
    let admitted = tx
        .execute("DELETE FROM national_admitted WHERE person_id = ?1", [person.as_str()])
        .map_err(backend("erase the signers of a person's national records"))?;
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
    Ok(vec![
        ("national_parked".to_string(), parked as u64),
        ("national_links".to_string(), links as u64),
        ("national_admitted".to_string(), admitted as u64),
    ])
}

fn text_array(values: Vec<String>) -> Rc<Vec<Value>> {
    Rc::new(values.into_iter().map(Value::Text).collect())
}

/// The `(region, kid, hub_at)` range of a key's records outside its trusted times, as
/// bounds for `… WHERE region = ?1 AND kid = ?2 AND (hub_at < ?3 OR hub_at >= ?4)`, and
/// the `LIMIT ?5`.
fn outside_bounds(outside: &SignedOutside, limit: usize) -> (String, String, i64, i64, i64) {
    let until = outside.until.map_or(i64::MAX, Timestamp::as_millis);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    (outside.region.clone(), outside.kid.clone(), outside.from.as_millis(), until, limit)
}

/// A parked row as read: `PARKED_COLUMNS` in order.
type RawParked = (String, i64, String, i64, String, Option<String>, i64);

fn parked_row(r: &Row<'_>) -> rusqlite::Result<RawParked> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
}

fn parked_record(raw: RawParked) -> Result<ParkedRecord, StoreError> {
    let (national_id, index, entry, parked_at, region, kid, hub_at) = raw;
    let hub_index = u64::try_from(index).map_err(|e| corrupt("parked record's hub index", e))?;
    Ok(ParkedRecord {
        national_id,
        hub_index,
        entry,
        parked_at: Timestamp::from_millis(parked_at),
        signer: Signer { region, kid, hub_at: Timestamp::from_millis(hub_at) },
    })
}

const PARKED_COLUMNS: &str = "national_id, hub_index, entry, parked_at, region, kid, hub_at";

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
            crate::evidence::events::queue_for_hub(&tx, lines.iter().map(String::as_str))?;
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
            .map(|r| {
                Ok((
                    (r.national_id.clone(), hub_index(r.hub_index)?, r.entry.clone(), r.parked_at.as_millis()),
                    (r.signer.region.clone(), r.signer.kid.clone(), r.signer.hub_at.as_millis()),
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.write(move |c| {
            let tx = c.transaction().map_err(backend("begin parking records"))?;
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO national_parked (national_id, hub_index, entry, parked_at, region, kid, hub_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                         ON CONFLICT (hub_index) DO NOTHING",
                    )
                    .map_err(backend("prepare parking records"))?;
                for ((national_id, index, entry, parked_at), (region, kid, hub_at)) in &records {
                    insert
                        .execute((national_id, index, entry, parked_at, region, kid, hub_at))
                        .map_err(backend("park a record"))?;
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
                .prepare_cached(&format!(
                    "SELECT {PARKED_COLUMNS} FROM national_parked WHERE national_id IN rarray(?1)
                     ORDER BY hub_index, national_id"
                ))
                .map_err(backend("read parked records"))?;
            let rows = stmt.query_map([text_array(ids)], parked_row).map_err(backend("read parked records"))?;
            rows.map(|r| parked_record(r.map_err(backend("read parked records"))?)).collect()
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

    async fn parked_signed_outside(&self, outside: &SignedOutside, limit: usize) -> StoreResult<Vec<ParkedRecord>> {
        let bounds = outside_bounds(outside, limit);
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {PARKED_COLUMNS} FROM national_parked
                     WHERE region = ?1 AND kid = ?2 AND (hub_at < ?3 OR hub_at >= ?4)
                     ORDER BY hub_index, national_id LIMIT ?5"
                ))
                .map_err(backend("read parked records by key"))?;
            let rows = stmt.query_map(bounds, parked_row).map_err(backend("read parked records by key"))?;
            rows.map(|r| parked_record(r.map_err(backend("read parked records by key"))?)).collect()
        })
        .await
    }

    async fn note_admitted(&self, records: &[AdmittedRecord]) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        let records = records
            .iter()
            .map(|r| {
                Ok((
                    (r.signer.region.clone(), r.record_id.clone(), r.kind.clone()),
                    (r.person.as_ref().map(|p| p.as_str().to_string()), r.signer.kid.clone()),
                    (r.signer.hub_at.as_millis(), hub_index(r.hub_index)?),
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.write(move |c| {
            let tx = c.transaction().map_err(backend("begin noting admitted records"))?;
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO national_admitted (region, record_id, kind, person_id, kid, hub_at, hub_index)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                         ON CONFLICT (region, record_id) DO NOTHING",
                    )
                    .map_err(backend("prepare noting admitted records"))?;
                for ((region, id, kind), (person, kid), (hub_at, index)) in &records {
                    insert
                        .execute((region, id, kind, person, kid, hub_at, index))
                        .map_err(backend("note an admitted record"))?;
                }
            }
            tx.commit().map_err(backend("commit admitted records"))
        })
        .await
    }

    async fn admitted_signed_outside(&self, outside: &SignedOutside, limit: usize) -> StoreResult<Vec<AdmittedRecord>> {
        let bounds = outside_bounds(outside, limit);
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT record_id, kind, person_id, hub_index, region, kid, hub_at FROM national_admitted
                     WHERE region = ?1 AND kid = ?2 AND (hub_at < ?3 OR hub_at >= ?4)
                     ORDER BY hub_index, record_id LIMIT ?5",
                )
                .map_err(backend("read admitted records by key"))?;
            let rows = stmt
                .query_map(bounds, |r| {
                    Ok((
                        (r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?),
                        (r.get::<_, i64>(3)?, r.get::<_, String>(4)?, r.get::<_, Option<String>>(5)?),
                        r.get::<_, i64>(6)?,
                    ))
                })
                .map_err(backend("read admitted records by key"))?;
            rows.map(|r| {
                let ((record_id, kind, person), (index, region, kid), hub_at) =
                    r.map_err(backend("read admitted records by key"))?;
                Ok(AdmittedRecord {
                    record_id,
                    kind,
                    person: person
                        .map(|p| PersonId::parse(&p).map_err(|e| corrupt("admitted record's person id", e)))
                        .transpose()?,
                    hub_index: u64::try_from(index).map_err(|e| corrupt("admitted record's hub index", e))?,
                    signer: Signer { region, kid, hub_at: Timestamp::from_millis(hub_at) },
                })
            })
            .collect()
        })
        .await
    }

    async fn forget_admitted(&self, region: &str, record_ids: &[String]) -> StoreResult<()> {
        if record_ids.is_empty() {
            return Ok(());
        }
        let region = region.to_string();
        let ids = record_ids.to_vec();
        self.write(move |c| {
            c.prepare_cached("DELETE FROM national_admitted WHERE region = ?1 AND record_id IN rarray(?2)")
                .and_then(|mut s| s.execute((&region, text_array(ids))))
                .map(drop)
                .map_err(backend("forget withdrawn records"))
        })
        .await
    }
}
