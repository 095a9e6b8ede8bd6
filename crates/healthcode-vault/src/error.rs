use thiserror::Error;

use crate::MasterKeyId;

/// Why a key or a sealed value could not be used. Messages never contain key bytes or plaintext.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum VaultError {
    #[error(
        "no master key with id {0} is loaded: the wrapped key was made with a master key that is not in the keyring \
         (is the master key file or HEALTHCODE_* environment variable for {0} missing, or was that key retired too early?)"
    )]
    UnknownMasterKey(MasterKeyId),

    /// One message on purpose: an AEAD cannot tell a wrong key from tampering or a move, and saying more would
    /// help an attacker probe.
    #[error(
        "decryption failed: wrong key (the person's data key may have been destroyed), \
         tampered bytes, or a value moved to another row or field"
    )]
    Decrypt,

    #[error("malformed {what}: {reason}")]
    Malformed { what: &'static str, reason: String },

    #[error("unsupported {what} format version {found} (this build reads version {supported})")]
    UnsupportedVersion { what: &'static str, found: u8, supported: u8 },

    #[error("invalid master key text: {0}")]
    InvalidKeyText(&'static str),

    #[error("the current master key {0} cannot be retired; rotate to a new key first")]
    RetireCurrent(MasterKeyId),
}

impl VaultError {
    pub(crate) fn malformed(what: &'static str, reason: impl Into<String>) -> Self {
        VaultError::Malformed { what, reason: reason.into() }
    }
}
