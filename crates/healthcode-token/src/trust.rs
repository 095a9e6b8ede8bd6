//! The public keys a verifier accepts, and when each may have signed.

use serde::{Deserialize, Serialize};

use crate::error::VerifyError;
use crate::keys::{KeyId, SigningKey};

/// The keys of one region's issuers. A verifier accepts a token only if its key is here,
/// not revoked, and was in service when the token was issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustList {
    /// The region whose issuers hold these keys, e.g. "33". Tokens claiming another issuer
    /// are refused even when one of these keys signed them.
    pub region: String,
    /// Grows with every published list, so that a verifier can refuse to go back to an
    /// older one.
    pub sequence: u64,
    /// Unix seconds.
    pub issued_at: i64,
    pub keys: Vec<TrustedKey>,
}

/// One issuing key. Rotation: when a key is replaced, it stays in the list with
/// `not_after` set to when its last token expires, so that codes it signed keep verifying
/// until then. Revocation (`revoked`) refuses everything the key ever signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedKey {
    pub kid: KeyId,
    /// The raw 32-byte Ed25519 public key, base64 (standard alphabet, padded) in JSON.
    #[serde(with = "base64_key")]
    pub public_key: [u8; 32],
    /// First second (unix) at which a token issued by this key is accepted.
    pub not_before: i64,
    /// Tokens issued at or after this second are refused; `None`: no end yet.
    pub not_after: Option<i64>,
    pub revoked: bool,
}

impl TrustedKey {
    /// A key in service from `not_before` with no end, its id computed from the public key.
    pub fn new(public_key: [u8; 32], not_before: i64) -> TrustedKey {
        TrustedKey { kid: KeyId::of_public_key(&public_key), public_key, not_before, not_after: None, revoked: false }
    }

    pub fn of(key: &SigningKey, not_before: i64) -> TrustedKey {
        TrustedKey::new(key.public(), not_before)
    }

    /// Whether a token this key signed at `issued_at` may be accepted.
    pub(crate) fn check_signed_at(&self, issued_at: i64) -> Result<(), VerifyError> {
        if self.revoked {
            return Err(VerifyError::RevokedKey(self.kid));
        }
        let in_service = self.not_before <= issued_at && self.not_after.is_none_or(|end| issued_at < end);
        if !in_service {
            return Err(VerifyError::KeyNotValidAt {
                kid: self.kid,
                issued_at,
                not_before: self.not_before,
                not_after: self.not_after,
            });
        }
        Ok(())
    }
}

impl TrustList {
    pub fn find(&self, kid: KeyId) -> Option<&TrustedKey> {
        self.position(kid).map(|at| &self.keys[at])
    }

    pub(crate) fn position(&self, kid: KeyId) -> Option<usize> {
        self.keys.iter().position(|key| key.kid == kid)
    }

    /// A list must be unambiguous: each id once and matching its public key.
    pub(crate) fn check_consistent(&self) -> Result<(), String> {
        for (i, key) in self.keys.iter().enumerate() {
            if KeyId::of_public_key(&key.public_key) != key.kid {
                return Err(format!("keys[{i}]: kid {} is not the id of its public key", key.kid));
            }
            if crate::envelope::usable_key(&key.public_key).is_none() {
                return Err(format!("keys[{i}]: kid {} is not a usable Ed25519 public key", key.kid));
            }
            if self.keys[..i].iter().any(|earlier| earlier.kid == key.kid) {
                return Err(format!("keys[{i}]: kid {} appears twice", key.kid));
            }
        }
        Ok(())
    }
}

mod base64_key {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(key: &[u8; 32], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(key))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = STANDARD.decode(text).map_err(serde::de::Error::custom)?;
        bytes.try_into().map_err(|_| serde::de::Error::custom("a public key is 32 bytes"))
    }
}
