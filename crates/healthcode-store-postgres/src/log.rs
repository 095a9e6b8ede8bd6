//! The transparency log's rows, as the SQLite backend keeps them.

use async_trait::async_trait;
use healthcode_domain::{PersonId, Timestamp};
use healthcode_store::{LogAppend, LogNode, LogStore, StoreError, StoreResult, StoredCheckpoint};
use tokio_postgres::Transaction;

use crate::{backend, corrupt, PostgresStore};

/// Appends inside the caller's transaction, after checking (and locking) the log's size.
pub(crate) async fn append(tx: &Transaction<'_>, log: &LogAppend) -> StoreResult<()> {
    let (Some(first), Some(new_size)) = (log.leaves.first(), log.new_size()) else { return Ok(()) };
    let moved = tx
        .execute(
            "UPDATE log_state SET size = $1 WHERE id = 1 AND size = $2",
            &[&(new_size as i64), &(first.index as i64)],
        )
        .await
        .map_err(backend("move the log's size"))?;
    if moved != 1 {
        let found: i64 = tx
            .query_one("SELECT size FROM log_state WHERE id = 1", &[])
            .await
            .map_err(backend("read the log's size"))?
            .get(0);
        return Err(StoreError::LogConflict { expected: first.index, found: found as u64 });
    }
    if log.leaves.len() >= COPY_FROM_LEAVES {
        copy_leaves(tx, log).await?;
    } else {
        let indices: Vec<i64> = log.leaves.iter().map(|l| l.index as i64).collect();
        let data: Vec<&[u8]> = log.leaves.iter().map(|l| l.data.as_slice()).collect();
        tx.execute(
            "INSERT INTO log_leaves (idx, data) SELECT * FROM UNNEST($1::bigint[], $2::bytea[])",
            &[&indices, &data],
        )
        .await
        .map_err(backend("append log leaves"))?;
        let (owners, owned): (Vec<&str>, Vec<i64>) =
            log.leaves.iter().filter_map(|l| l.person.as_ref().map(|p| (p.as_str(), l.index as i64))).unzip();
        tx.execute(
            "INSERT INTO person_log (person_id, idx) SELECT * FROM UNNEST($1::text[], $2::bigint[])",
            &[&owners, &owned],
        )
        .await
        .map_err(backend("index log leaves"))?;
    }
    // A leaf's own node (level 0) is its hash, which `log_node_rows` derives from the leaf
    // stored just above: one row fewer per leaf (BENCHMARKS.md, issue 16).
    let nodes: Vec<&LogNode> = log.nodes.iter().filter(|n| n.level > 0).collect();
    let levels: Vec<i16> = nodes.iter().map(|n| i16::from(n.level)).collect();
    let node_indices: Vec<i64> = nodes.iter().map(|n| n.index as i64).collect();
    let hashes: Vec<&[u8]> = nodes.iter().map(|n| &n.hash[..]).collect();
    tx.execute(
        "INSERT INTO log_nodes (level, idx, hash) SELECT * FROM UNNEST($1::smallint[], $2::bigint[], $3::bytea[])
         ON CONFLICT (level, idx) DO UPDATE SET hash = excluded.hash",
        &[&levels, &node_indices, &hashes],
    )
    .await
    .map_err(backend("store log nodes"))?;
    if let Some(c) = &log.checkpoint {
        tx.execute(
            "INSERT INTO checkpoints (size, note, signed_at) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING",
            &[&(c.size as i64), &c.note, &c.signed_at.as_millis()],
        )
        .await
        .map_err(backend("save a checkpoint"))?;
    }
    for d in &log.documents {
        // A claim's insert waits for a concurrent one on the same key and then does
        // nothing: of two racing transactions, exactly one writes.
        let sql = if d.claim {
            "INSERT INTO documents (kind, id, at, body) VALUES ($1, $2, $3, $4) ON CONFLICT (kind, id) DO NOTHING"
        } else {
            "INSERT INTO documents (kind, id, at, body) VALUES ($1, $2, $3, $4)
             ON CONFLICT (kind, id) DO UPDATE SET at = excluded.at, body = excluded.body"
        };
        let written = tx
            .execute(sql, &[&d.kind, &d.id, &d.at.as_millis(), &d.body])
            .await
            .map_err(backend("save a document with a log append"))?;
        if written == 0 {
            // The transaction is dropped uncommitted: nothing of the append stays.
            return Err(StoreError::DocumentExists { kind: d.kind.clone(), id: d.id.clone() });
        }
    }
    Ok(())
}

