//! What officials decide: management decisions awaiting or past approval, the alarms
//! raised for auditors, and records kept whole as JSON (rule and designation proposals,
//! contact traces, claim codes).

use async_trait::async_trait;
use healthcode_domain::{DecisionColour, PersonId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DecisionStatus {
    /// Waiting for its second approval.
    Proposed,
    /// Approved twice and turned into evidence about each person named.
    Applied,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Approval {
    pub by: String,
    pub at: Timestamp,
}

/// A management decision (R5/Y3): persons named, a colour, a legal basis and a term. It
/// changes nothing until two distinct provincial officers other than its proposer approve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub id: String,
    pub proposed_by: String,
    pub proposed_at: Timestamp,
    pub colour: DecisionColour,
    pub until: Timestamp,
    pub basis: String,
    pub persons: Vec<PersonId>,
    pub approvals: Vec<Approval>,
    pub status: DecisionStatus,
    /// The proposing office's jurisdiction (area-code prefix); `None`: the whole region.
    #[serde(default)]
    pub jurisdiction: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewAlarm {
    pub at: Timestamp,
    pub kind: String,
    pub jurisdiction: String,
    pub detail: String,
    /// Where the alarm is in the transparency log.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub log_index: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alarm {
    pub id: i64,
    #[serde(flatten)]
    pub alarm: NewAlarm,
}

/// What officials decide and propose: management decisions, alarms, and the records
/// kept whole as JSON (rule and designation proposals, traces, …).
#[async_trait]
pub trait GovernanceStore: Send + Sync {
    /// Creates or replaces a decision.
    async fn save_decision(&self, decision: &Decision) -> StoreResult<()>;
    /// Replaces a decision only if the stored one is still `seen` (a compare-and-set): of
    /// two approvals given at once, one is saved and the other is told to look again.
    /// False when the stored decision changed meanwhile, or is gone.
    async fn replace_decision(&self, decision: &Decision, seen: &Decision) -> StoreResult<bool>;
    async fn decision(&self, id: &str) -> StoreResult<Option<Decision>>;
    /// Up to `limit` decisions, newest first.
    async fn decisions(&self, limit: usize) -> StoreResult<Vec<Decision>>;
    async fn record_alarm(&self, alarm: &NewAlarm) -> StoreResult<i64>;
    /// Alarms with id above `after`, oldest first.
    async fn alarms(&self, after: i64, limit: usize) -> StoreResult<Vec<Alarm>>;
    /// Creates or replaces a record kept whole as JSON (e.g. `kind` = `rule_proposal`).
    async fn put_document(&self, kind: &str, id: &str, at: Timestamp, body: &str) -> StoreResult<()>;
    async fn document(&self, kind: &str, id: &str) -> StoreResult<Option<String>>;
    /// Replaces a document only if its stored body is still `seen`, as `replace_decision`;
    /// false when it changed meanwhile, or is gone.
    async fn replace_document(&self, kind: &str, id: &str, at: Timestamp, body: &str, seen: &str) -> StoreResult<bool>;
    /// Up to `limit` records of a kind, newest first.
    async fn documents(&self, kind: &str, limit: usize) -> StoreResult<Vec<String>>;
    /// Deletes documents of a kind saved before `before` (retention); returns how many.
    async fn delete_documents_before(&self, kind: &str, before: Timestamp) -> StoreResult<u64>;
}
