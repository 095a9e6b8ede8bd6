//! Profiles, venues, devices and check-ins.

use async_trait::async_trait;
use healthcode_domain::{AccessOutcome, AreaCode, Colour, PersonId, Timestamp, VenueCategory};
use healthcode_store::{
    outcome_str, parse_outcome, Checkin, CheckinMethod, DeviceRecord, DoorStore, NewCheckin, StoreError, StoreResult,
    VenueRecord, VisitElsewhere,
};
use rusqlite::{Connection, OptionalExtension, Row};

use crate::{backend, corrupt, SqliteStore};

const VENUE_COLUMNS: &str = "id, name, category, area, registered_at, operator_key_hash";

fn venue(r: &Row) -> rusqlite::Result<Result<VenueRecord, StoreError>> {
    let category: String = r.get(2)?;
    let area: Option<String> = r.get(3)?;
    let (id, name, registered_at, operator_key_hash) = (r.get(0)?, r.get(1)?, r.get(4)?, r.get(5)?);
    Ok((|| {
        Ok(VenueRecord {
            id,
            name,
            category: VenueCategory::parse(&category).map_err(|e| corrupt("venue category", e))?,
            area: area.map(|a| AreaCode::parse(&a).map_err(|e| corrupt("venue area", e))).transpose()?,
            registered_at: Timestamp::from_millis(registered_at),
            operator_key_hash,
        })
    })())
}

pub(crate) fn register_venue(conn: &mut Connection, v: &VenueRecord) -> Result<(), StoreError> {
    conn.prepare_cached(&format!("INSERT INTO venues ({VENUE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"))
        .and_then(|mut s| {
            s.execute((
                &v.id,
                &v.name,
                v.category.as_str(),
                v.area.as_ref().map(AreaCode::as_str),
                v.registered_at.as_millis(),
                &v.operator_key_hash,
            ))
        })
        .map_err(backend("register a venue"))?;
    Ok(())
}

pub(crate) fn venue_where(
    conn: &Connection,
    condition: &str,
    value: &str,
    limit: usize,
) -> Result<Vec<VenueRecord>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {VENUE_COLUMNS} FROM venues WHERE {condition} ORDER BY registered_at DESC, id LIMIT ?2"
        ))
        .map_err(backend("read venues"))?;
    let rows = stmt.query_map((value, limit as i64), venue).map_err(backend("read venues"))?;
    rows.map(|r| r.map_err(backend("read venues"))?).collect()
}

pub(crate) fn register_device(conn: &mut Connection, d: &DeviceRecord) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO devices (id, venue_id, label, key_hash, registered_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| s.execute((&d.id, &d.venue, &d.label, &d.key_hash, d.registered_at.as_millis())))
    .map_err(backend("register a device"))?;
    Ok(())
}

const DEVICE_COLUMNS: &str = "id, venue_id, label, key_hash, registered_at, approved_by, approved_at";

fn device(r: &rusqlite::Row) -> rusqlite::Result<DeviceRecord> {
    Ok(DeviceRecord {
        id: r.get(0)?,
        venue: r.get(1)?,
        label: r.get(2)?,
        key_hash: r.get(3)?,
        registered_at: Timestamp::from_millis(r.get(4)?),
        approved_by: r.get(5)?,
        approved_at: r.get::<_, Option<i64>>(6)?.map(Timestamp::from_millis),
    })
}

/// The device matching `condition` (one parameter, `?1`).
pub(crate) fn device_where(
    conn: &Connection,
    condition: &str,
    value: &str,
) -> Result<Option<DeviceRecord>, StoreError> {
    conn.prepare_cached(&format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE {condition}"))
        .and_then(|mut s| s.query_row([value], device).optional())
        .map_err(backend("find a device"))
}

pub(crate) fn devices(conn: &Connection, limit: usize) -> Result<Vec<DeviceRecord>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {DEVICE_COLUMNS} FROM devices ORDER BY registered_at DESC, id LIMIT ?1"))
        .map_err(backend("read devices"))?;
    let rows = stmt.query_map([limit as i64], device).map_err(backend("read devices"))?;
    rows.map(|r| r.map_err(backend("read devices"))).collect()
}

pub(crate) fn approve_device(conn: &mut Connection, id: &str, by: &str, at: Timestamp) -> Result<bool, StoreError> {
    let changed = conn
        .execute(
            "UPDATE devices SET approved_by = ?2, approved_at = ?3 WHERE id = ?1 AND approved_by IS NULL",
            (id, by, at.as_millis()),
        )
        .map_err(backend("approve a device"))?;
    Ok(changed == 1)
}

