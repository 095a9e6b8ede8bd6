use std::fmt;

use crate::{DataKey, MasterKey, MasterKeyId, VaultError, WrappedKey};

/// The master keys a running service holds: one *current* key that wraps every new data key, and older keys kept
/// only to unwrap what they wrapped until it has been rewrapped.
///
/// Rotation without downtime:
/// 1. load the new key as current and keep the old one ([`Keyring::rotate`]); every server can still read every row;
/// 2. walk the rows in batches, storing [`Keyring::rewrap`]'s result wherever it is `Some`;
/// 3. when a full pass finds nothing left under the old id, [`Keyring::retire`] it and destroy its file.
pub struct Keyring {
    current: MasterKey,
    older: Vec<MasterKey>,
}

impl Keyring {
    pub fn new(current: MasterKey) -> Self {
        Keyring { current, older: Vec::new() }
    }

    /// Adds a key that may still have wrapped rows; it unwraps but never wraps. A key already held is ignored.
    pub fn add_older(&mut self, key: MasterKey) {
        if !self.holds(key.id()) {
            self.older.push(key);
        }
    }

    /// Makes `new_current` the wrapping key; the previous current key stays, for unwrapping only.
    pub fn rotate(&mut self, new_current: MasterKey) {
        if new_current.id() == self.current.id() {
            return;
        }
        self.older.retain(|k| k.id() != new_current.id());
        let previous = std::mem::replace(&mut self.current, new_current);
        self.older.push(previous);
    }

    /// Drops an older key (wiped from memory on drop). Rows still wrapped under it become unreadable, so retire a
    /// key only after a rewrap pass has found none.
    pub fn retire(&mut self, id: MasterKeyId) -> Result<(), VaultError> {
        if id == self.current.id() {
            return Err(VaultError::RetireCurrent(id));
        }
        self.older.retain(|k| k.id() != id);
        Ok(())
    }

    pub fn current_id(&self) -> MasterKeyId {
        self.current.id()
    }

    /// The current id first, then the older ones in the order they were added.
    pub fn ids(&self) -> Vec<MasterKeyId> {
        std::iter::once(&self.current).chain(&self.older).map(MasterKey::id).collect()
    }

    pub fn wrap(&self, key: &DataKey) -> WrappedKey {
        WrappedKey::wrap(&self.current, key)
    }

    /// A fresh data key for a new person, and its wrapped form for the database.
    pub fn new_data_key(&self) -> (DataKey, WrappedKey) {
        let key = DataKey::generate();
        let wrapped = self.wrap(&key);
        (key, wrapped)
    }

    pub fn unwrap(&self, wrapped: &WrappedKey) -> Result<DataKey, VaultError> {
        let master = self.find(wrapped.master_key_id).ok_or(VaultError::UnknownMasterKey(wrapped.master_key_id))?;
        wrapped.unwrap_with(master)
    }

    /// `None` when `wrapped` is already under the current key, so a migration batch writes only rows that change.
    pub fn rewrap(&self, wrapped: &WrappedKey) -> Result<Option<WrappedKey>, VaultError> {
        if wrapped.master_key_id == self.current.id() {
            return Ok(None);
        }
        let key = self.unwrap(wrapped)?;
        Ok(Some(self.wrap(&key)))
    }

    fn holds(&self, id: MasterKeyId) -> bool {
        self.find(id).is_some()
    }

    fn find(&self, id: MasterKeyId) -> Option<&MasterKey> {
        std::iter::once(&self.current).chain(&self.older).find(|k| k.id() == id)
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let older: Vec<MasterKeyId> = self.older.iter().map(MasterKey::id).collect();
        f.debug_struct("Keyring").field("current", &self.current.id()).field("older", &older).finish()
    }
}
