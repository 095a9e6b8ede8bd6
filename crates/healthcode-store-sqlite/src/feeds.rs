//! Bulk feeds: a chunk, its rejections and the batch's mark in one transaction.

use async_trait::async_trait;
use healthcode_domain::Timestamp;
use healthcode_store::{
    FeedBatch, FeedChunk, FeedCommit, FeedCounts, FeedRejectedRow, FeedRejection, FeedStore, Inserted, NewEvidence,
    StoreError, StoreResult,
};
use rusqlite::{Connection, OptionalExtension, Transaction};

use crate::evidence::{insert_evidence_in, register_person_in};
use crate::{backend, SqliteStore};

pub(crate) fn commit_chunk(conn: &mut Connection, chunk: &FeedChunk) -> Result<FeedCommit, StoreError> {
    let tx = conn.transaction().map_err(backend("begin a feed chunk"))?;
    let mark: Option<i64> = tx
        .query_row(
            "SELECT committed_through FROM feed_batches WHERE owner = ?1 AND batch = ?2",
            (&chunk.owner, &chunk.batch),
            |r| r.get(0),
        )
        .optional()
        .map_err(backend("read a feed batch"))?;
    let mark = mark.unwrap_or(0) as u64;
    if mark != chunk.after {
        return Ok(FeedCommit::Moved { committed_through: mark });
    }

    for person in &chunk.persons {
        register_person_in(&tx, person)?;
    }
    let evidence: Vec<&NewEvidence> = chunk.rows.iter().map(|r| &r.evidence).collect();
    let outcomes = insert_evidence_in(&tx, &evidence)?;

    {
        let mut log = tx
            .prepare_cached(
                "INSERT INTO rejections (received_at, origin, input, field, reason, owner)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(backend("prepare recording rejections"))?;
        let mut listed = tx
            .prepare_cached(
                "INSERT INTO feed_rejections (owner, batch, line, event_id, field, reason, rejection_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (owner, batch, line) DO NOTHING",
            )
            .map_err(backend("prepare listing rejections"))?;
        for FeedRejection { line, event_id, field, reason, input } in chunk.rejections(&outcomes) {
            let origin = format!("{} line {line}", chunk.origin);
            log.execute((chunk.received_at.as_millis(), &origin, &input, &field, &reason, &chunk.owner))
                .map_err(backend("record a rejection"))?;
            let rejection_id = tx.last_insert_rowid();
            listed
                .execute((&chunk.owner, &chunk.batch, line as i64, &event_id, &field, &reason, rejection_id))
                .map_err(backend("list a rejected row"))?;
        }
    }

    resolve_rejections(&tx, chunk, &outcomes)?;

    let counts = FeedCounts::of(chunk, &outcomes);
    let now = chunk.received_at.as_millis();
    tx.prepare_cached(
        "INSERT INTO feed_batches (owner, batch, format, committed_through, rows, accepted, duplicates, rejected,
                                   complete, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
         ON CONFLICT (owner, batch) DO UPDATE SET committed_through = excluded.committed_through,
           rows = rows + excluded.rows, accepted = accepted + excluded.accepted,
           duplicates = duplicates + excluded.duplicates, rejected = rejected + excluded.rejected,
           complete = excluded.complete, updated_at = excluded.updated_at",
    )
    .and_then(|mut s| {
        s.execute(rusqlite::params![
            &chunk.owner,
            &chunk.batch,
            &chunk.format,
            chunk.through as i64,
            counts.rows as i64,
            counts.accepted as i64,
            counts.duplicates as i64,
            counts.rejected as i64,
            chunk.complete,
            now
        ])
    })
    .map_err(backend("move a feed batch's mark"))?;
    tx.commit().map_err(backend("commit a feed chunk"))?;
    Ok(FeedCommit::Committed(outcomes))
}

/// Marks the owner's open rejections whose event id this chunk accepted as resolved.
/// Most chunks of a bulk load have none open: one probe of the partial index says so.
fn resolve_rejections(tx: &Transaction<'_>, chunk: &FeedChunk, outcomes: &[Inserted]) -> Result<(), StoreError> {
    let open: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM feed_rejections WHERE owner = ?1 AND resolved_by IS NULL)")
        .and_then(|mut s| s.query_row([&chunk.owner], |r| r.get(0)))
        .map_err(backend("look for open rejections"))?;
    if !open {
        return Ok(());
    }
    let mut resolve = tx
        .prepare_cached(
            "UPDATE feed_rejections SET resolved_by = ?1
             WHERE owner = ?2 AND event_id = ?3 AND resolved_by IS NULL",
        )
        .map_err(backend("prepare resolving rejections"))?;
    for (row, outcome) in chunk.rows.iter().zip(outcomes) {
        if matches!(outcome, Inserted::New { .. }) {
            let by = format!("{} line {}", chunk.batch, row.line);
            resolve.execute((&by, &chunk.owner, row.evidence.id.as_str())).map_err(backend("resolve a rejection"))?;
        }
    }
    Ok(())
}

