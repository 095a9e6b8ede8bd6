//! Where codes are checked: venues, their devices (gates), and check-ins.

use async_trait::async_trait;
use healthcode_domain::{AccessOutcome, AreaCode, Colour, PersonId, Timestamp, VenueCategory};
use serde::{Deserialize, Serialize};

use crate::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VenueRecord {
    pub id: String,
    pub name: String,
    pub category: VenueCategory,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub area: Option<AreaCode>,
    pub registered_at: Timestamp,
    /// SHA-256 (hex) of the operator's key; the key itself is shown once, at registration.
    #[serde(skip_serializing)]
    pub operator_key_hash: String,
}

/// A gate device (数字哨兵, a gate or a checkpoint reader) bound to one venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceRecord {
    pub id: String,
    pub venue: String,
    pub label: String,
    #[serde(skip_serializing)]
    pub key_hash: String,
    pub registered_at: Timestamp,
    /// The provincial officer who approved the device: until then it looks nobody up.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub approved_by: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub approved_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckinMethod {
    /// The resident scanned the venue's code with their phone.
    Scan,
    /// A device read the resident's code.
    GateCode,
    /// A device read an ID card (no smartphone).
    GateIdCard,
}

impl CheckinMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckinMethod::Scan => "scan",
            CheckinMethod::GateCode => "gate_code",
            CheckinMethod::GateIdCard => "gate_id_card",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [CheckinMethod::Scan, CheckinMethod::GateCode, CheckinMethod::GateIdCard]
            .into_iter()
            .find(|m| m.as_str() == text)
    }
}

pub fn outcome_str(outcome: AccessOutcome) -> &'static str {
    match outcome {
        AccessOutcome::Allow => "allow",
        AccessOutcome::AllowWithMask => "allow_with_mask",
        AccessOutcome::Deny => "deny",
    }
}

pub fn parse_outcome(text: &str) -> Option<AccessOutcome> {
    [AccessOutcome::Allow, AccessOutcome::AllowWithMask, AccessOutcome::Deny]
        .into_iter()
        .find(|o| outcome_str(*o) == text)
}

/// A person at a venue at a time, with the colour they showed and the door's decision
/// (a denied attempt is a check-in too: it is what contact tracing and audits ask about).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCheckin {
    pub person: PersonId,
    pub venue: String,
    pub at: Timestamp,
    pub method: CheckinMethod,
    pub device: Option<String>,
    pub colour: Colour,
    pub outcome: AccessOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkin {
    pub id: i64,
    #[serde(flatten)]
    pub checkin: NewCheckin,
}

/// A resident's check-in at another region's venue: their app scanned the venue's code,
/// verified with that region's keys. Kept in the resident's own region only (the venue's
/// region never learns who came) and matched there against the venue exposures that
/// region publishes through the hub after a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitElsewhere {
    pub person: PersonId,
    /// The venue's region (`41`).
    pub region: String,
    /// The venue's id in its own region.
    pub venue: String,
    pub at: Timestamp,
    pub colour: Colour,
    pub outcome: AccessOutcome,
}

impl VisitElsewhere {
    /// A visit from its stored columns.
    pub fn from_columns(
        region: String,
        venue: String,
        at: i64,
        person: &str,
        colour: &str,
        outcome: &str,
    ) -> StoreResult<VisitElsewhere> {
        let corrupt = |what: &str, found: &str| StoreError::Corrupt(format!("{what}: `{found}`"));
        Ok(VisitElsewhere {
            person: PersonId::parse(person).map_err(|_| corrupt("visit person", person))?,
            region,
            venue,
            at: Timestamp::from_millis(at),
            colour: Colour::parse(colour).ok_or_else(|| corrupt("visit colour", colour))?,
            outcome: parse_outcome(outcome).ok_or_else(|| corrupt("visit outcome", outcome))?,
        })
    }
}

/// Venues, their devices and check-ins: where codes are checked.
#[async_trait]
pub trait DoorStore: Send + Sync {
    /// Deletes check-ins (here and at other regions' venues) older than `before` (the
    /// retention policy); returns how many.
    async fn delete_checkins_before(&self, before: Timestamp) -> StoreResult<u64>;
    async fn register_venue(&self, venue: &VenueRecord) -> StoreResult<()>;
    async fn venue(&self, id: &str) -> StoreResult<Option<VenueRecord>>;
    async fn venue_by_operator_key(&self, key_hash: &str) -> StoreResult<Option<VenueRecord>>;
    /// Up to `limit` venues, newest first.
    async fn venues(&self, limit: usize) -> StoreResult<Vec<VenueRecord>>;
    async fn register_device(&self, device: &DeviceRecord) -> StoreResult<()>;
    async fn device_by_key(&self, key_hash: &str) -> StoreResult<Option<DeviceRecord>>;
    async fn device(&self, id: &str) -> StoreResult<Option<DeviceRecord>>;
    /// Up to `limit` devices, newest first.
    async fn devices(&self, limit: usize) -> StoreResult<Vec<DeviceRecord>>;
    /// Records who approved a device; false (and nothing changed) if it is approved
    /// already or there is no such device.
    async fn approve_device(&self, id: &str, by: &str, at: Timestamp) -> StoreResult<bool>;
    async fn record_checkins(&self, batch: &[NewCheckin]) -> StoreResult<()>;
    /// Check-ins at a venue with `from <= at < to`, oldest first, at most `limit`.
    async fn checkins_at_venue(
        &self,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<Checkin>>;
    /// A person's check-ins with `from <= at < to`, oldest first, at most `limit`.
    async fn checkins_of_person(
        &self,
        person: &PersonId,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<Checkin>>;
    async fn record_visits_elsewhere(&self, visits: &[VisitElsewhere]) -> StoreResult<()>;
    /// Residents' visits to `region`'s venue with `from <= at < to`, oldest first, at most
    /// `limit`.
    async fn visits_elsewhere_at(
        &self,
        region: &str,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<VisitElsewhere>>;
    /// How many check-ins at a venue with `from <= at < to` had each outcome.
    async fn checkin_counts(
        &self,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<(AccessOutcome, u64)>>;
}