pub(crate) fn record_checkins(conn: &mut Connection, batch: &[NewCheckin]) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    let tx = conn.transaction().map_err(backend("begin recording check-ins"))?;
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO checkins (venue_id, at, person_id, method, device_id, colour, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(backend("prepare recording check-ins"))?;
        for c in batch {
            insert
                .execute((
                    &c.venue,
                    c.at.as_millis(),
                    c.person.as_str(),
                    c.method.as_str(),
                    &c.device,
                    c.colour.as_str(),
                    outcome_str(c.outcome),
                ))
                .map_err(backend("record a check-in"))?;
        }
    }
    tx.commit().map_err(backend("commit check-ins"))
}

pub(crate) fn checkins_at_venue(
    conn: &Connection,
    venue: &str,
    from: Timestamp,
    to: Timestamp,
    limit: usize,
) -> Result<Vec<Checkin>, StoreError> {
    checkins_where(conn, "venue_id", venue, from, to, limit)
}

pub(crate) fn checkins_of_person(
    conn: &Connection,
    person: &str,
    from: Timestamp,
    to: Timestamp,
    limit: usize,
) -> Result<Vec<Checkin>, StoreError> {
    checkins_where(conn, "person_id", person, from, to, limit)
}

pub(crate) fn record_visits_elsewhere(conn: &mut Connection, visits: &[VisitElsewhere]) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(backend("begin recording visits elsewhere"))?;
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO visits_elsewhere (region, venue_id, at, person_id, colour, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(backend("prepare recording visits elsewhere"))?;
        for v in visits {
            insert
                .execute((
                    &v.region,
                    &v.venue,
                    v.at.as_millis(),
                    v.person.as_str(),
                    v.colour.as_str(),
                    outcome_str(v.outcome),
                ))
                .map_err(backend("record a visit elsewhere"))?;
        }
    }
    tx.commit().map_err(backend("commit visits elsewhere"))
}

pub(crate) fn visits_elsewhere_at(
    conn: &Connection,
    region: &str,
    venue: &str,
    from: Timestamp,
    to: Timestamp,
    limit: usize,
) -> Result<Vec<VisitElsewhere>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT region, venue_id, at, person_id, colour, outcome FROM visits_elsewhere
             WHERE region = ?1 AND venue_id = ?2 AND at >= ?3 AND at < ?4 ORDER BY at, id LIMIT ?5",
        )
        .map_err(backend("read visits elsewhere"))?;
    let rows = stmt
        .query_map((region, venue, from.as_millis(), to.as_millis(), limit as i64), |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })
        .map_err(backend("read visits elsewhere"))?;
    rows.map(|row| {
        let (region, venue, at, person, colour, outcome) = row.map_err(backend("read visits elsewhere"))?;
        VisitElsewhere::from_columns(region, venue, at, &person, &colour, &outcome)
    })
    .collect()
}

/// Check-ins by venue or by person (`column`), each served by its index.
fn checkins_where(
    conn: &Connection,
    column: &str,
    venue: &str,
    from: Timestamp,
    to: Timestamp,
    limit: usize,
) -> Result<Vec<Checkin>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT id, venue_id, at, person_id, method, device_id, colour, outcome FROM checkins
             WHERE {column} = ?1 AND at >= ?2 AND at < ?3 ORDER BY at, id LIMIT ?4"
        ))
        .map_err(backend("read check-ins"))?;
    let rows = stmt
        .query_map((venue, from.as_millis(), to.as_millis(), limit as i64), |r| {
            let texts: (String, String, String, String) = (r.get(3)?, r.get(4)?, r.get(6)?, r.get(7)?);
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(5)?,
                texts,
            ))
        })
        .map_err(backend("read check-ins"))?;
    rows.map(|row| {
        let (id, venue, at, device, (person, method, colour, outcome)) = row.map_err(backend("read check-ins"))?;
        checkin(id, venue, at, device, &person, &method, &colour, &outcome)
    })
    .collect()
}

/// A check-in from its stored columns.
#[allow(clippy::too_many_arguments)]
pub fn checkin(
    id: i64,
    venue: String,
    at: i64,
    device: Option<String>,
    person: &str,
    method: &str,
    colour: &str,
    outcome: &str,
) -> Result<Checkin, StoreError> {
    Ok(Checkin {
        id,
        checkin: NewCheckin {
            person: PersonId::parse(person).map_err(|e| corrupt("check-in person", e))?,
            venue,
            at: Timestamp::from_millis(at),
            method: CheckinMethod::parse(method).ok_or_else(|| corrupt("check-in method", method))?,
            device,
            colour: Colour::parse(colour).ok_or_else(|| corrupt("check-in colour", colour))?,
            outcome: parse_outcome(outcome).ok_or_else(|| corrupt("check-in outcome", outcome))?,
        },
    })
}

