//! The transparency log's rows.

use async_trait::async_trait;
use healthcode_domain::{PersonId, Timestamp};
use healthcode_store::{LogAppend, LogNode, LogStore, StoreError, StoreResult, StoredCheckpoint};
use rusqlite::{Connection, OptionalExtension, Transaction};

use crate::{backend, corrupt, SqliteStore};

/// Appends inside the caller's transaction, after checking that the log is still as long
/// as the first leaf's index.
pub(crate) fn append(tx: &Transaction, log: &LogAppend) -> Result<(), StoreError> {
    let (Some(first), Some(new_size)) = (log.leaves.first(), log.new_size()) else { return Ok(()) };
    let moved = tx
        .execute("UPDATE log_state SET size = ?1 WHERE id = 1 AND size = ?2", (new_size as i64, first.index as i64))
        .map_err(backend("move the log's size"))?;
    if moved != 1 {
        let found: i64 = tx
            .query_row("SELECT size FROM log_state WHERE id = 1", [], |r| r.get(0))
            .map_err(backend("read the log's size"))?;
        return Err(StoreError::LogConflict { expected: first.index, found: found as u64 });
    }
    let mut leaf = tx
        .prepare_cached("INSERT INTO log_leaves (idx, data) VALUES (?1, ?2)")
        .map_err(backend("prepare log leaves"))?;
    let mut mine = tx
        .prepare_cached("INSERT INTO person_log (person_id, idx) VALUES (?1, ?2)")
        .map_err(backend("prepare the person index of the log"))?;
    for l in &log.leaves {
        leaf.execute((l.index as i64, &l.data)).map_err(backend("append a log leaf"))?;
        if let Some(person) = &l.person {
            mine.execute((person.as_str(), l.index as i64)).map_err(backend("index a log leaf"))?;
        }
    }
    let mut node = tx
        .prepare_cached("INSERT OR REPLACE INTO log_nodes (level, idx, hash) VALUES (?1, ?2, ?3)")
        .map_err(backend("prepare log nodes"))?;
    for n in &log.nodes {
        node.execute((n.level, n.index as i64, &n.hash[..])).map_err(backend("store a log node"))?;
    }
    if let Some(checkpoint) = &log.checkpoint {
        save_checkpoint_in(tx, checkpoint)?;
    }
    for d in &log.documents {
        let sql = if d.claim {
            "INSERT OR IGNORE INTO documents (kind, id, at, body) VALUES (?1, ?2, ?3, ?4)"
        } else {
            "INSERT OR REPLACE INTO documents (kind, id, at, body) VALUES (?1, ?2, ?3, ?4)"
        };
        let written = tx
            .execute(sql, (&d.kind, &d.id, d.at.as_millis(), &d.body))
            .map_err(backend("save a document with a log append"))?;
        if written == 0 {
            // The caller's transaction is dropped uncommitted: nothing of the append stays.
            return Err(StoreError::DocumentExists { kind: d.kind.clone(), id: d.id.clone() });
        }
    }
    Ok(())
}

pub(crate) fn append_alone(conn: &mut Connection, log: &LogAppend) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(backend("begin a log append"))?;
    append(&tx, log)?;
    tx.commit().map_err(backend("commit a log append"))
}

pub(crate) fn size(conn: &Connection) -> Result<u64, StoreError> {
    let size: i64 = conn
        .query_row("SELECT size FROM log_state WHERE id = 1", [], |r| r.get(0))
        .map_err(backend("read the log's size"))?;
    Ok(size as u64)
}

pub(crate) fn nodes(conn: &Connection, ids: &[(u8, u64)]) -> Result<Vec<LogNode>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT hash FROM log_nodes WHERE level = ?1 AND idx = ?2")
        .map_err(backend("read log nodes"))?;
    let mut out = Vec::with_capacity(ids.len());
    for &(level, index) in ids {
        let hash: Option<Vec<u8>> =
            stmt.query_row((level, index as i64), |r| r.get(0)).optional().map_err(backend("read a log node"))?;
        if let Some(hash) = hash {
            let hash: [u8; 32] = hash.try_into().map_err(|_| corrupt("log node", "a hash is not 32 bytes"))?;
            out.push(LogNode { level, index, hash });
        }
    }
    Ok(out)
}

