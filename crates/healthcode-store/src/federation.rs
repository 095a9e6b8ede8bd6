//! What a region keeps to take part in the national exchange (互认): which of its persons
//! go by which national pseudonym, the records it still has to submit to the hub, and the
//! records it received about persons it does not know yet.

use async_trait::async_trait;
use healthcode_domain::{PersonId, Timestamp};

use crate::StoreResult;

/// A person of this region and their national pseudonym (a keyed hash of their document
/// that every registered region computes the same way).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NationalLink {
    pub national_id: String,
    pub person: PersonId,
}

/// A record the hub published about a person this region does not know (yet): kept until
/// the person registers, declares or converts a code here, then admitted as evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedRecord {
    pub national_id: String,
    /// The record's index in the hub's log: records are admitted in this order.
    pub hub_index: u64,
    /// The hub log entry, as published (canonical JSON).
    pub entry: String,
    /// When this region received it: parked records nobody claims are deleted after a
    /// while (`delete_parked_before`).
    pub parked_at: Timestamp,
}

/// A record waiting to be submitted to the hub, in the order it was queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedSubmission {
    pub seq: i64,
    /// One submission line (JSON) as the hub's exchange format has it.
    pub line: String,
}

#[async_trait]
pub trait FederationStore: Send + Sync {
    /// Records persons' national pseudonyms; a link already stored is left as it is.
    async fn link_national_ids(&self, links: &[NationalLink]) -> StoreResult<()>;
    /// The persons known under these national pseudonyms (unknown ones are left out).
    async fn persons_by_national_id(&self, national_ids: &[String]) -> StoreResult<Vec<NationalLink>>;
    /// The national pseudonyms of these persons (persons without one are left out).
    async fn national_ids_of(&self, persons: &[PersonId]) -> StoreResult<Vec<NationalLink>>;

    /// Queues submission lines for the hub, in order.
    async fn queue_submissions(&self, lines: &[String]) -> StoreResult<()>;
    /// Up to `limit` queued submissions, oldest first.
    async fn queued_submissions(&self, limit: usize) -> StoreResult<Vec<QueuedSubmission>>;
    /// Removes submissions the hub has acknowledged.
    async fn remove_submissions(&self, seqs: &[i64]) -> StoreResult<()>;

    /// Keeps records about persons not known here; a record already parked (same national
    /// id and hub index) is kept once.
    async fn park_records(&self, records: &[ParkedRecord]) -> StoreResult<()>;
    /// The parked records about these persons, by hub index.
    async fn parked_records(&self, national_ids: &[String]) -> StoreResult<Vec<ParkedRecord>>;
    /// Forgets parked records once they were admitted as evidence.
    async fn unpark_records(&self, national_id: &str, hub_indices: &[u64]) -> StoreResult<()>;
    /// Deletes the records parked before `before` (retention); returns how many.
    async fn delete_parked_before(&self, before: Timestamp) -> StoreResult<u64>;
}