/// From this many leaves (a bulk re-evaluation's chunk), leaves and their persons' index go
/// in by binary COPY, about twice the rate of `INSERT … SELECT FROM UNNEST` (CEILINGS.md).
/// Both are plain inserts into rows no one else writes (the log's size row, checked and
/// moved above, orders the appenders).
const COPY_FROM_LEAVES: usize = 1_000;

async fn copy_leaves(tx: &Transaction<'_>, log: &LogAppend) -> StoreResult<()> {
    use tokio_postgres::binary_copy::BinaryCopyInWriter;
    use tokio_postgres::types::{ToSql, Type};
    let copy = |what: &'static str| backend(what);
    let sink = tx
        .copy_in("COPY log_leaves (idx, data) FROM STDIN (FORMAT binary)")
        .await
        .map_err(copy("append log leaves"))?;
    let writer = BinaryCopyInWriter::new(sink, &[Type::INT8, Type::BYTEA]);
    tokio::pin!(writer);
    for leaf in &log.leaves {
        let row: [&(dyn ToSql + Sync); 2] = [&(leaf.index as i64), &leaf.data.as_slice()];
        writer.as_mut().write(&row).await.map_err(copy("append log leaves"))?;
    }
    writer.finish().await.map_err(copy("append log leaves"))?;
    let sink = tx
        .copy_in("COPY person_log (person_id, idx) FROM STDIN (FORMAT binary)")
        .await
        .map_err(copy("index log leaves"))?;
    let writer = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::INT8]);
    tokio::pin!(writer);
    for leaf in &log.leaves {
        if let Some(person) = &leaf.person {
            let row: [&(dyn ToSql + Sync); 2] = [&person.as_str(), &(leaf.index as i64)];
            writer.as_mut().write(&row).await.map_err(copy("index log leaves"))?;
        }
    }
    writer.finish().await.map_err(copy("index log leaves"))?;
    Ok(())
}

