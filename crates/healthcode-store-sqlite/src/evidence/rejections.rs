use healthcode_domain::Timestamp;
use healthcode_store::{NewRejection, Rejection, StoreError};
use rusqlite::Connection;

use crate::backend;

pub(crate) fn record(conn: &mut Connection, batch: &[NewRejection]) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    let tx = conn.transaction().map_err(backend("begin recording rejections"))?;
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO rejections (received_at, origin, input, field, reason, owner)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(backend("prepare recording rejections"))?;
        for r in batch {
            insert
                .execute((r.received_at.as_millis(), &r.origin, &r.input, &r.field, &r.reason, &r.owner))
                .map_err(backend("record a rejection"))?;
        }
    }
    tx.commit().map_err(backend("commit rejections"))
}

pub(crate) fn list(
    conn: &Connection,
    after: i64,
    limit: usize,
    owner: Option<&str>,
) -> Result<Vec<Rejection>, StoreError> {
    // `?3 IS NULL`: everyone's; else the owner's, by its index.
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, received_at, origin, input, field, reason, owner FROM rejections
             WHERE id > ?1 AND (?3 IS NULL OR owner = ?3) ORDER BY id LIMIT ?2",
        )
        .map_err(backend("read rejections"))?;
    let rows = stmt
        .query_map((after, limit as i64, owner), |r| {
            Ok(Rejection {
                id: r.get(0)?,
                received_at: Timestamp::from_millis(r.get(1)?),
                origin: r.get(2)?,
                input: r.get(3)?,
                field: r.get(4)?,
                reason: r.get(5)?,
                owner: r.get(6)?,
            })
        })
        .map_err(backend("read rejections"))?;
    rows.map(|r| r.map_err(backend("read rejections"))).collect()
}
