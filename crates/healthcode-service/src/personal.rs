//! Personal details at rest (a resident's full name and phone, for the health office to
//! reach a close contact): sealed with the person's own data key, which is stored only
//! wrapped by a master key held outside the database (`keys/vault.key`). The masked name
//! shown at gates is kept apart, in the clear. When the epidemic is declared over,
//! `destroy_personal_data` deletes every personal row and shreds the keys.

use std::sync::Arc;

use healthcode_domain::{PersonId, ValidationError};
use healthcode_log::{Destruction, Entry};
use healthcode_store::SealedPersonalData;
use healthcode_vault::{field_aad, open, seal, WrappedKey};
use serde::{Deserialize, Serialize};

use crate::{Residents, ServiceError};

/// The details sealed for one person. Only what reaching them needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonalDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// What a destruction did, for the operator's report and the transparency log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DestructionReport {
    pub at: healthcode_domain::Timestamp,
    pub basis: String,
    pub removed: Vec<(String, u64)>,
    /// The master keys whose data is gone; the operator deletes their file next.
    pub master_keys: Vec<String>,
    pub log_index: Option<u64>,
}

/// A mainland mobile number: 11 digits starting with 1 (spaces and dashes allowed).
pub fn check_phone(text: &str) -> Result<String, ValidationError> {
    let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let digits = digits.strip_prefix("+86").unwrap_or(&digits).to_string();
    if digits.len() == 11 && digits.starts_with('1') && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(ValidationError::field("phone", "a mobile number is 11 digits starting with 1, e.g. 13800138000"))
    }
}

pub(crate) const FIELD: &str = "personal_details";

fn vault_error(e: healthcode_vault::VaultError) -> ServiceError {
    ServiceError::Background(format!("personal data cannot be opened: {e}"))
}

