//! Profiles, venues, devices and check-ins: the same statements as the SQLite backend's,
//! one pooled connection each.

use async_trait::async_trait;
use healthcode_domain::{AccessOutcome, AreaCode, Colour, PersonId, Timestamp, VenueCategory};
use healthcode_store::{
    outcome_str, parse_outcome, Checkin, CheckinMethod, DeviceRecord, DoorStore, NewCheckin, PersonProfile,
    StoreResult, VenueRecord, VisitElsewhere,
};
use tokio_postgres::Row;

use crate::{backend, corrupt, PostgresStore};

const VENUE_COLUMNS: &str = "id, name, category, area, registered_at, operator_key_hash";
const CHECKIN_COLUMNS: &str = "id, venue_id, at, person_id, method, device_id, colour, outcome";

fn venue(r: &Row) -> StoreResult<VenueRecord> {
    Ok(VenueRecord {
        id: r.get(0),
        name: r.get(1),
        category: VenueCategory::parse(r.get(2)).map_err(|e| corrupt("venue category", e))?,
        area: r
            .get::<_, Option<&str>>(3)
            .map(|a| AreaCode::parse(a).map_err(|e| corrupt("venue area", e)))
            .transpose()?,
        registered_at: Timestamp::from_millis(r.get(4)),
        operator_key_hash: r.get(5),
    })
}

fn checkin(r: &Row) -> StoreResult<Checkin> {
    let (method, colour, outcome): (&str, &str, &str) = (r.get(4), r.get(6), r.get(7));
    Ok(Checkin {
        id: r.get(0),
        checkin: NewCheckin {
            venue: r.get(1),
            at: Timestamp::from_millis(r.get(2)),
            person: PersonId::parse(r.get(3)).map_err(|e| corrupt("check-in person", e))?,
            method: CheckinMethod::parse(method).ok_or_else(|| corrupt("check-in method", method))?,
            device: r.get(5),
            colour: Colour::parse(colour).ok_or_else(|| corrupt("check-in colour", colour))?,
            outcome: parse_outcome(outcome).ok_or_else(|| corrupt("check-in outcome", outcome))?,
        },
    })
}

