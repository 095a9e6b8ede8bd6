//! Bulk feeds: a chunk, its rejections and the batch's mark in one transaction. The
//! batch row is locked first (`FOR UPDATE`), so two uploads of one batch cannot both
//! move its mark.

use async_trait::async_trait;
use healthcode_domain::Timestamp;
use healthcode_store::{
    FeedBatch, FeedChunk, FeedCommit, FeedCounts, FeedRejectedRow, FeedRejection, FeedStore, Inserted, NewEvidence,
    StoreResult,
};

use crate::{backend, batch, PostgresStore};

pub(crate) async fn commit_chunk(store: &PostgresStore, chunk: FeedChunk) -> StoreResult<FeedCommit> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.map_err(backend("begin a feed chunk"))?;
    // A new batch's row is made first, so that there is always a row to lock: a second
    // upload's first chunk waits here for the first one's commit, then sees its mark.
    tx.execute(
        "INSERT INTO feed_batches (owner, batch, format, committed_through, rows, accepted, duplicates, rejected,
                                   complete, created_at, updated_at)
         VALUES ($1, $2, $3, 0, 0, 0, 0, 0, false, $4, $4) ON CONFLICT (owner, batch) DO NOTHING",
        &[&chunk.owner, &chunk.batch, &chunk.format, &chunk.received_at.as_millis()],
    )
    .await
    .map_err(backend("create a feed batch"))?;
    let mark = tx
        .query_opt(
            "SELECT committed_through FROM feed_batches WHERE owner = $1 AND batch = $2 FOR UPDATE",
            &[&chunk.owner, &chunk.batch],
        )
        .await
        .map_err(backend("read a feed batch"))?
        .map_or(0, |r| r.get::<_, i64>(0) as u64);
    if mark != chunk.after {
        return Ok(FeedCommit::Moved { committed_through: mark });
    }

    if !chunk.persons.is_empty() {
        // In the order of their ids, so that two servers registering the same persons at
        // once wait on each other instead of deadlocking.
        let mut persons: Vec<_> = chunk.persons.iter().collect();
        persons.sort_unstable_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        let ids: Vec<&str> = persons.iter().map(|p| p.id.as_str()).collect();
        let kinds: Vec<&str> = persons.iter().map(|p| p.kind.as_str()).collect();
        let registered: Vec<i64> = persons.iter().map(|p| p.registered_at.as_millis()).collect();
        let areas: Vec<Option<&str>> = persons.iter().map(|p| p.residence_area.as_ref().map(|a| a.as_str())).collect();
        tx.execute(
            "INSERT INTO persons (id, kind, registered_at, residence_area)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[])
             ON CONFLICT (id) DO NOTHING",
            &[&ids, &kinds, &registered, &areas],
        )
        .await
        .map_err(backend("register persons"))?;
    }
    let evidence: Vec<&NewEvidence> = chunk.rows.iter().map(|r| &r.evidence).collect();
    let outcomes = if evidence.is_empty() { Vec::new() } else { batch::insert_evidence(&tx, &evidence).await? };

    // Rejections are few: one statement each, returning the log entry's id.
    for FeedRejection { line, event_id, field, reason, input } in chunk.rejections(&outcomes) {
        let origin = format!("{} line {line}", chunk.origin);
        let id: i64 = tx
            .query_one(
                "INSERT INTO rejections (received_at, origin, input, field, reason, owner)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                &[&chunk.received_at.as_millis(), &origin, &input, &field, &reason, &chunk.owner],
            )
            .await
            .map_err(backend("record a rejection"))?
            .get(0);
        tx.execute(
            "INSERT INTO feed_rejections (owner, batch, line, event_id, field, reason, rejection_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (owner, batch, line) DO NOTHING",
            &[&chunk.owner, &chunk.batch, &(line as i64), &event_id, &field, &reason, &id],
        )
        .await
        .map_err(backend("list a rejected row"))?;
    }

    // Open rejections of this owner whose event id this chunk accepted are resolved. They
    // are few (usually none): read them and match here, rather than send every accepted
    // id to the server (a join with 50,000 ids took most of a chunk's time).
    let open: std::collections::HashSet<String> = tx
        .query(
            "SELECT event_id FROM feed_rejections WHERE owner = $1 AND resolved_by IS NULL AND event_id IS NOT NULL",
            &[&chunk.owner],
        )
        .await
        .map_err(backend("look for open rejections"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if !open.is_empty() {
        let (accepted_ids, resolved_by): (Vec<&str>, Vec<String>) = chunk
            .rows
            .iter()
            .zip(&outcomes)
            .filter(|(r, o)| matches!(o, Inserted::New { .. }) && open.contains(r.evidence.id.as_str()))
            .map(|(r, _)| (r.evidence.id.as_str(), format!("{} line {}", chunk.batch, r.line)))
            .unzip();
        tx.execute(
            "UPDATE feed_rejections f SET resolved_by = a.by
             FROM UNNEST($2::text[], $3::text[]) AS a (id, by)
             WHERE f.owner = $1 AND f.event_id = a.id AND f.resolved_by IS NULL",
            &[&chunk.owner, &accepted_ids, &resolved_by],
        )
        .await
        .map_err(backend("resolve rejections"))?;
    }

    let counts = FeedCounts::of(&chunk, &outcomes);
    let as_i64 = |n: u64| n as i64;
    tx.execute(
        "UPDATE feed_batches SET committed_through = $3, rows = rows + $4, accepted = accepted + $5,
           duplicates = duplicates + $6, rejected = rejected + $7, complete = $8, updated_at = $9
         WHERE owner = $1 AND batch = $2",
        &[
            &chunk.owner,
            &chunk.batch,
            &as_i64(chunk.through),
            &as_i64(counts.rows),
            &as_i64(counts.accepted),
            &as_i64(counts.duplicates),
            &as_i64(counts.rejected),
            &chunk.complete,
            &chunk.received_at.as_millis(),
        ],
    )
    .await
    .map_err(backend("move a feed batch's mark"))?;
    tx.commit().await.map_err(backend("commit a feed chunk"))?;
    Ok(FeedCommit::Committed(outcomes))
}

pub(crate) async fn batch(store: &PostgresStore, owner: &str, batch: &str) -> StoreResult<Option<FeedBatch>> {
    let client = store.client().await?;
    let row = client
        .query_opt(
            "SELECT owner, batch, format, committed_through, rows, accepted, duplicates, rejected, complete,
                    created_at, updated_at,
                    (SELECT count(*) FROM feed_rejections f
                     WHERE f.owner = b.owner AND f.batch = b.batch AND f.resolved_by IS NOT NULL)
             FROM feed_batches b WHERE owner = $1 AND batch = $2",
            &[&owner, &batch],
        )
        .await
        .map_err(backend("read a feed batch"))?;
    Ok(row.map(|r| FeedBatch {
        owner: r.get(0),
        batch: r.get(1),
        format: r.get(2),
        committed_through: r.get::<_, i64>(3) as u64,
        rows: r.get::<_, i64>(4) as u64,
        accepted: r.get::<_, i64>(5) as u64,
        duplicates: r.get::<_, i64>(6) as u64,
        rejected: r.get::<_, i64>(7) as u64,
        complete: r.get(8),
        created_at: Timestamp::from_millis(r.get(9)),
        updated_at: Timestamp::from_millis(r.get(10)),
        resolved: r.get::<_, i64>(11) as u64,
    }))
}

pub(crate) async fn rejections(
    store: &PostgresStore,
    owner: &str,
    batch: &str,
    after_line: u64,
    limit: usize,
) -> StoreResult<Vec<FeedRejectedRow>> {
    let client = store.client().await?;
    let rows = client
        .query(
            "SELECT line, event_id, field, reason, rejection_id, resolved_by FROM feed_rejections
             WHERE owner = $1 AND batch = $2 AND line > $3 ORDER BY line LIMIT $4",
            &[&owner, &batch, &(after_line as i64), &(limit as i64)],
        )
        .await
        .map_err(backend("read a batch's rejected rows"))?;
    Ok(rows
        .iter()
        .map(|r| FeedRejectedRow {
            line: r.get::<_, i64>(0) as u64,
            id: r.get(1),
            field: r.get(2),
            error: r.get(3),
            rejection_id: r.get(4),
            resolved_by: r.get(5),
        })
        .collect())
}

#[async_trait]
impl FeedStore for PostgresStore {
    async fn commit_feed_chunk(&self, chunk: FeedChunk) -> StoreResult<FeedCommit> {
        crate::feeds::commit_chunk(self, chunk).await
    }

    async fn feed_batch(&self, owner: &str, batch: &str) -> StoreResult<Option<FeedBatch>> {
        crate::feeds::batch(self, owner, batch).await
    }

    async fn feed_rejections(
        &self,
        owner: &str,
        batch: &str,
        after_line: u64,
        limit: usize,
    ) -> StoreResult<Vec<FeedRejectedRow>> {
        crate::feeds::rejections(self, owner, batch, after_line, limit).await
    }
}
