//! Persons, their evidence, area designations and the rejection log.

use healthcode_domain::{AreaCode, AreaRisk, Event, Evidence, PersonId, Timestamp};
use healthcode_store::{
    EvidenceStore, Inserted, NewDesignation, NewEvidence, NewRejection, PersonRecord, Rejection, StoreResult,
};
pub(crate) mod events;
pub(crate) mod persons;
pub(crate) mod rejections;

use crate::SqliteStore;
use async_trait::async_trait;
pub(crate) use events::insert_evidence_in;
pub(crate) use persons::id_array;
pub(crate) use persons::register as register_person_in;

#[async_trait]
impl EvidenceStore for SqliteStore {
    async fn register_person(&self, person: &PersonRecord) -> StoreResult<bool> {
        let person = person.clone();
        self.write(move |c| crate::evidence::persons::register(c, &person)).await
    }

    async fn register_persons(&self, batch: &[PersonRecord]) -> StoreResult<u64> {
        let batch = batch.to_vec();
        self.write(move |c| crate::evidence::persons::register_many(c, &batch)).await
    }

    async fn person(&self, id: &PersonId) -> StoreResult<Option<PersonRecord>> {
        let id = id.clone();
        self.read(move |c| crate::evidence::persons::one(c, &id)).await
    }

    async fn fill_residence_area(&self, id: &PersonId, area: &AreaCode) -> StoreResult<bool> {
        let (id, area) = (id.clone(), area.clone());
        self.write(move |c| {
            c.execute(
                "UPDATE persons SET residence_area = ?2 WHERE id = ?1 AND residence_area IS NULL",
                (id.as_str(), area.as_str()),
            )
            .map(|n| n == 1)
            .map_err(crate::backend("set a residence area"))
        })
        .await
    }

    async fn persons(&self, ids: &[PersonId]) -> StoreResult<Vec<PersonRecord>> {
        let ids = ids.to_vec();
        self.read(move |c| crate::evidence::persons::many(c, &ids)).await
    }

    async fn person_count(&self) -> StoreResult<u64> {
        self.read(crate::evidence::persons::count).await
    }

    async fn insert_evidence(&self, batch: &[NewEvidence]) -> StoreResult<Vec<Inserted>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let batch = batch.to_vec();
        self.write(move |c| crate::evidence::events::insert_evidence(c, &batch)).await
    }

    async fn evidence_for(&self, person: &PersonId) -> StoreResult<Vec<Event<Evidence>>> {
        let person = person.clone();
        self.read(move |c| crate::evidence::events::evidence_for(c, &person)).await
    }

    async fn evidence_for_many(&self, persons: &[PersonId]) -> StoreResult<Vec<(PersonId, Vec<Event<Evidence>>)>> {
        let persons = persons.to_vec();
        self.read(move |c| crate::evidence::events::evidence_for_many(c, &persons)).await
    }

    async fn insert_designations(&self, batch: &[NewDesignation]) -> StoreResult<Vec<Inserted>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let batch = batch.to_vec();
        self.write(move |c| crate::evidence::events::insert_designations(c, &batch)).await
    }

    async fn designations_after(&self, after_seq: i64) -> StoreResult<Vec<Event<AreaRisk>>> {
        self.read(move |c| crate::evidence::events::designations_where(c, "seq > ?1", after_seq)).await
    }

    async fn unapplied_designations(&self) -> StoreResult<Vec<Event<AreaRisk>>> {
        self.read(|c| crate::evidence::events::designations_where(c, "applied = 0 AND seq > ?1", i64::MIN)).await
    }

    async fn mark_designations_applied(&self, seqs: &[i64]) -> StoreResult<()> {
        let seqs = seqs.to_vec();
        self.write(move |c| crate::evidence::events::mark_applied(c, &seqs)).await
    }

    async fn persons_with_stays_under(&self, area_prefix: &str, ended_after: Timestamp) -> StoreResult<Vec<PersonId>> {
        let prefix = area_prefix.to_string();
        self.read(move |c| crate::codes::stays_under(c, &prefix, ended_after)).await
    }

    async fn record_rejections(&self, batch: &[NewRejection]) -> StoreResult<()> {
        let batch = batch.to_vec();
        self.write(move |c| crate::evidence::rejections::record(c, &batch)).await
    }

    async fn rejections(&self, after: i64, limit: usize, owner: Option<&str>) -> StoreResult<Vec<Rejection>> {
        let owner = owner.map(str::to_string);
        self.read(move |c| crate::evidence::rejections::list(c, after, limit, owner.as_deref())).await
    }
}