pub(crate) fn leaves(conn: &Connection, from: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT idx, data FROM log_leaves WHERE idx >= ?1 ORDER BY idx LIMIT ?2")
        .map_err(backend("read log leaves"))?;
    let rows = stmt
        .query_map((from as i64, limit as i64), |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Vec<u8>>(1)?)))
        .map_err(backend("read log leaves"))?;
    rows.map(|r| r.map_err(backend("read log leaves"))).collect()
}

pub(crate) fn indices_of(conn: &Connection, person: &PersonId) -> Result<Vec<u64>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT idx FROM person_log WHERE person_id = ?1 ORDER BY idx")
        .map_err(backend("read a person's log entries"))?;
    let rows =
        stmt.query_map([person.as_str()], |r| r.get::<_, i64>(0)).map_err(backend("read a person's log entries"))?;
    rows.map(|r| r.map(|i| i as u64).map_err(backend("read a person's log entries"))).collect()
}

pub(crate) fn save_checkpoint(conn: &mut Connection, c: &StoredCheckpoint) -> Result<(), StoreError> {
    save_checkpoint_in(conn, c)
}

fn save_checkpoint_in(conn: &Connection, c: &StoredCheckpoint) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR IGNORE INTO checkpoints (size, note, signed_at) VALUES (?1, ?2, ?3)",
        (c.size as i64, &c.note, c.signed_at.as_millis()),
    )
    .map_err(backend("save a checkpoint"))?;
    Ok(())
}

pub(crate) fn checkpoints(
    conn: &Connection,
    condition: &str,
    after_size: u64,
    limit: usize,
) -> Result<Vec<StoredCheckpoint>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT size, note, signed_at FROM checkpoints WHERE {condition} LIMIT ?2"))
        .map_err(backend("read checkpoints"))?;
    let rows = stmt
        .query_map((after_size as i64, limit as i64), |r| {
            Ok(StoredCheckpoint {
                size: r.get::<_, i64>(0)? as u64,
                note: r.get(1)?,
                signed_at: Timestamp::from_millis(r.get(2)?),
            })
        })
        .map_err(backend("read checkpoints"))?;
    rows.map(|r| r.map_err(backend("read checkpoints"))).collect()
}

#[async_trait]
impl LogStore for SqliteStore {
    async fn append_log(&self, append: &LogAppend) -> StoreResult<()> {
        let append = append.clone();
        self.write(move |c| crate::log::append_alone(c, &append)).await
    }

    async fn log_size(&self) -> StoreResult<u64> {
        self.read(crate::log::size).await
    }

    async fn log_nodes(&self, ids: &[(u8, u64)]) -> StoreResult<Vec<LogNode>> {
        let ids = ids.to_vec();
        self.read(move |c| crate::log::nodes(c, &ids)).await
    }

    async fn log_leaves(&self, from: u64, limit: usize) -> StoreResult<Vec<(u64, Vec<u8>)>> {
        self.read(move |c| crate::log::leaves(c, from, limit)).await
    }

    async fn log_indices_of(&self, person: &PersonId) -> StoreResult<Vec<u64>> {
        let person = person.clone();
        self.read(move |c| crate::log::indices_of(c, &person)).await
    }

    async fn save_checkpoint(&self, checkpoint: &StoredCheckpoint) -> StoreResult<()> {
        let checkpoint = checkpoint.clone();
        self.write(move |c| crate::log::save_checkpoint(c, &checkpoint)).await
    }

    async fn checkpoints(&self, after_size: u64, limit: usize) -> StoreResult<Vec<StoredCheckpoint>> {
        self.read(move |c| crate::log::checkpoints(c, "size > ?1 ORDER BY size", after_size, limit)).await
    }

    async fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>> {
        self.read(|c| Ok(crate::log::checkpoints(c, "size >= ?1 ORDER BY size DESC", 0, 1)?.pop())).await
    }
}
