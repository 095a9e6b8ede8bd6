//! Persons and what is known about them: their records, their evidence, the area
//! designations, and the inputs refused on the way in (the rejection log).

use async_trait::async_trait;
use healthcode_domain::{AreaCode, AreaRisk, Event, EventId, Evidence, PersonId, PersonKind, Timestamp};
use serde::{Deserialize, Serialize};

use crate::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecord {
    pub id: PersonId,
    pub kind: PersonKind,
    pub registered_at: Timestamp,
    pub residence_area: Option<AreaCode>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvidence {
    pub person: PersonId,
    pub id: EventId,
    pub at: Timestamp,
    pub evidence: Evidence,
    /// The line this record sends to the national hub (a key-person record of a region
    /// that takes part), queued for the hub (`FederationStore::queued_submissions`) in the
    /// transaction that stores the record, and only if the record is new: a server dying
    /// after the commit cannot lose it, and a resend does not queue it twice.
    pub hub_line: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDesignation {
    pub id: EventId,
    pub at: Timestamp,
    pub risk: AreaRisk,
    /// The level this designation sends to the hub's national list, queued as
    /// `NewEvidence::hub_line` is.
    pub hub_line: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New {
        seq: i64,
    },
    /// The id was already stored. `same_content` tells a harmless resend from a
    /// conflicting record that reuses an id (which the service reports as rejected).
    Duplicate {
        same_content: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRejection {
    pub received_at: Timestamp,
    /// The account that submitted the input (a data source reads its own rejections
    /// only); `None` for the system's own (scenarios, imports).
    pub owner: Option<String>,
    /// Where the input came from, e.g. `api`, `batch row 17`, `scenario fever-negative-test`.
    pub origin: String,
    /// The input as received (JSON text, or the raw line if it was not JSON).
    pub input: String,
    pub field: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rejection {
    pub id: i64,
    pub received_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub owner: Option<String>,
    pub origin: String,
    pub input: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub field: Option<String>,
    pub reason: String,
}

/// Persons and what is known about them: registration, evidence, area designations, and
/// the inputs refused on the way in.
#[async_trait]
pub trait EvidenceStore: Send + Sync {
    /// Registers a person, or leaves an existing one unchanged. Returns true if created.
    async fn register_person(&self, person: &PersonRecord) -> StoreResult<bool>;
    /// Registers many persons in one transaction (bulk loads), leaving existing ones
    /// unchanged. Returns how many were created.
    async fn register_persons(&self, persons: &[PersonRecord]) -> StoreResult<u64>;
    /// After a bulk load: brings the database's statistics up to date, so that its
    /// planner sees the tables as they now are rather than as they were (empty) before it.
    /// Nothing where the planner keeps none.
    async fn refresh_statistics(&self) -> StoreResult<()> {
        Ok(())
    }
    async fn person(&self, id: &PersonId) -> StoreResult<Option<PersonRecord>>;
    /// Sets a person's area of residence if none is recorded (a person first known from a
    /// department's list gives theirs when they register); true if it was set.
    async fn fill_residence_area(&self, id: &PersonId, area: &AreaCode) -> StoreResult<bool>;
    async fn persons(&self, ids: &[PersonId]) -> StoreResult<Vec<PersonRecord>>;
    async fn person_count(&self) -> StoreResult<u64>;
    /// Stores evidence for registered persons, one outcome per input in order.
    async fn insert_evidence(&self, batch: &[NewEvidence]) -> StoreResult<Vec<Inserted>>;
    /// A person's evidence, sorted by `(at, seq)`.
    async fn evidence_for(&self, person: &PersonId) -> StoreResult<Vec<Event<Evidence>>>;
    /// Evidence for many persons at once, for bulk evaluation: every requested person
    /// appears once in the result (with an empty list if they have no evidence).
    async fn evidence_for_many(&self, persons: &[PersonId]) -> StoreResult<Vec<(PersonId, Vec<Event<Evidence>>)>>;
    /// Stores designations, each marked not yet applied.
    async fn insert_designations(&self, batch: &[NewDesignation]) -> StoreResult<Vec<Inserted>>;
    /// The designations recorded with a `seq` above `after_seq` (all of them: `0`), sorted
    /// by `(at, seq)`. Designations take their `seq` in the order they commit (the sequence
    /// is reserved in their transaction), so a server that has seen every one up to a seq
    /// misses none by asking for those after it: that is how servers learn each other's.
    async fn designations_after(&self, after_seq: i64) -> StoreResult<Vec<Event<AreaRisk>>>;
    /// Designations whose persons have not been re-evaluated yet (e.g. after a crash).
    async fn unapplied_designations(&self) -> StoreResult<Vec<Event<AreaRisk>>>;
    async fn mark_designations_applied(&self, seqs: &[i64]) -> StoreResult<()>;
    /// The persons with a stay whose area's normal form starts with `area_prefix` and that
    /// ended after `ended_after` (or has not ended), in id order.
    async fn persons_with_stays_under(&self, area_prefix: &str, ended_after: Timestamp) -> StoreResult<Vec<PersonId>>;
    async fn record_rejections(&self, batch: &[NewRejection]) -> StoreResult<()>;
    /// Rejections with id greater than `after`, oldest first; only `owner`'s if given.
    async fn rejections(&self, after: i64, limit: usize, owner: Option<&str>) -> StoreResult<Vec<Rejection>>;
}
