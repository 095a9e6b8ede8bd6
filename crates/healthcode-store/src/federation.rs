//! What a region keeps to take part in the national exchange (互认): which of its persons
//! go by which national pseudonym, the records it still has to submit to the hub, the
//! records it received about persons it does not know yet, and which key signed each
//! record of another region it uses (so that a revocation of that key can withdraw them).

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
    /// What the entry says of its signature, kept beside it so that a revocation finds the
    /// records it touches without reading every entry: the region that submitted it, the
    /// key that signed it (`None`: unsigned) and when the hub accepted it.
    pub signer: Signer,
}

/// Who vouches for a record of another region: that region, the key of its trust list that
/// signed the record (`None`: unsigned, from before the region published its keys), and
/// when the hub accepted the record — the time its signature is judged at, which the
/// signer cannot choose.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Signer {
    pub region: String,
    pub kid: Option<String>,
    pub hub_at: Timestamp,
}

/// A record of another region this region uses: evidence about one of its persons (or a
/// retraction of such), or a designation of that region's area. Kept with its signer
/// until a revocation of the key withdraws it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AdmittedRecord {
    /// The region's own id for the record (its event id here is `hc-nat-<region>-<id>`).
    pub record_id: String,
    /// `key_person`, `test_result`, `retraction` or `risk_level`.
    pub kind: String,
    /// The person it is evidence about; `None` for a risk level, which names no one.
    pub person: Option<PersonId>,
    pub hub_index: u64,
    pub signer: Signer,
}

/// The records of one region signed by one of its keys outside the times the key is
/// trusted: accepted by the hub before `from`, or at or after `until` (when the key was
/// retired, or compromised).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedOutside {
    pub region: String,
    pub kid: String,
    pub from: Timestamp,
    pub until: Option<Timestamp>,
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
    /// Up to `limit` of the parked records a key signed outside its trusted times, by hub
    /// index.
    async fn parked_signed_outside(&self, outside: &SignedOutside, limit: usize) -> StoreResult<Vec<ParkedRecord>>;

    /// Notes records of other regions this region now uses; a record already noted (same
    /// region and id) is kept as first noted.
    async fn note_admitted(&self, records: &[AdmittedRecord]) -> StoreResult<()>;
    /// Up to `limit` of the admitted records a key signed outside its trusted times, by hub
    /// index.
    async fn admitted_signed_outside(&self, outside: &SignedOutside, limit: usize) -> StoreResult<Vec<AdmittedRecord>>;
    /// Forgets admitted records of `region` once withdrawn (or found withdrawn already).
    async fn forget_admitted(&self, region: &str, record_ids: &[String]) -> StoreResult<()>;
}
