//! Sealing one personal field with the person's data key.
//!
//! Format version 1: `0x01 || nonce (24) || ciphertext || tag (16)`; the ciphertext is as long as the plaintext.
//! The associated data names the value's place (person and field), so a sealed value copied to another person's
//! row or to another field of the same row fails to open instead of being read as that other value.

use crate::aead;
use crate::{DataKey, VaultError};

const VERSION: u8 = 1;
const DOMAIN: &[u8] = b"healthcode-vault/field/v1";
const WHAT: &str = "sealed field";

/// Encrypts `plaintext` for the place `aad` names (see [`field_aad`]).
pub fn seal(key: &DataKey, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut sealed = vec![VERSION];
    aead::seal_into(key.secret(), &aead::bound_aad(DOMAIN, aad), plaintext, &mut sealed);
    sealed
}

pub fn open(key: &DataKey, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, VaultError> {
    let (&version, body) = sealed.split_first().ok_or_else(|| VaultError::malformed(WHAT, "empty"))?;
    if version != VERSION {
        return Err(VaultError::UnsupportedVersion { what: WHAT, found: version, supported: VERSION });
    }
    aead::open(key.secret(), &aead::bound_aad(DOMAIN, aad), body, WHAT)
}

pub fn seal_str(key: &DataKey, aad: &[u8], plaintext: &str) -> Vec<u8> {
    seal(key, aad, plaintext.as_bytes())
}

pub fn open_str(key: &DataKey, aad: &[u8], sealed: &[u8]) -> Result<String, VaultError> {
    let bytes = open(key, aad, sealed)?;
    // Authenticated bytes that are not UTF-8 were sealed with `seal`, not `seal_str`: a caller mix-up, not an attack.
    String::from_utf8(bytes).map_err(|_| VaultError::malformed(WHAT, "opened, but the value is not UTF-8 text"))
}

/// Associated data for field `field` of person `person`: `person:<id>:<field>`, with the id length-prefixed so that
/// no choice of id and field names the same place as another.
pub fn field_aad(person: &str, field: &str) -> Vec<u8> {
    format!("person:{}:{person}:{field}", person.len()).into_bytes()
}
