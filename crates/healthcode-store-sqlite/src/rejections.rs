use healthcode_domain::Timestamp;
use healthcode_store::{ColourChangeCount, NewRejection, Rejection, StoreError};
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

pub(crate) fn add_colour_changes(conn: &mut Connection, counts: &[ColourChangeCount]) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(backend("begin counting colour changes"))?;
    {
        let mut add = tx
            .prepare_cached(
                "INSERT INTO colour_change_counts (origin, area, hour, persons) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (origin, area, hour) DO UPDATE SET persons = persons + excluded.persons",
            )
            .map_err(backend("prepare counting colour changes"))?;
        for c in counts {
            add.execute((&c.origin, &c.area, c.hour, c.persons as i64)).map_err(backend("count colour changes"))?;
        }
    }
    tx.commit().map_err(backend("commit colour change counts"))
}

pub(crate) fn colour_changes(
    conn: &Connection,
    origin: &str,
    area: &str,
    from_hour: i64,
    to_hour: i64,
) -> Result<Vec<ColourChangeCount>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT hour, persons FROM colour_change_counts
             WHERE origin = ?1 AND area = ?2 AND hour >= ?3 AND hour < ?4 ORDER BY hour",
        )
        .map_err(backend("read colour change counts"))?;
    let rows = stmt
        .query_map((origin, area, from_hour, to_hour), |r| {
            Ok(ColourChangeCount {
                hour: r.get(0)?,
                origin: origin.to_string(),
                area: area.to_string(),
                persons: r.get::<_, i64>(1)? as u64,
            })
        })
        .map_err(backend("read colour change counts"))?;
    rows.map(|r| r.map_err(backend("read colour change counts"))).collect()
}

pub(crate) fn mark_colour_burst(
    conn: &mut Connection,
    origin: &str,
    area: &str,
    hour: i64,
) -> Result<bool, StoreError> {
    let marked = conn
        .execute(
            "UPDATE colour_change_counts SET alarmed = 1 WHERE origin = ?1 AND area = ?2 AND hour = ?3 AND alarmed = 0",
            (origin, area, hour),
        )
        .map_err(backend("mark a colour burst"))?;
    Ok(marked == 1)
}
