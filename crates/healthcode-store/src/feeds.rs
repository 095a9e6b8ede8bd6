//! Bulk feeds: a department's batch, uploaded (and perhaps resumed) in chunks. Each chunk
//! is committed in one transaction together with the mark that says how far the batch
//! is stored, so that a batch interrupted anywhere resumes exactly after its last stored
//! chunk: no row is lost and none is stored twice.

use crate::*;
use async_trait::async_trait;
use healthcode_domain::Timestamp;
use serde::Serialize;

use crate::{NewEvidence, PersonRecord};

/// Where a batch stands, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedBatch {
    /// The account that uploads it: batch ids are chosen by clients, so they are scoped
    /// to the account.
    pub owner: String,
    pub batch: String,
    /// `ndjson` or `csv`.
    pub format: String,
    /// Every line of the batch up to and including this one is settled (stored, a
    /// duplicate, or rejected and logged). 0: nothing yet.
    pub committed_through: u64,
    /// Rows settled (non-blank lines other than a CSV header), and how each was settled.
    pub rows: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// Rejected rows whose event id was later accepted from the same account (fixed and
    /// resubmitted).
    pub resolved: u64,
    /// The last upload reached the end of its body.
    pub complete: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One row of a chunk that passed validation: the evidence, its line, and its input as
/// it would be kept in the rejection log should the store find its id already used for
/// other content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRow {
    pub line: u64,
    pub evidence: NewEvidence,
    pub input: String,
}

/// A row refused by validation, to be kept in the rejection log and listed in the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRejection {
    pub line: u64,
    pub event_id: Option<String>,
    pub field: Option<String>,
    pub reason: String,
    /// The input as kept in the rejection log (identity numbers already masked).
    pub input: String,
}

/// A rejected row of a batch as listed in its report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedRejectedRow {
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub error: String,
    /// Its entry in the rejection log (`GET /v1/rejections`).
    pub rejection_id: i64,
    /// Where a row with the same event id was later accepted (`batch line N`), if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<String>,
}

/// One chunk of a batch, committed whole or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedChunk {
    pub owner: String,
    pub batch: String,
    pub format: String,
    pub received_at: Timestamp,
    /// Names the upload in the rejection log; each entry adds ` line N`.
    pub origin: String,
    /// The mark this chunk continues from: the store refuses the chunk (`FeedCommit::Moved`)
    /// if the batch's stored mark is another (0 for a new batch).
    pub after: u64,
    /// The mark after this chunk: its last line (blank lines included).
    pub through: u64,
    /// The upload's body ended with this chunk.
    pub complete: bool,
    /// Persons named by identity document, registered if new (evidence may arrive before
    /// the person asks for a code).
    pub persons: Vec<PersonRecord>,
    pub rows: Vec<FeedRow>,
    pub rejected: Vec<FeedRejection>,
}

/// What committing a chunk did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedCommit {
    /// Committed: one outcome per `rows` entry, in order (a conflicting duplicate was
    /// also logged as rejected).
    Committed(Vec<crate::Inserted>),
    /// Nothing was written: the batch's mark is not the chunk's `after` (another upload
    /// of the same batch moved it).
    Moved { committed_through: u64 },
}

/// The reason kept for a row whose event id is already stored with other content (the
/// same words as the single-event path).
pub fn conflicting_id_reason(id: &str) -> String {
    format!("event id `{id}` was already recorded with different content; give a new record a new id")
}

/// What a batch adds to its counters with one chunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedCounts {
    pub rows: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

impl FeedChunk {
    /// Every row of the chunk to log as rejected, in line order (so that the rejection
    /// log reads like the file): those refused by validation, and those whose id the
    /// store found already used for other content.
    pub fn rejections(&self, outcomes: &[crate::Inserted]) -> Vec<FeedRejection> {
        let conflicts = self
            .rows
            .iter()
            .zip(outcomes)
            .filter(|(_, outcome)| matches!(outcome, crate::Inserted::Duplicate { same_content: false }))
            .map(|(row, _)| {
                let id = row.evidence.id.as_str();
                FeedRejection {
                    line: row.line,
                    event_id: Some(id.to_string()),
                    field: Some("id".to_string()),
                    reason: conflicting_id_reason(id),
                    input: row.input.clone(),
                }
            });
        let mut all: Vec<FeedRejection> = self.rejected.iter().cloned().chain(conflicts).collect();
        all.sort_by_key(|r| r.line);
        all
    }
}

impl FeedCounts {
    /// The counts of a chunk from its validation rejections and the store's outcomes.
    pub fn of(chunk: &FeedChunk, outcomes: &[crate::Inserted]) -> FeedCounts {
        FeedCounts::from_outcomes(chunk.rejected.len() as u64, outcomes)
    }

    /// The same, from how many rows validation refused.
    pub fn from_outcomes(refused: u64, outcomes: &[crate::Inserted]) -> FeedCounts {
        let mut counts = FeedCounts { rejected: refused, ..FeedCounts::default() };
        for outcome in outcomes {
            match outcome {
                crate::Inserted::New { .. } => counts.accepted += 1,
                crate::Inserted::Duplicate { same_content: true } => counts.duplicates += 1,
                crate::Inserted::Duplicate { same_content: false } => counts.rejected += 1,
            }
        }
        counts.rows = counts.accepted + counts.duplicates + counts.rejected;
        counts
    }
}

/// Departments' bulk feeds, stored chunk by chunk with their marks.
#[async_trait]
pub trait FeedStore: Send + Sync {
    /// Commits one chunk of a feed batch in one transaction: registers its persons, stores
    /// its evidence (as `insert_evidence`, queue included), logs its rejected rows (and
    /// conflicting duplicates) in the rejection log and the batch's list, marks earlier
    /// rejections of the owner resolved by an accepted row with their event id, and moves
    /// the batch's mark and counters — unless the batch's mark is not `chunk.after`.
    /// Taken by value: a chunk is thousands of rows, handed to the database thread whole.
    async fn commit_feed_chunk(&self, chunk: FeedChunk) -> StoreResult<FeedCommit>;
    async fn feed_batch(&self, owner: &str, batch: &str) -> StoreResult<Option<FeedBatch>>;
    /// A batch's rejected rows with a line above `after_line`, in line order, at most `limit`.
    async fn feed_rejections(
        &self,
        owner: &str,
        batch: &str,
        after_line: u64,
        limit: usize,
    ) -> StoreResult<Vec<FeedRejectedRow>>;
}