impl Residents {
    /// The master keys in use.
    pub(crate) fn vault(&self) -> Arc<healthcode_vault::Keyring> {
        self.vault.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the master keys (the key file changed: a rotation's new key, or an old
    /// one retired). Data keys wrapped under any key of the new ring keep opening.
    pub fn set_vault(&self, ring: healthcode_vault::Keyring) {
        *self.vault.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(ring);
    }

    /// Wraps every stored data key under the current master key, a page at a time;
    /// returns how many changed. Run after a rotation, once every server holds the new key.
    pub async fn rewrap_data_keys(&self) -> Result<u64, ServiceError> {
        let vault = self.vault();
        let mut after: Option<PersonId> = None;
        let mut rewrapped = 0;
        loop {
            let page = self.resident_store.personal_data_after(after.as_ref(), 1000).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.person.clone());
            for mut record in page {
                let wrapped = WrappedKey::from_bytes(&record.wrapped_key).map_err(vault_error)?;
                if let Some(new) = vault.rewrap(&wrapped).map_err(vault_error)? {
                    record.wrapped_key = new.to_bytes();
                    self.resident_store.save_personal_data(&record).await?;
                    rewrapped += 1;
                    if rewrapped == 1 {
                        crate::faults::crash_point("vault.rewrapping");
                    }
                }
            }
        }
        Ok(rewrapped)
    }

    /// Seals a person's details, replacing earlier ones (under the same data key).
    pub async fn save_personal_details(
        &self,
        person: &PersonId,
        details: &PersonalDetails,
    ) -> Result<(), ServiceError> {
        if details.name.is_none() && details.phone.is_none() {
            return Ok(());
        }
        let (key, wrapped) = match self.resident_store.personal_data(person).await? {
            Some(stored) => {
                let wrapped = WrappedKey::from_bytes(&stored.wrapped_key).map_err(vault_error)?;
                (self.vault().unwrap(&wrapped).map_err(vault_error)?, wrapped)
            }
            None => self.vault().new_data_key(),
        };
        let plaintext = serde_json::to_vec(details).map_err(|e| ServiceError::Background(e.to_string()))?;
        let sealed = seal(&key, &field_aad(person.as_str(), FIELD), &plaintext);
        let record = SealedPersonalData {
            person: person.clone(),
            wrapped_key: wrapped.to_bytes(),
            sealed,
            updated_at: self.clock.now(),
        };
        Ok(self.resident_store.save_personal_data(&record).await?)
    }

    /// A person's details, opened; `None` when none were given or they were destroyed.
    /// Callers record the read in the person's access log.
    pub async fn personal_details(&self, person: &PersonId) -> Result<Option<PersonalDetails>, ServiceError> {
        let Some(stored) = self.resident_store.personal_data(person).await? else { return Ok(None) };
        let wrapped = WrappedKey::from_bytes(&stored.wrapped_key).map_err(vault_error)?;
        let key = self.vault().unwrap(&wrapped).map_err(vault_error)?;
        let plaintext = open(&key, &field_aad(person.as_str(), FIELD), &stored.sealed).map_err(vault_error)?;
        serde_json::from_slice(&plaintext).map(Some).map_err(|e| ServiceError::Background(e.to_string()))
    }

    /// Deletes every personal row (persons, evidence, codes, check-ins, details, keys,
    /// access logs, complaints, contact lists), gives the space back, and records the
    /// destruction in the transparency log. The caller then deletes the master key and
    /// pseudonym key files, so that no backup can be opened or linked either.
    pub async fn destroy_personal_data(&self, basis: &str) -> Result<DestructionReport, ServiceError> {
        let basis = basis.trim();
        if basis.chars().count() < 10 {
            return Err(ValidationError::field(
                "basis",
                "state the order that ends the epidemic measures (at least 10 characters)",
            )
            .into());
        }
        let removed = self.resident_store.destroy_personal_data().await?;
        self.resident_keys.forget(None);
        // The masked names went with the profiles.
        self.log.code_cards().clear();
        let master_keys: Vec<String> = self.vault().ids().iter().map(ToString::to_string).collect();
        let at = self.clock.now();
        let entry = Destruction {
            at: at.as_millis(),
            basis: basis.to_string(),
            removed: removed.iter().map(|(t, n)| format!("{t}={n}")).collect(),
            master_keys: master_keys.clone(),
        };
        let index = self.log.record(&[Entry::Destruction(entry)]).await?;
        tracing::warn!(tables = removed.len(), "personal data destroyed");
        Ok(DestructionReport { at, basis: basis.to_string(), removed, master_keys, log_index: index.first().copied() })
    }
}

/// How long check-ins are kept: two incubation periods, enough for tracing (which looks
/// back 14 days) with margin; the published collection rules say the same.
pub const CHECKIN_RETENTION_DAYS: i64 = 28;

impl Residents {
    /// Applies the retention policy: deletes check-ins, and the contact lists drawn from
    /// them, older than `CHECKIN_RETENTION_DAYS`.
    /// The scheduler calls it; it does the work at most once an hour.
    pub async fn apply_retention(&self) -> Result<u64, ServiceError> {
        use std::sync::atomic::Ordering;
        let now = self.clock.now().as_millis();
        let last = self.retention_ran_at.load(Ordering::Relaxed);
        if now - last < 3_600_000 {
            return Ok(0);
        }
        self.retention_ran_at.store(now, Ordering::Relaxed);
        let before = self.clock.now().saturating_sub(healthcode_domain::Duration::days(CHECKIN_RETENTION_DAYS));
        let deleted = self.door_store.delete_checkins_before(before).await?;
        // Contact lists are drawn from check-ins: they go when their check-ins would.
        let traces = self.governance_store.delete_documents_before(crate::tracing_contacts::TRACE_KIND, before).await?;
        // Which person a code was shown for in a roster: codes and rosters are short-lived.
        let holders = self.governance_store.delete_documents_before(crate::groups::HOLDER, before).await?;
        let traces = traces + holders;
        if deleted + traces > 0 {
            tracing::info!(deleted, traces, "check-ins and contact lists past their retention deleted");
        }
        Ok(deleted + traces)
    }
}
