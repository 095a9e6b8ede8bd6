//! The national exchange, as the PostgreSQL backend keeps it: persons' national
//! pseudonyms, the submissions queued for the hub, the hub's records parked until their
//! person is known here, and which key signed each record of another region in use here.

use async_trait::async_trait;
use healthcode_domain::{PersonId, Timestamp};
use healthcode_store::{
    AdmittedRecord, DestroyedRows, FederationStore, NationalLink, ParkedRecord, QueuedSubmission, SignedOutside,
    Signer, StoreError, StoreResult,
};
use tokio_postgres::Row;

use crate::rows::ids;
use crate::{backend, corrupt, PostgresStore};

/// The exchange's tables that hold persons' national pseudonyms or ids (links, records
/// parked under them, records not yet submitted, records in use about them): emptied by the
/// destruction besides `healthcode_store::PERSONAL_TABLES`.
pub(crate) const PERSONAL_TABLES: &[&str] =
    &["national_parked", "national_links", "national_submissions", "national_admitted"];

/// Erases one person's national pseudonyms, any record still parked under them, and the
/// signers of the records about them, in the erasure's transaction.
pub(crate) async fn erase(tx: &deadpool_postgres::Transaction<'_>, person: &PersonId) -> StoreResult<DestroyedRows> {
    let admitted = tx
        .execute("DELETE FROM national_admitted WHERE person_id = $1", &[&person.as_str()])
        .await
        .map_err(backend("erase the signers of a person's national records"))?;
    let parked = tx
        .execute(
            "DELETE FROM national_parked
             WHERE national_id IN (SELECT national_id FROM national_links WHERE person_id = $1)",
            &[&person.as_str()],
        )
        .await
        .map_err(backend("erase a person's parked records"))?;
    let links = tx
        .execute("DELETE FROM national_links WHERE person_id = $1", &[&person.as_str()])
        .await
        .map_err(backend("erase a person's national pseudonyms"))?;
    Ok(vec![
        ("national_parked".to_string(), parked),
        ("national_links".to_string(), links),
        ("national_admitted".to_string(), admitted),
    ])
}

fn link(row: &Row) -> StoreResult<NationalLink> {
    Ok(NationalLink {
        national_id: row.get(0),
        person: PersonId::parse(row.get(1)).map_err(|e| corrupt("linked person id", e))?,
    })
}

const PARKED_COLUMNS: &str = "national_id, hub_index, entry, parked_at, region, kid, hub_at";

fn parked(row: &Row) -> StoreResult<ParkedRecord> {
    Ok(ParkedRecord {
        national_id: row.get(0),
        hub_index: u64::try_from(row.get::<_, i64>(1)).map_err(|e| corrupt("parked record's hub index", e))?,
        entry: row.get(2),
        parked_at: Timestamp::from_millis(row.get(3)),
        signer: Signer { region: row.get(4), kid: row.get(5), hub_at: Timestamp::from_millis(row.get(6)) },
    })
}

/// A key's records outside its trusted times: `from` and `until` (ms) as bounds for
/// `hub_at < $3 OR hub_at >= $4`, and the `LIMIT $5`.
fn outside_bounds(outside: &SignedOutside, limit: usize) -> (i64, i64, i64) {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    (outside.from.as_millis(), outside.until.map_or(i64::MAX, Timestamp::as_millis), limit)
}

fn hub_index(index: u64) -> StoreResult<i64> {
    i64::try_from(index).map_err(|_| StoreError::Backend(format!("hub index {index} is beyond what can be stored")))
}

