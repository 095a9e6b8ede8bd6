//! The database column that holds a person's data key, wrapped by a master key.
//!
//! Format version 1, 81 bytes: `0x01 || master key id (8) || nonce (24) || ciphertext of the data key (32) || tag (16)`.
//! The version byte and the master key id are authenticated as associated data, so neither can be altered to
//! steer which key is tried without the unwrap failing.

use crate::aead::{self, KEY_LEN, NONCE_LEN, TAG_LEN};
use crate::{DataKey, MasterKey, MasterKeyId, VaultError};

const VERSION: u8 = 1;
const DOMAIN: &[u8] = b"healthcode-vault/wrap/v1";
const WHAT: &str = "wrapped key";
const ENCODED_LEN: usize = 1 + MasterKeyId::LEN + NONCE_LEN + KEY_LEN + TAG_LEN;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub master_key_id: MasterKeyId,
    /// `nonce || ciphertext+tag`.
    pub ciphertext: Vec<u8>,
}

impl WrappedKey {
    pub(crate) fn wrap(master: &MasterKey, key: &DataKey) -> Self {
        let master_key_id = master.id();
        let mut ciphertext = Vec::with_capacity(NONCE_LEN + KEY_LEN + TAG_LEN);
        aead::seal_into(master.secret(), &aad(master_key_id), key.secret(), &mut ciphertext);
        WrappedKey { master_key_id, ciphertext }
    }

    /// The caller has already checked that `master` is the key this id names.
    pub(crate) fn unwrap_with(&self, master: &MasterKey) -> Result<DataKey, VaultError> {
        let plain =
            zeroize::Zeroizing::new(aead::open(master.secret(), &aad(self.master_key_id), &self.ciphertext, WHAT)?);
        let bytes: [u8; KEY_LEN] = plain
            .as_slice()
            .try_into()
            .map_err(|_| VaultError::malformed(WHAT, format!("unwrapped {} bytes, a data key is 32", plain.len())))?;
        Ok(DataKey::from_array(bytes))
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + MasterKeyId::LEN + self.ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(self.master_key_id.as_bytes());
        out.extend_from_slice(&self.ciphertext);
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VaultError> {
        let (&version, rest) = bytes.split_first().ok_or_else(|| VaultError::malformed(WHAT, "empty"))?;
        if version != VERSION {
            return Err(VaultError::UnsupportedVersion { what: WHAT, found: version, supported: VERSION });
        }
        if bytes.len() != ENCODED_LEN {
            return Err(VaultError::malformed(WHAT, format!("{} bytes, version 1 is {ENCODED_LEN}", bytes.len())));
        }
        let (id, ciphertext) = rest.split_at(MasterKeyId::LEN);
        let id: [u8; MasterKeyId::LEN] = id.try_into().expect("split at the id length");
        Ok(WrappedKey { master_key_id: MasterKeyId::from_array(id), ciphertext: ciphertext.to_vec() })
    }
}

fn aad(id: MasterKeyId) -> Vec<u8> {
    aead::bound_aad(DOMAIN, id.as_bytes())
}
