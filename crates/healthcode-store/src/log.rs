//! Records of the transparency log as stored: leaves (the entries' bytes), the tree's
//! node hashes at the levels the log crate stores, and signed checkpoints.

use crate::*;
use async_trait::async_trait;
use healthcode_domain::{PersonId, Timestamp};

/// One entry of the log. `person` links a colour change to its person in a private
/// index (never published) so that the person can be shown their own entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLeaf {
    pub index: u64,
    pub data: Vec<u8>,
    pub person: Option<PersonId>,
}

/// A stored node hash: the complete subtree of 2^level leaves starting at leaf
/// index·2^level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogNode {
    pub level: u8,
    pub index: u64,
    pub hash: [u8; 32],
}

/// What one append adds: leaves numbered from the log's current size on, and the node
/// hashes they complete. Stored in the same transaction as the codes it records, and only
/// if the log's size is still that of the first leaf (otherwise `StoreError::Conflict`:
/// another writer appended first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogAppend {
    pub leaves: Vec<LogLeaf>,
    /// A leaf's own node (level 0) is the RFC 6962 hash of its data: a backend may derive
    /// it from the leaf instead of storing it (PostgreSQL does: one row fewer per leaf).
    pub nodes: Vec<LogNode>,
    /// A checkpoint to store in the same transaction: the log's first append signs one,
    /// so that a log with entries and no checkpoint can only be a log whose checkpoints
    /// were deleted.
    pub checkpoint: Option<StoredCheckpoint>,
    /// Documents saved in the same transaction as the leaves (and only with leaves): the
    /// state an entry records (an approved rule proposal), or the marker that an entry
    /// was written, so that an action and its trace stand or fall together even when the
    /// process dies between two writes.
    pub documents: Vec<DocumentWrite>,
}

/// A document (`GovernanceStore::put_document`) written with a log append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentWrite {
    pub kind: String,
    pub id: String,
    pub at: Timestamp,
    pub body: String,
    /// A claim: the append fails with `DocumentExists` (and writes nothing) if the
    /// document is already stored. Two requests (or two servers) racing to log the same
    /// approval: the first claim wins, the second logs nothing. Otherwise the document
    /// replaces any stored one.
    pub claim: bool,
}

impl LogAppend {
    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// The log's size after this append, if it adds anything.
    pub fn new_size(&self) -> Option<u64> {
        self.leaves.last().map(|l| l.index + 1)
    }
}

/// A checkpoint as signed by the log: a C2SP signed note over its size and root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub note: String,
    pub signed_at: Timestamp,
}

/// The transparency log: leaves, node hashes and signed checkpoints.
#[async_trait]
pub trait LogStore: Send + Sync {
    /// Appends entries that record no code (approvals, alarms).
    async fn append_log(&self, log: &LogAppend) -> StoreResult<()>;
    async fn log_size(&self) -> StoreResult<u64>;
    /// The stored node hashes among `ids` (`(level, index)`), a leaf's (level 0) derived
    /// from the leaf where it is not stored; missing ones are left out.
    async fn log_nodes(&self, ids: &[(u8, u64)]) -> StoreResult<Vec<LogNode>>;
    /// Up to `limit` leaves from index `from` on, in order: `(index, data)`.
    async fn log_leaves(&self, from: u64, limit: usize) -> StoreResult<Vec<(u64, Vec<u8>)>>;
    /// The indices of a person's entries, in order.
    async fn log_indices_of(&self, person: &PersonId) -> StoreResult<Vec<u64>>;
    async fn save_checkpoint(&self, checkpoint: &StoredCheckpoint) -> StoreResult<()>;
    /// Checkpoints with a size above `after_size`, smallest first, at most `limit`.
    async fn checkpoints(&self, after_size: u64, limit: usize) -> StoreResult<Vec<StoredCheckpoint>>;
    async fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>>;
}