impl PostgresStore {
    pub(crate) async fn save_profile_row(&self, p: &PersonProfile) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO person_profiles (person_id, code_id, masked_name) VALUES ($1, $2, $3)
                 ON CONFLICT (person_id) DO UPDATE SET code_id = excluded.code_id,
                     masked_name = coalesce(excluded.masked_name, person_profiles.masked_name)",
                &[&p.person.as_str(), &p.code_id, &p.masked_name],
            )
            .await
            .map_err(backend("save a profile"))?;
        Ok(())
    }

    pub(crate) async fn profile_row(&self, person: &PersonId) -> StoreResult<Option<PersonProfile>> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT code_id, masked_name FROM person_profiles WHERE person_id = $1", &[&person.as_str()])
            .await
            .map_err(backend("read a profile"))?;
        Ok(row.map(|r| PersonProfile { person: person.clone(), code_id: r.get(0), masked_name: r.get(1) }))
    }

    pub(crate) async fn person_by_code_id_row(&self, code_id: &str) -> StoreResult<Option<PersonId>> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT person_id FROM person_profiles WHERE code_id = $1", &[&code_id])
            .await
            .map_err(backend("find a person by code id"))?;
        row.map(|r| PersonId::parse(r.get(0)).map_err(|e| corrupt("profile person id", e))).transpose()
    }

    pub(crate) async fn register_venue_row(&self, v: &VenueRecord) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute(
                &format!("INSERT INTO venues ({VENUE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
                &[
                    &v.id,
                    &v.name,
                    &v.category.as_str(),
                    &v.area.as_ref().map(AreaCode::as_str),
                    &v.registered_at.as_millis(),
                    &v.operator_key_hash,
                ],
            )
            .await
            .map_err(backend("register a venue"))?;
        Ok(())
    }

    pub(crate) async fn venues_where(
        &self,
        condition: &str,
        value: &str,
        limit: usize,
    ) -> StoreResult<Vec<VenueRecord>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {VENUE_COLUMNS} FROM venues WHERE {condition} ORDER BY registered_at DESC, id LIMIT $2"
                ),
                &[&value, &(limit as i64)],
            )
            .await
            .map_err(backend("read venues"))?;
        rows.iter().map(venue).collect()
    }

    pub(crate) async fn register_device_row(&self, d: &DeviceRecord) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO devices (id, venue_id, label, key_hash, registered_at) VALUES ($1, $2, $3, $4, $5)",
                &[&d.id, &d.venue, &d.label, &d.key_hash, &d.registered_at.as_millis()],
            )
            .await
            .map_err(backend("register a device"))?;
        Ok(())
    }

    /// The devices matching `condition`, which has one parameter, `$1`.
    pub(crate) async fn device_rows(
        &self,
        condition: &str,
        value: &(dyn tokio_postgres::types::ToSql + Sync),
    ) -> StoreResult<Vec<DeviceRecord>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT id, venue_id, label, key_hash, registered_at, approved_by, approved_at FROM devices
                     WHERE {condition}"
                ),
                &[value],
            )
            .await
            .map_err(backend("find devices"))?;
        Ok(rows
            .iter()
            .map(|r| DeviceRecord {
                id: r.get(0),
                venue: r.get(1),
                label: r.get(2),
                key_hash: r.get(3),
                registered_at: Timestamp::from_millis(r.get(4)),
                approved_by: r.get(5),
                approved_at: r.get::<_, Option<i64>>(6).map(Timestamp::from_millis),
            })
            .collect())
    }

    pub(crate) async fn record_checkin_rows(&self, batch: &[NewCheckin]) -> StoreResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let client = self.client().await?;
        let venues: Vec<&str> = batch.iter().map(|c| c.venue.as_str()).collect();
        let ats: Vec<i64> = batch.iter().map(|c| c.at.as_millis()).collect();
        let persons: Vec<&str> = batch.iter().map(|c| c.person.as_str()).collect();
        let methods: Vec<&str> = batch.iter().map(|c| c.method.as_str()).collect();
        let devices: Vec<Option<&str>> = batch.iter().map(|c| c.device.as_deref()).collect();
        let colours: Vec<&str> = batch.iter().map(|c| c.colour.as_str()).collect();
        let outcomes: Vec<&str> = batch.iter().map(|c| outcome_str(c.outcome)).collect();
        client
            .execute(
                "INSERT INTO checkins (venue_id, at, person_id, method, device_id, colour, outcome)
                 SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])",
                &[&venues, &ats, &persons, &methods, &devices, &colours, &outcomes],
            )
            .await
            .map_err(backend("record check-ins"))?;
        Ok(())
    }

    /// Check-ins by venue or by person (`column`), each served by its index.
    pub(crate) async fn checkins_where(
        &self,
        column: &str,
        value: &str,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<Checkin>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {CHECKIN_COLUMNS} FROM checkins WHERE {column} = $1 AND at >= $2 AND at < $3
                     ORDER BY at, id LIMIT $4"
                ),
                &[&value, &from.as_millis(), &to.as_millis(), &(limit as i64)],
            )
            .await
            .map_err(backend("read check-ins"))?;
        rows.iter().map(checkin).collect()
    }

    pub(crate) async fn checkin_count_rows(
        &self,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<(AccessOutcome, u64)>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT outcome, count(*) FROM checkins WHERE venue_id = $1 AND at >= $2 AND at < $3
                 GROUP BY outcome ORDER BY outcome",
                &[&venue, &from.as_millis(), &to.as_millis()],
            )
            .await
            .map_err(backend("count check-ins"))?;
        rows.iter()
            .map(|r| {
                let outcome: &str = r.get(0);
                Ok((
                    parse_outcome(outcome).ok_or_else(|| corrupt("check-in outcome", outcome))?,
                    r.get::<_, i64>(1) as u64,
                ))
            })
            .collect()
    }
}

#[async_trait]
impl DoorStore for PostgresStore {
    async fn register_venue(&self, venue: &VenueRecord) -> StoreResult<()> {
        self.register_venue_row(venue).await
    }

    async fn venue(&self, id: &str) -> StoreResult<Option<VenueRecord>> {
        Ok(self.venues_where("id = $1", id, 1).await?.pop())
    }

