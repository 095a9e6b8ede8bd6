use std::fmt;
use std::str::FromStr;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, Engine, GeneralPurpose, GeneralPurposeConfig};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::aead::KEY_LEN;
use crate::{hex, VaultError};

const ID_DOMAIN: &[u8] = b"healthcode-vault/master-key-id/v1\0";
const ID_LEN: usize = 8;

/// Names a master key without revealing it: the first 8 bytes of SHA-256 over a domain-separated encoding of the
/// key, shown as 16 hex digits. Stored in every wrapped key so that the keyring knows which master key opens it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MasterKeyId([u8; ID_LEN]);

impl MasterKeyId {
    pub(crate) const LEN: usize = ID_LEN;

    pub(crate) fn from_array(bytes: [u8; ID_LEN]) -> Self {
        MasterKeyId(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; ID_LEN] {
        &self.0
    }
}

impl fmt::Display for MasterKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.0))
    }
}

impl fmt::Debug for MasterKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKeyId({self})")
    }
}

impl FromStr for MasterKeyId {
    type Err = VaultError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut id = [0u8; ID_LEN];
        if hex::decode_into(text.trim(), &mut id) {
            Ok(MasterKeyId(id))
        } else {
            Err(VaultError::malformed("master key id", "expected 16 hex digits"))
        }
    }
}

/// The key that wraps every person's data key. It lives outside the database (a 0600 file or an environment
/// variable, both the caller's business); a stolen database without it yields no personal field.
pub struct MasterKey {
    bytes: [u8; KEY_LEN],
    id: MasterKeyId,
}

impl MasterKey {
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        OsRng.fill_bytes(bytes.as_mut());
        Self::from_bytes(*bytes)
    }

    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        let digest = Sha256::new().chain_update(ID_DOMAIN).chain_update(bytes).finalize();
        let mut id = [0u8; ID_LEN];
        id.copy_from_slice(&digest[..ID_LEN]);
        MasterKey { bytes, id: MasterKeyId(id) }
    }

    /// Parses the text of an environment variable or key file: 64 hex digits, or base64 (standard or URL-safe
    /// alphabet, padding optional) of 32 bytes. Surrounding whitespace, such as a file's final newline, is ignored.
    pub fn from_text(text: &str) -> Result<Self, VaultError> {
        let text = text.trim();
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        if text.len() == KEY_LEN * 2 && hex::decode_into(text, bytes.as_mut()) {
            return Ok(Self::from_bytes(*bytes));
        }
        let decoded = Zeroizing::new(decode_base64(text)?);
        if decoded.len() != KEY_LEN {
            return Err(VaultError::InvalidKeyText(
                "a master key is 32 bytes: 64 hex digits or 43-44 base64 characters",
            ));
        }
        bytes.copy_from_slice(&decoded);
        Ok(Self::from_bytes(*bytes))
    }

    /// The raw key for the caller to write to a file only its service account can read (mode 0600).
    pub fn to_bytes(&self) -> Zeroizing<[u8; KEY_LEN]> {
        Zeroizing::new(self.bytes)
    }

    /// Standard padded base64, the form `from_text` reads, for an environment variable or a key file.
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(self.bytes))
    }

    pub fn id(&self) -> MasterKeyId {
        self.id
    }

    pub(crate) fn secret(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }
}

impl FromStr for MasterKey {
    type Err = VaultError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::from_text(text)
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl ZeroizeOnDrop for MasterKey {}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey").field("id", &self.id).field("bytes", &"<redacted>").finish()
    }
}

fn decode_base64(text: &str) -> Result<Vec<u8>, VaultError> {
    let config = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let url_safe = text.contains(['-', '_']);
    let alphabet = if url_safe { &alphabet::URL_SAFE } else { &alphabet::STANDARD };
    GeneralPurpose::new(alphabet, config)
        .decode(text)
        .map_err(|_| VaultError::InvalidKeyText("neither 64 hex digits nor valid base64"))
}
