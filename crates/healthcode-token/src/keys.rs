use std::fmt;
use std::str::FromStr;

use rand_core::CryptoRngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// The 8-byte key identifier carried in every token: the first 8 bytes of SHA-256 of the
/// 32-byte Ed25519 public key, as the EU Digital COVID Certificate does. Shown and
/// serialised as 16 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    pub fn of_public_key(public_key: &[u8; 32]) -> KeyId {
        let digest = Sha256::digest(public_key);
        let mut kid = [0u8; 8];
        kid.copy_from_slice(&digest[..8]);
        KeyId(kid)
    }

    pub fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a key id is 16 hex digits (8 bytes), got `{0}`")]
pub struct KeyIdParseError(String);

impl FromStr for KeyId {
    type Err = KeyIdParseError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || KeyIdParseError(text.chars().take(32).collect());
        // `from_str_radix` alone would also take a sign such as `+f`.
        if text.len() != 16 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut kid = [0u8; 8];
        for (byte, pair) in kid.iter_mut().zip(text.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| bad())?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
        }
        Ok(KeyId(kid))
    }
}

impl Serialize for KeyId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// In the OpenAPI document: what `Serialize` writes, 16 hex digits.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for KeyId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[0-9a-f]{16}$"))
            .description(Some("a key id: the first 8 bytes of the SHA-256 of the public key, hex"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for KeyId {}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// An Ed25519 signing key with its [`KeyId`]. This crate never stores it: the caller
/// persists [`SigningKey::seed`] wherever it keeps secrets and rebuilds the key with
/// [`SigningKey::from_seed`]. `Debug` shows the key id only.
#[derive(Clone)]
pub struct SigningKey {
    inner: ed25519_dalek::SigningKey,
    kid: KeyId,
}

impl SigningKey {
    pub fn generate<R: CryptoRngCore + ?Sized>(rng: &mut R) -> SigningKey {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        SigningKey::from_seed(seed)
    }

    pub fn from_seed(seed: [u8; 32]) -> SigningKey {
        let inner = ed25519_dalek::SigningKey::from_bytes(&seed);
        let kid = KeyId::of_public_key(inner.verifying_key().as_bytes());
        SigningKey { inner, kid }
    }

    /// The 32 secret bytes from which the key is derived: what the caller must keep secret.
    pub fn seed(&self) -> [u8; 32] {
        self.inner.to_bytes()
    }

    pub fn public(&self) -> [u8; 32] {
        self.inner.verifying_key().to_bytes()
    }

    pub fn key_id(&self) -> KeyId {
        self.kid
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer;
        self.inner.sign(message).to_bytes()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("secret", &"<redacted>").finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_the_key_id_and_never_the_seed() {
        let key = SigningKey::from_seed([7u8; 32]);
        let shown = format!("{key:?}");
        assert!(shown.contains(&key.key_id().to_string()));
        assert!(shown.contains("<redacted>"));
        let seed_hex: String = key.seed().iter().map(|b| format!("{b:02x}")).collect();
        assert!(!shown.contains(&seed_hex));
        assert!(!shown.contains("7, 7, 7"));
    }

    #[test]
    fn key_id_is_the_sha256_prefix_of_the_public_key_in_lowercase_hex() {
        let key = SigningKey::from_seed([1u8; 32]);
        let digest = Sha256::digest(key.public());
        assert_eq!(key.key_id().as_bytes(), &digest[..8]);
        let text = key.key_id().to_string();
        assert_eq!(text.len(), 16);
        assert!(text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_eq!(text.parse::<KeyId>().unwrap(), key.key_id());
        assert!("xyz".parse::<KeyId>().is_err());
        assert!("0123456789abcdeg".parse::<KeyId>().is_err());
    }

    #[test]
    fn a_key_rebuilt_from_its_seed_is_the_same_key() {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let again = SigningKey::from_seed(key.seed());
        assert_eq!(again.public(), key.public());
        assert_eq!(again.key_id(), key.key_id());
    }
}