#[async_trait]
impl FederationStore for PostgresStore {
    async fn link_national_ids(&self, links: &[NationalLink]) -> StoreResult<()> {
        if links.is_empty() {
            return Ok(());
        }
        let national_ids: Vec<&str> = links.iter().map(|l| l.national_id.as_str()).collect();
        let persons: Vec<&str> = links.iter().map(|l| l.person.as_str()).collect();
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO national_links (national_id, person_id)
                 SELECT * FROM UNNEST($1::text[], $2::text[])
                 ON CONFLICT (national_id) DO NOTHING",
                &[&national_ids, &persons],
            )
            .await
            .map_err(backend("link national pseudonyms"))?;
        Ok(())
    }

    async fn persons_by_national_id(&self, national_ids: &[String]) -> StoreResult<Vec<NationalLink>> {
        if national_ids.is_empty() {
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT national_id, person_id FROM national_links WHERE national_id = ANY($1)
                 ORDER BY national_id",
                &[&national_ids],
            )
            .await
            .map_err(backend("read national pseudonyms"))?;
        rows.iter().map(link).collect()
    }

    async fn national_ids_of(&self, persons: &[PersonId]) -> StoreResult<Vec<NationalLink>> {
        if persons.is_empty() {
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT national_id, person_id FROM national_links WHERE person_id = ANY($1)
                 ORDER BY national_id",
                &[&ids(persons)],
            )
            .await
            .map_err(backend("read national pseudonyms"))?;
        rows.iter().map(link).collect()
    }

    async fn queue_submissions(&self, lines: &[String]) -> StoreResult<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let client = self.client().await?;
        crate::batch::queue_for_hub(&client, lines.iter().map(String::as_str).collect()).await
    }

    async fn queued_submissions(&self, limit: usize) -> StoreResult<Vec<QueuedSubmission>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let client = self.client().await?;
        let rows = client
            .query("SELECT seq, line FROM national_submissions ORDER BY seq LIMIT $1", &[&limit])
            .await
            .map_err(backend("read queued submissions"))?;
        Ok(rows.iter().map(|r| QueuedSubmission { seq: r.get(0), line: r.get(1) }).collect())
    }

    async fn remove_submissions(&self, seqs: &[i64]) -> StoreResult<()> {
        if seqs.is_empty() {
            return Ok(());
        }
        let client = self.client().await?;
        client
            .execute("DELETE FROM national_submissions WHERE seq = ANY($1)", &[&seqs])
            .await
            .map_err(backend("remove acknowledged submissions"))?;
        Ok(())
    }

    async fn park_records(&self, records: &[ParkedRecord]) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        let national_ids: Vec<&str> = records.iter().map(|r| r.national_id.as_str()).collect();
        let indices = records.iter().map(|r| hub_index(r.hub_index)).collect::<StoreResult<Vec<i64>>>()?;
        let entries: Vec<&str> = records.iter().map(|r| r.entry.as_str()).collect();
        let parked_at: Vec<i64> = records.iter().map(|r| r.parked_at.as_millis()).collect();
        let regions: Vec<&str> = records.iter().map(|r| r.signer.region.as_str()).collect();
        let kids: Vec<Option<&str>> = records.iter().map(|r| r.signer.kid.as_deref()).collect();
        let hub_at: Vec<i64> = records.iter().map(|r| r.signer.hub_at.as_millis()).collect();
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO national_parked (national_id, hub_index, entry, parked_at, region, kid, hub_at)
                 SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[],
                                      $7::bigint[])
                 ON CONFLICT (national_id, hub_index) DO NOTHING",
                &[&national_ids, &indices, &entries, &parked_at, &regions, &kids, &hub_at],
            )
            .await
            .map_err(backend("park records"))?;
        Ok(())
    }

    async fn parked_records(&self, national_ids: &[String]) -> StoreResult<Vec<ParkedRecord>> {
        if national_ids.is_empty() {
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {PARKED_COLUMNS} FROM national_parked WHERE national_id = ANY($1)
                     ORDER BY hub_index, national_id"
                ),
                &[&national_ids],
            )
            .await
            .map_err(backend("read parked records"))?;
        rows.iter().map(parked).collect()
    }

    async fn unpark_records(&self, national_id: &str, hub_indices: &[u64]) -> StoreResult<()> {
        // An index beyond what can be stored names no parked record.
        let indices: Vec<i64> = hub_indices.iter().filter_map(|&i| i64::try_from(i).ok()).collect();
        if indices.is_empty() {
            return Ok(());
        }
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM national_parked WHERE national_id = $1 AND hub_index = ANY($2)",
                &[&national_id, &indices],
            )
            .await
            .map_err(backend("unpark records"))?;
        Ok(())
    }

    async fn delete_parked_before(&self, before: Timestamp) -> StoreResult<u64> {
        let client = self.client().await?;
        client
            .execute("DELETE FROM national_parked WHERE parked_at < $1", &[&before.as_millis()])
            .await
            .map_err(backend("delete old parked records"))
    }

    async fn parked_signed_outside(&self, outside: &SignedOutside, limit: usize) -> StoreResult<Vec<ParkedRecord>> {
        let (from, until, limit) = outside_bounds(outside, limit);
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {PARKED_COLUMNS} FROM national_parked
                     WHERE region = $1 AND kid = $2 AND (hub_at < $3 OR hub_at >= $4)
                     ORDER BY hub_index, national_id LIMIT $5"
                ),
                &[&outside.region, &outside.kid, &from, &until, &limit],
            )
            .await
            .map_err(backend("read parked records by key"))?;
        rows.iter().map(parked).collect()
    }

    async fn note_admitted(&self, records: &[AdmittedRecord]) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        let regions: Vec<&str> = records.iter().map(|r| r.signer.region.as_str()).collect();
        let ids: Vec<&str> = records.iter().map(|r| r.record_id.as_str()).collect();
        let kinds: Vec<&str> = records.iter().map(|r| r.kind.as_str()).collect();
        let persons: Vec<Option<&str>> = records.iter().map(|r| r.person.as_ref().map(PersonId::as_str)).collect();
        let kids: Vec<Option<&str>> = records.iter().map(|r| r.signer.kid.as_deref()).collect();
        let hub_at: Vec<i64> = records.iter().map(|r| r.signer.hub_at.as_millis()).collect();
        let indices = records.iter().map(|r| hub_index(r.hub_index)).collect::<StoreResult<Vec<i64>>>()?;
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO national_admitted (region, record_id, kind, person_id, kid, hub_at, hub_index)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                                      $7::bigint[])
                 ON CONFLICT (region, record_id) DO NOTHING",
                &[&regions, &ids, &kinds, &persons, &kids, &hub_at, &indices],
            )
            .await
            .map_err(backend("note admitted records"))?;
        Ok(())
    }

    async fn admitted_signed_outside(&self, outside: &SignedOutside, limit: usize) -> StoreResult<Vec<AdmittedRecord>> {
        let (from, until, limit) = outside_bounds(outside, limit);
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT record_id, kind, person_id, hub_index, region, kid, hub_at FROM national_admitted
                 WHERE region = $1 AND kid = $2 AND (hub_at < $3 OR hub_at >= $4)
                 ORDER BY hub_index, record_id LIMIT $5",
                &[&outside.region, &outside.kid, &from, &until, &limit],
            )
            .await
            .map_err(backend("read admitted records by key"))?;
        rows.iter()
            .map(|r| {
                Ok(AdmittedRecord {
                    record_id: r.get(0),
                    kind: r.get(1),
                    person: r
                        .get::<_, Option<&str>>(2)
                        .map(|p| PersonId::parse(p).map_err(|e| corrupt("admitted record's person id", e)))
                        .transpose()?,
                    hub_index: u64::try_from(r.get::<_, i64>(3))
                        .map_err(|e| corrupt("admitted record's hub index", e))?,
                    signer: Signer { region: r.get(4), kid: r.get(5), hub_at: Timestamp::from_millis(r.get(6)) },
                })
            })
            .collect()
    }

    async fn forget_admitted(&self, region: &str, record_ids: &[String]) -> StoreResult<()> {
        if record_ids.is_empty() {
            return Ok(());
        }
        let client = self.client().await?;
        client
            .execute("DELETE FROM national_admitted WHERE region = $1 AND record_id = ANY($2)", &[&region, &record_ids])
            .await
            .map_err(backend("forget withdrawn records"))?;
        Ok(())
    }
}
