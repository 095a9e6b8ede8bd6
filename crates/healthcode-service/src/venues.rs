//! Venues (场所) and their gate devices: registration and the keys that
//! authenticate them. Anyone may register a venue and show its code (a check-in by scan
//! needs the resident's own key), but a device reads codes and ID cards, and so can look
//! people up: it works only once a provincial officer whose jurisdiction covers the venue
//! approved it (logged), and each device may look up only so many persons a minute.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use healthcode_domain::AccessOutcome;
use healthcode_domain::{check_name, within, AreaCode, Timestamp, ValidationError, VenueCategory};
use healthcode_log::{DeviceApproval, Entry};
use healthcode_store::{Account, DeviceRecord, DoorStore, VenueRecord};

use crate::approvals::may_approve;
use crate::documents::Documents;
use crate::secrets::{key_hash, new_id, new_key};
use crate::tokens::SigningKeys;
use crate::{Alarms, Clock, ServiceError, TransparencyLog};

/// How many codes one device may read a minute: a gate at a busy metro entrance passes
/// a person every second or two.
pub const GATE_CODES_PER_MINUTE: usize = 120;
/// How many ID cards one device may look up a minute: those without a smartphone are
/// few at any one door, and a device looking up many ID numbers is enumerating people.
pub const GATE_ID_CARDS_PER_MINUTE: usize = 20;

/// Each device's recent lookups (milliseconds), kept by each server for its own limits.
#[derive(Default)]
struct GateLookups(Mutex<HashMap<(String, bool), Vec<i64>>>);

impl GateLookups {
    /// Counts a lookup; false if the device is over its limit for the minute.
    fn admit(&self, device: &str, id_card: bool, now: i64) -> bool {
        let limit = if id_card { GATE_ID_CARDS_PER_MINUTE } else { GATE_CODES_PER_MINUTE };
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if all.len() > 100_000 {
            all.retain(|_, times| times.last().is_some_and(|&t| t > now - 60_000));
        }
        let times = all.entry((device.to_string(), id_card)).or_default();
        times.retain(|&t| t > now - 60_000);
        if times.len() >= limit {
            return false;
        }
        times.push(now);
        true
    }
}

/// What a venue registers with.
#[derive(Debug, Clone)]
pub struct NewVenue {
    pub name: String,
    pub category: VenueCategory,
    pub area: Option<AreaCode>,
}

/// A new venue and its operator key, which is shown this once and stored only as a hash.
#[derive(Debug, Clone)]
pub struct RegisteredVenue {
    pub venue: VenueRecord,
    pub operator_key: String,
}

#[derive(Debug, Clone)]
pub struct RegisteredDevice {
    pub device: DeviceRecord,
    pub device_key: String,
}

/// Venues and their gate devices: registration, operator and device keys, the
/// approval that lets a device look people up, and each device's lookups a minute. Holds
/// only the door store, the documents that mark an hour's alarm, the log, the alarms, the
/// key ring (for the province's code when a venue gives no area) and the clock.
pub struct Venues {
    store: Arc<dyn DoorStore>,
    documents: Documents,
    log: Arc<TransparencyLog>,
    alarms: Arc<Alarms>,
    keys: Arc<SigningKeys>,
    clock: Arc<dyn Clock>,
    lookups: GateLookups,
}

impl Venues {
    pub(crate) fn new(
        store: Arc<dyn DoorStore>,
        documents: Documents,
        log: Arc<TransparencyLog>,
        alarms: Arc<Alarms>,
        keys: Arc<SigningKeys>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Venues { store, documents, log, alarms, keys, clock, lookups: GateLookups::default() }
    }

    pub async fn register(&self, new: NewVenue) -> Result<RegisteredVenue, ServiceError> {
        let name = check_name(&new.name).map_err(|_| {
            ValidationError::field("name", "field `name`: the venue's name, 1 to 64 characters, no control characters")
        })?;
        crate::places::current_if_given("area", new.area.as_ref())?;
        let (operator_key, operator_key_hash) = new_key("hcv_");
        let venue = VenueRecord {
            id: new_id("v"),
            name,
            category: new.category,
            area: new.area,
            registered_at: self.clock.now(),
            operator_key_hash,
        };
        self.store.register_venue(&venue).await?;
        Ok(RegisteredVenue { venue, operator_key })
    }

    pub async fn venue(&self, id: &str) -> Result<VenueRecord, ServiceError> {
        self.store.venue(id).await?.ok_or_else(|| ServiceError::UnknownVenue(id.chars().take(40).collect()))
    }

    /// The venue whose operator holds `operator_key`, which must be the one asked about.
    pub async fn venue_for_operator(&self, venue_id: &str, operator_key: &str) -> Result<VenueRecord, ServiceError> {
        match self.store.venue_by_operator_key(&key_hash(operator_key)).await? {
            Some(venue) if venue.id == venue_id => Ok(venue),
            _ => Err(ServiceError::Unauthorised("this key is not the operator key of that venue".into())),
        }
    }