    async fn venue_by_operator_key(&self, key_hash: &str) -> StoreResult<Option<VenueRecord>> {
        Ok(self.venues_where("operator_key_hash = $1", key_hash, 1).await?.pop())
    }

    async fn venues(&self, limit: usize) -> StoreResult<Vec<VenueRecord>> {
        self.venues_where("$1 = $1", "", limit).await
    }

    async fn register_device(&self, device: &DeviceRecord) -> StoreResult<()> {
        self.register_device_row(device).await
    }

    async fn device_by_key(&self, key_hash: &str) -> StoreResult<Option<DeviceRecord>> {
        Ok(self.device_rows("key_hash = $1", &key_hash).await?.pop())
    }

    async fn device(&self, id: &str) -> StoreResult<Option<DeviceRecord>> {
        Ok(self.device_rows("id = $1", &id).await?.pop())
    }

    async fn devices(&self, limit: usize) -> StoreResult<Vec<DeviceRecord>> {
        self.device_rows("true ORDER BY registered_at DESC, id LIMIT $1", &(limit as i64)).await
    }

    async fn approve_device(&self, id: &str, by: &str, at: Timestamp) -> StoreResult<bool> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE devices SET approved_by = $2, approved_at = $3 WHERE id = $1 AND approved_by IS NULL",
                &[&id, &by, &at.as_millis()],
            )
            .await
            .map_err(backend("approve a device"))?;
        Ok(changed == 1)
    }

    async fn record_checkins(&self, batch: &[NewCheckin]) -> StoreResult<()> {
        self.record_checkin_rows(batch).await
    }

    async fn checkins_at_venue(
        &self,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<Checkin>> {
        self.checkins_where("venue_id", venue, from, to, limit).await
    }

    async fn checkins_of_person(
        &self,
        person: &PersonId,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<Checkin>> {
        self.checkins_where("person_id", person.as_str(), from, to, limit).await
    }

    async fn checkin_counts(
        &self,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<(AccessOutcome, u64)>> {
        self.checkin_count_rows(venue, from, to).await
    }

    async fn delete_checkins_before(&self, before: Timestamp) -> StoreResult<u64> {
        let client = self.client().await?;
        let mut deleted = 0;
        for table in ["checkins", "visits_elsewhere"] {
            deleted += client
                .execute(&format!("DELETE FROM {table} WHERE at < $1"), &[&before.as_millis()])
                .await
                .map_err(backend("delete old check-ins"))?;
        }
        Ok(deleted)
    }

    async fn record_visits_elsewhere(&self, visits: &[VisitElsewhere]) -> StoreResult<()> {
        if visits.is_empty() {
            return Ok(());
        }
        let client = self.client().await?;
        let regions: Vec<&str> = visits.iter().map(|v| v.region.as_str()).collect();
        let venues: Vec<&str> = visits.iter().map(|v| v.venue.as_str()).collect();
        let ats: Vec<i64> = visits.iter().map(|v| v.at.as_millis()).collect();
        let persons: Vec<&str> = visits.iter().map(|v| v.person.as_str()).collect();
        let colours: Vec<&str> = visits.iter().map(|v| v.colour.as_str()).collect();
        let outcomes: Vec<&str> = visits.iter().map(|v| outcome_str(v.outcome)).collect();
        client
            .execute(
                "INSERT INTO visits_elsewhere (region, venue_id, at, person_id, colour, outcome)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[])",
                &[&regions, &venues, &ats, &persons, &colours, &outcomes],
            )
            .await
            .map_err(backend("record visits elsewhere"))?;
        Ok(())
    }

    async fn visits_elsewhere_at(
        &self,
        region: &str,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<VisitElsewhere>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT region, venue_id, at, person_id, colour, outcome FROM visits_elsewhere
                 WHERE region = $1 AND venue_id = $2 AND at >= $3 AND at < $4 ORDER BY at, id LIMIT $5",
                &[&region, &venue, &from.as_millis(), &to.as_millis(), &(limit as i64)],
            )
            .await
            .map_err(backend("read visits elsewhere"))?;
        rows.iter()
            .map(|r| VisitElsewhere::from_columns(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
            .collect()
    }
}
