use std::fmt;

use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::aead::KEY_LEN;

/// One person's key for their personal and identifying evidence fields. It exists in clear only in memory; at
/// rest it is a [`WrappedKey`](crate::WrappedKey). Deleting the wrapped key is crypto-shredding: with it goes every
/// way to open that person's sealed fields.
///
/// Deliberately not `Clone`: each copy of a key is one more thing to wipe.
pub struct DataKey([u8; KEY_LEN]);

impl DataKey {
    pub fn generate() -> Self {
        let mut key = DataKey([0u8; KEY_LEN]);
        OsRng.fill_bytes(&mut key.0);
        key
    }

    pub(crate) fn from_array(bytes: [u8; KEY_LEN]) -> Self {
        DataKey(bytes)
    }

    pub(crate) fn secret(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl Drop for DataKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for DataKey {}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}
