//! Persons, their evidence, area designations and the rejection log.

use std::collections::HashMap;

use async_trait::async_trait;
use healthcode_domain::{AreaCode, AreaRisk, Event, Evidence, PersonId, Timestamp};
use healthcode_store::{
    EvidenceStore, Inserted, NewDesignation, NewEvidence, NewRejection, PersonRecord, Rejection, StoreResult,
};

use crate::rows::{
    designation, evidence, existing, for_each_key, ms, person, person_id, sorted_keys, Existing, EVIDENCE_COLUMNS,
};
use crate::{backend, corrupt, PostgresStore};

#[async_trait]
impl EvidenceStore for PostgresStore {
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

    async fn refresh_statistics(&self) -> StoreResult<()> {
        let client = self.client().await?;
        // Autovacuum would, in its time; a bulk re-evaluation right after a load must not be
        // planned against the empty tables of before it.
        client.batch_execute("ANALYZE").await.map_err(backend("refresh the planner's statistics"))
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
            .query(
                &for_each_key("id, kind, registered_at, residence_area", "persons", "id", ""),
                &[&sorted_keys(wanted)],
            )
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
        let outcomes = crate::batch::insert_evidence(&tx, batch).await?;
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
        let sql = for_each_key(
            &format!("person_id, seq, id, at, {EVIDENCE_COLUMNS}"),
            "evidence",
            "person_id",
            "ORDER BY at, seq",
        );
        let rows = client.query(&sql, &[&sorted_keys(wanted)]).await.map_err(backend("read evidence"))?;
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
        crate::batch::lock_for_designations(&tx).await?;
        let mut seqs = crate::batch::reserve_seqs(&tx, batch.len()).await?.into_iter();
        let mut outcomes = Vec::with_capacity(batch.len());
        for d in batch {
            let body = serde_json::to_string(&d.risk).map_err(|e| corrupt("designation body", e))?;
            if let Some(found) = existing(&tx, d.id.as_str()).await? {
                let same_content = matches!(found, Existing::Designation(at, ref b) if at == ms(d.at) && *b == body);
                outcomes.push(Inserted::Duplicate { same_content });
                continue;
            }
            let seq = seqs.next().ok_or_else(|| corrupt("sequence numbers", "fewer than reserved"))?;
            tx.execute(
                "INSERT INTO designations (seq, id, at, body) VALUES ($1, $2, $3, $4)",
                &[&seq, &d.id.as_str(), &ms(d.at), &body],
            )
            .await
            .map_err(backend("insert a designation"))?;
            outcomes.push(Inserted::New { seq });
        }
        let new = batch.iter().zip(&outcomes).filter(|(_, o)| matches!(o, Inserted::New { .. }));
        crate::batch::queue_for_hub(&tx, new.filter_map(|(d, _)| d.hub_line.as_deref()).collect()).await?;
        tx.commit().await.map_err(backend("commit designations"))?;
        Ok(outcomes)
    }

    async fn designations_after(&self, after_seq: i64) -> StoreResult<Vec<Event<AreaRisk>>> {
        let client = self.client().await?;
        let rows = client
            .query("SELECT seq, id, at, body FROM designations WHERE seq > $1 ORDER BY at, seq", &[&after_seq])
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
}
