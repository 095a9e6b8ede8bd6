//! Venues (场所) and their checkpoint devices: registration and the keys that
//! authenticate them.

use healthcode_domain::{check_name, AreaCode, ValidationError, VenueCategory};
use healthcode_store::{DeviceRecord, VenueRecord};

use crate::secrets::{key_hash, new_id, new_key};
use crate::{HealthService, ServiceError};

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

impl HealthService {
    pub async fn register_venue(&self, new: NewVenue) -> Result<RegisteredVenue, ServiceError> {
        let name = check_name(&new.name).map_err(|_| {
            ValidationError::field("name", "field `name`: the venue's name, 1 to 64 characters, no control characters")
        })?;
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

    /// Registers a checkpoint device for a venue, on its operator's key.
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
        let device =
            DeviceRecord {
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

    /// The device holding `device_key`, and its venue.
    pub async fn device_for_key(&self, device_key: &str) -> Result<(DeviceRecord, VenueRecord), ServiceError> {
        let device = self.store.device_by_key(&key_hash(device_key)).await?.ok_or_else(|| {
            ServiceError::Unauthorised("unknown device key; register the device with its venue".into())
        })?;
        let venue = self.venue(&device.venue).await?;
        Ok((device, venue))
    }
}