    /// Registers a gate device for a venue, on its operator's key.
    pub async fn register_device(
        &self,
        venue_id: &str,
        operator_key: &str,
        label: &str,
    ) -> Result<RegisteredDevice, ServiceError> {
        let venue = self.venue_for_operator(venue_id, operator_key).await?;
        let label = check_name(label).map_err(|_| {
            ValidationError::field("label", "field `label`: where the device stands, 1 to 64 characters (e.g. 东门)")
        })?;
        let (device_key, key_hash) = new_key("hcd_");
        let device = DeviceRecord {
            id: new_id("d"),
            venue: venue.id,
            label,
            key_hash,
            registered_at: self.clock.now(),
            approved_by: None,
            approved_at: None,
        };
        self.store.register_device(&device).await?;
        Ok(RegisteredDevice { device, device_key })
    }

    /// The device holding `device_key`, and its venue, if a provincial officer approved it.
    pub async fn device_for_key(&self, device_key: &str) -> Result<(DeviceRecord, VenueRecord), ServiceError> {
        let device = self.store.device_by_key(&key_hash(device_key)).await?.ok_or_else(|| {
            ServiceError::Unauthorised("unknown device key; register the device with its venue".into())
        })?;
        if device.approved_by.is_none() {
            return Err(ServiceError::Forbidden(format!(
                "device {} waits for a provincial officer's approval before it may check anyone; ask the epidemic \
                 office of the venue's area",
                device.id
            )));
        }
        let venue = self.venue(&device.venue).await?;
        Ok((device, venue))
    }

    /// Counts a device's lookup against its limit per minute; one over it is refused, and
    /// the first refusal of an hour raises an alarm (a device looking up ID numbers in bulk).
    pub(crate) async fn admit_lookup(
        &self,
        device: &DeviceRecord,
        venue: &VenueRecord,
        id_card: bool,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now().as_millis();
        if self.lookups.admit(&device.id, id_card, now) {
            return Ok(());
        }
        let what = if id_card { "ID cards" } else { "codes" };
        let limit = if id_card { GATE_ID_CARDS_PER_MINUTE } else { GATE_CODES_PER_MINUTE };
        // One alarm per device and hour, wherever the device is refused again.
        let alarm_key = format!("gate_lookups:{}:{}", device.id, now.div_euclid(3_600_000));
        if self.documents.load::<Timestamp>("alarm_once", &alarm_key).await?.is_none() {
            self.documents.save("alarm_once", &alarm_key, self.clock.now(), &self.clock.now()).await?;
            let area = venue.area.as_ref().map(|a| a.normal().to_string());
            let detail = format!(
                "device {} at venue {} read more than {limit} {what} within a minute: refused; a gate looking up many \
                 persons is enumerating them",
                device.id, venue.id
            );
            self.alarms.raise("gate_lookups", area.as_deref().unwrap_or(self.keys.ring().region()), detail).await?;
        }
        Err(ServiceError::RateLimited(format!(
            "this device read more than {limit} {what} within a minute; wait a minute and try again"
        )))
    }

    /// Gate devices, newest first, for the officials who approve them.
    pub async fn devices(&self, by: &Account, limit: usize) -> Result<Vec<DeviceRecord>, ServiceError> {
        if !matches!(
            by.role,
            healthcode_domain::Role::ProvincialOffice
                | healthcode_domain::Role::LocalOffice
                | healthcode_domain::Role::Auditor
        ) {
            return Err(ServiceError::Forbidden("only epidemic offices and auditors list gate devices".into()));
        }
        Ok(self.store.devices(limit).await?)
    }

    /// A provincial officer whose jurisdiction covers the venue approves a device: from
    /// now on it reads codes and ID cards. Logged.
    pub async fn approve_device(&self, by: &Account, device_id: &str) -> Result<DeviceRecord, ServiceError> {
        may_approve(by, "gate device")?;
        self.alarms.if_fresh_approver(by, "gate device", self.keys.ring().region()).await?;
        let device = self.store.device(device_id).await?.ok_or_else(|| {
            ValidationError::field("device", format!("no device `{}`", device_id.chars().take(40).collect::<String>()))
        })?;
        let venue = self.venue(&device.venue).await?;
        let covered = match (&by.jurisdiction, &venue.area) {
            (None, _) => true,
            (Some(j), Some(area)) => within(j, area.normal()),
            (Some(j), None) => within(j, self.keys.ring().region()),
        };
        if !covered {
            return Err(ServiceError::Forbidden(
                "the venue is outside your jurisdiction; its own area's provincial officers approve its devices".into(),
            ));
        }
        let now = self.clock.now();
        if !self.store.approve_device(device_id, &by.username, now).await? {
            return Err(ServiceError::Conflict("this device is approved already".into()));
        }
        self.log
            .record(&[Entry::DeviceApproval(DeviceApproval {
                at: now.as_millis(),
                device_id: device.id.clone(),
                venue_id: venue.id.clone(),
                approved_by: by.username.clone(),
            })])
            .await?;
        Ok(DeviceRecord { approved_by: Some(by.username.clone()), approved_at: Some(now), ..device })
    }

    /// A venue's check-ins with `from <= at < to`, by outcome.
    pub async fn checkin_counts(
        &self,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(AccessOutcome, u64)>, ServiceError> {
        Ok(self.store.checkin_counts(venue, from, to).await?)
    }
}
