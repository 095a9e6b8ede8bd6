use std::rc::Rc;

use healthcode_domain::{AreaCode, PersonId, PersonKind, Timestamp};
use healthcode_store::{PersonRecord, StoreError};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row};

use crate::{backend, corrupt};

pub(crate) fn register(conn: &Connection, p: &PersonRecord) -> Result<bool, StoreError> {
    let changed = conn
        .prepare_cached(
            "INSERT INTO persons (id, kind, registered_at, residence_area) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO NOTHING",
        )
        .and_then(|mut s| {
            s.execute((
                p.id.as_str(),
                p.kind.as_str(),
                p.registered_at.as_millis(),
                p.residence_area.as_ref().map(AreaCode::as_str),
            ))
        })
        .map_err(backend("register a person"))?;
    Ok(changed == 1)
}

pub(crate) fn register_many(conn: &mut Connection, batch: &[PersonRecord]) -> Result<u64, StoreError> {
    let tx = conn.transaction().map_err(backend("begin registering persons"))?;
    let mut created = 0;
    for p in batch {
        created += u64::from(register(&tx, p)?);
    }
    tx.commit().map_err(backend("commit registrations"))?;
    Ok(created)
}

pub(crate) fn one(conn: &Connection, id: &PersonId) -> Result<Option<PersonRecord>, StoreError> {
    conn.prepare_cached("SELECT id, kind, registered_at, residence_area FROM persons WHERE id = ?1")
        .and_then(|mut s| s.query_row([id.as_str()], raw).optional())
        .map_err(backend("read a person"))?
        .map(decode)
        .transpose()
}

pub(crate) fn many(conn: &Connection, ids: &[PersonId]) -> Result<Vec<PersonRecord>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT id, kind, registered_at, residence_area FROM persons WHERE id IN rarray(?1)")
        .map_err(backend("read persons"))?;
    let rows = stmt.query_map([id_array(ids)], raw).map_err(backend("read persons"))?;
    rows.map(|r| r.map_err(backend("read persons")).and_then(decode)).collect()
}

pub(crate) fn count(conn: &Connection) -> Result<u64, StoreError> {
    conn.query_row("SELECT count(*) FROM persons", [], |r| r.get::<_, i64>(0))
        .map(|n| n as u64)
        .map_err(backend("count persons"))
}

/// Ids as an SQLite array parameter (`rarray`), for `IN` over thousands of ids.
pub(crate) fn id_array(ids: &[PersonId]) -> Rc<Vec<Value>> {
    Rc::new(ids.iter().map(|id| Value::Text(id.as_str().to_string())).collect())
}

type RawPerson = (String, String, i64, Option<String>);

fn raw(r: &Row<'_>) -> rusqlite::Result<RawPerson> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn decode((id, kind, registered_at, area): RawPerson) -> Result<PersonRecord, StoreError> {
    Ok(PersonRecord {
        id: PersonId::parse(&id).map_err(|e| corrupt("person id", e))?,
        kind: PersonKind::parse(&kind).map_err(|e| corrupt("person kind", e))?,
        registered_at: Timestamp::from_millis(registered_at),
        residence_area: area.map(|a| AreaCode::parse(&a).map_err(|e| corrupt("residence area", e))).transpose()?,
    })
}