pub(crate) fn checkin_counts(
    conn: &Connection,
    venue: &str,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<(AccessOutcome, u64)>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT outcome, count(*) FROM checkins WHERE venue_id = ?1 AND at >= ?2 AND at < ?3
             GROUP BY outcome ORDER BY outcome",
        )
        .map_err(backend("count check-ins"))?;
    let rows = stmt
        .query_map((venue, from.as_millis(), to.as_millis()), |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .map_err(backend("count check-ins"))?;
    rows.map(|r| {
        let (outcome, n) = r.map_err(backend("count check-ins"))?;
        Ok((parse_outcome(&outcome).ok_or_else(|| corrupt("check-in outcome", &outcome))?, n as u64))
    })
    .collect()
}

#[async_trait]
impl DoorStore for SqliteStore {
    async fn register_venue(&self, venue: &VenueRecord) -> StoreResult<()> {
        let venue = venue.clone();
        self.write(move |c| crate::doors::register_venue(c, &venue)).await
    }

    async fn venue(&self, id: &str) -> StoreResult<Option<VenueRecord>> {
        let id = id.to_string();
        self.read(move |c| Ok(crate::doors::venue_where(c, "id = ?1", &id, 1)?.pop())).await
    }

    async fn venue_by_operator_key(&self, key_hash: &str) -> StoreResult<Option<VenueRecord>> {
        let key_hash = key_hash.to_string();
        self.read(move |c| Ok(crate::doors::venue_where(c, "operator_key_hash = ?1", &key_hash, 1)?.pop())).await
    }

    async fn venues(&self, limit: usize) -> StoreResult<Vec<VenueRecord>> {
        self.read(move |c| crate::doors::venue_where(c, "?1 = ?1", "", limit)).await
    }

    async fn register_device(&self, device: &DeviceRecord) -> StoreResult<()> {
        let device = device.clone();
        self.write(move |c| crate::doors::register_device(c, &device)).await
    }

    async fn device_by_key(&self, key_hash: &str) -> StoreResult<Option<DeviceRecord>> {
        let key_hash = key_hash.to_string();
        self.read(move |c| crate::doors::device_where(c, "key_hash = ?1", &key_hash)).await
    }

    async fn device(&self, id: &str) -> StoreResult<Option<DeviceRecord>> {
        let id = id.to_string();
        self.read(move |c| crate::doors::device_where(c, "id = ?1", &id)).await
    }

    async fn devices(&self, limit: usize) -> StoreResult<Vec<DeviceRecord>> {
        self.read(move |c| crate::doors::devices(c, limit)).await
    }

    async fn approve_device(&self, id: &str, by: &str, at: Timestamp) -> StoreResult<bool> {
        let (id, by) = (id.to_string(), by.to_string());
        self.write(move |c| crate::doors::approve_device(c, &id, &by, at)).await
    }

    async fn record_checkins(&self, batch: &[NewCheckin]) -> StoreResult<()> {
        let batch = batch.to_vec();
        self.write(move |c| crate::doors::record_checkins(c, &batch)).await
    }

    async fn checkins_at_venue(
        &self,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<Checkin>> {
        let venue = venue.to_string();
        self.read(move |c| crate::doors::checkins_at_venue(c, &venue, from, to, limit)).await
    }

    async fn checkins_of_person(
        &self,
        person: &PersonId,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<Checkin>> {
        let person = person.to_string();
        self.read(move |c| crate::doors::checkins_of_person(c, &person, from, to, limit)).await
    }

    async fn checkin_counts(
        &self,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<(AccessOutcome, u64)>> {
        let venue = venue.to_string();
        self.read(move |c| crate::doors::checkin_counts(c, &venue, from, to)).await
    }

    async fn delete_checkins_before(&self, before: Timestamp) -> StoreResult<u64> {
        self.write(move |c| {
            let mut deleted = 0;
            for table in ["checkins", "visits_elsewhere"] {
                deleted += c
                    .execute(&format!("DELETE FROM {table} WHERE at < ?1"), [before.as_millis()])
                    .map_err(crate::backend("delete old check-ins"))? as u64;
            }
            Ok(deleted)
        })
        .await
    }

    async fn record_visits_elsewhere(&self, visits: &[VisitElsewhere]) -> StoreResult<()> {
        if visits.is_empty() {
            return Ok(());
        }
        let visits = visits.to_vec();
        self.write(move |c| crate::doors::record_visits_elsewhere(c, &visits)).await
    }

    async fn visits_elsewhere_at(
        &self,
        region: &str,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<VisitElsewhere>> {
        let (region, venue) = (region.to_string(), venue.to_string());
        self.read(move |c| crate::doors::visits_elsewhere_at(c, &region, &venue, from, to, limit)).await
    }
}