impl PostgresStore {
    pub(crate) async fn append_log_alone(&self, log: &LogAppend) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend("begin a log append"))?;
        append(&tx, log).await?;
        tx.commit().await.map_err(backend("commit a log append"))
    }

    pub(crate) async fn log_size_row(&self) -> StoreResult<u64> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT size FROM log_state WHERE id = 1", &[])
            .await
            .map_err(backend("read the log's size"))?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    pub(crate) async fn log_node_rows(&self, ids: &[(u8, u64)]) -> StoreResult<Vec<LogNode>> {
        let client = self.client().await?;
        let levels: Vec<i16> = ids.iter().map(|&(l, _)| i16::from(l)).collect();
        let indices: Vec<i64> = ids.iter().map(|&(_, i)| i as i64).collect();
        // Level 0 from the leaf (RFC 6962: SHA-256 of 0x00 and the leaf's data) unless an
        // older append stored it as a node; leaves are never rewritten.
        let rows = client
            .query(
                "SELECT w.level, w.idx, coalesce(n.hash, sha256('\\x00'::bytea || l.data))
                 FROM UNNEST($1::smallint[], $2::bigint[]) WITH ORDINALITY AS w(level, idx, asked)
                 LEFT JOIN log_nodes n ON n.level = w.level AND n.idx = w.idx
                 LEFT JOIN log_leaves l ON w.level = 0 AND l.idx = w.idx
                 WHERE n.hash IS NOT NULL OR l.data IS NOT NULL
                 ORDER BY w.asked",
                &[&levels, &indices],
            )
            .await
            .map_err(backend("read log nodes"))?;
        rows.iter()
            .map(|r| {
                let hash: &[u8] = r.get(2);
                Ok(LogNode {
                    level: r.get::<_, i16>(0) as u8,
                    index: r.get::<_, i64>(1) as u64,
                    hash: hash.try_into().map_err(|_| corrupt("log node", "a hash is not 32 bytes"))?,
                })
            })
            .collect()
    }

    pub(crate) async fn log_leaf_rows(&self, from: u64, limit: usize) -> StoreResult<Vec<(u64, Vec<u8>)>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT idx, data FROM log_leaves WHERE idx >= $1 ORDER BY idx LIMIT $2",
                &[&(from as i64), &(limit as i64)],
            )
            .await
            .map_err(backend("read log leaves"))?;
        Ok(rows.iter().map(|r| (r.get::<_, i64>(0) as u64, r.get::<_, Vec<u8>>(1))).collect())
    }

    pub(crate) async fn log_index_rows(&self, person: &PersonId) -> StoreResult<Vec<u64>> {
        let client = self.client().await?;
        let rows = client
            .query("SELECT idx FROM person_log WHERE person_id = $1 ORDER BY idx", &[&person.as_str()])
            .await
            .map_err(backend("read a person's log entries"))?;
        Ok(rows.iter().map(|r| r.get::<_, i64>(0) as u64).collect())
    }

    pub(crate) async fn save_checkpoint_row(&self, c: &StoredCheckpoint) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO checkpoints (size, note, signed_at) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING",
                &[&(c.size as i64), &c.note, &c.signed_at.as_millis()],
            )
            .await
            .map_err(backend("save a checkpoint"))?;
        Ok(())
    }

    pub(crate) async fn checkpoint_rows(
        &self,
        condition: &str,
        after_size: u64,
        limit: usize,
    ) -> StoreResult<Vec<StoredCheckpoint>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!("SELECT size, note, signed_at FROM checkpoints WHERE {condition} LIMIT $2"),
                &[&(after_size as i64), &(limit as i64)],
            )
            .await
            .map_err(backend("read checkpoints"))?;
        Ok(rows
            .iter()
            .map(|r| StoredCheckpoint {
                size: r.get::<_, i64>(0) as u64,
                note: r.get(1),
                signed_at: Timestamp::from_millis(r.get(2)),
            })
            .collect())
    }
}

#[async_trait]
impl LogStore for PostgresStore {
    async fn append_log(&self, append: &LogAppend) -> StoreResult<()> {
        self.append_log_alone(append).await
    }

    async fn log_size(&self) -> StoreResult<u64> {
        self.log_size_row().await
    }

    async fn log_nodes(&self, ids: &[(u8, u64)]) -> StoreResult<Vec<LogNode>> {
        self.log_node_rows(ids).await
    }

    async fn log_leaves(&self, from: u64, limit: usize) -> StoreResult<Vec<(u64, Vec<u8>)>> {
        self.log_leaf_rows(from, limit).await
    }

    async fn log_indices_of(&self, person: &PersonId) -> StoreResult<Vec<u64>> {
        self.log_index_rows(person).await
    }

    async fn save_checkpoint(&self, checkpoint: &StoredCheckpoint) -> StoreResult<()> {
        self.save_checkpoint_row(checkpoint).await
    }

    async fn checkpoints(&self, after_size: u64, limit: usize) -> StoreResult<Vec<StoredCheckpoint>> {
        self.checkpoint_rows("size > $1 ORDER BY size", after_size, limit).await
    }

    async fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>> {
        Ok(self.checkpoint_rows("size >= $1 ORDER BY size DESC", 0, 1).await?.pop())
    }
}