pub(crate) fn batch(conn: &Connection, owner: &str, batch: &str) -> Result<Option<FeedBatch>, StoreError> {
    let resolved: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM feed_rejections WHERE owner = ?1 AND batch = ?2 AND resolved_by IS NOT NULL",
        )
        .and_then(|mut s| s.query_row((owner, batch), |r| r.get(0)))
        .map_err(backend("count resolved rejections"))?;
    conn.prepare_cached(
        "SELECT owner, batch, format, committed_through, rows, accepted, duplicates, rejected, complete,
                created_at, updated_at
         FROM feed_batches WHERE owner = ?1 AND batch = ?2",
    )
    .and_then(|mut s| {
        s.query_row((owner, batch), |r| {
            Ok(FeedBatch {
                owner: r.get(0)?,
                batch: r.get(1)?,
                format: r.get(2)?,
                committed_through: r.get::<_, i64>(3)? as u64,
                rows: r.get::<_, i64>(4)? as u64,
                accepted: r.get::<_, i64>(5)? as u64,
                duplicates: r.get::<_, i64>(6)? as u64,
                rejected: r.get::<_, i64>(7)? as u64,
                resolved: resolved as u64,
                complete: r.get(8)?,
                created_at: Timestamp::from_millis(r.get(9)?),
                updated_at: Timestamp::from_millis(r.get(10)?),
            })
        })
        .optional()
    })
    .map_err(backend("read a feed batch"))
}

pub(crate) fn rejections(
    conn: &Connection,
    owner: &str,
    batch: &str,
    after_line: u64,
    limit: usize,
) -> Result<Vec<FeedRejectedRow>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT line, event_id, field, reason, rejection_id, resolved_by FROM feed_rejections
             WHERE owner = ?1 AND batch = ?2 AND line > ?3 ORDER BY line LIMIT ?4",
        )
        .map_err(backend("read a batch's rejected rows"))?;
    let rows = stmt
        .query_map((owner, batch, after_line as i64, limit as i64), |r| {
            Ok(FeedRejectedRow {
                line: r.get::<_, i64>(0)? as u64,
                id: r.get(1)?,
                field: r.get(2)?,
                error: r.get(3)?,
                rejection_id: r.get(4)?,
                resolved_by: r.get(5)?,
            })
        })
        .map_err(backend("read a batch's rejected rows"))?;
    rows.map(|r| r.map_err(backend("read a batch's rejected rows"))).collect()
}

#[async_trait]
impl FeedStore for SqliteStore {
    async fn commit_feed_chunk(&self, chunk: FeedChunk) -> StoreResult<FeedCommit> {
        self.write(move |c| crate::feeds::commit_chunk(c, &chunk)).await
    }

    async fn feed_batch(&self, owner: &str, batch: &str) -> StoreResult<Option<FeedBatch>> {
        let (owner, batch) = (owner.to_string(), batch.to_string());
        self.read(move |c| crate::feeds::batch(c, &owner, &batch)).await
    }

    async fn feed_rejections(
        &self,
        owner: &str,
        batch: &str,
        after_line: u64,
        limit: usize,
    ) -> StoreResult<Vec<FeedRejectedRow>> {
        let (owner, batch) = (owner.to_string(), batch.to_string());
        self.read(move |c| crate::feeds::rejections(c, &owner, &batch, after_line, limit)).await
    }
}
