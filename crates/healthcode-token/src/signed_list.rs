//! A trust list signed by a region's root key, as published to verifiers.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::TrustListError;
use crate::keys::{KeyId, SigningKey};
use crate::trust::TrustList;

/// A published trust list. The signed bytes are carried verbatim, as a JSON string, so
/// that a verifier in any language checks the signature over exactly what was signed,
/// without re-serialising anything:
///
/// ```json
/// { "trust_list": "{\"region\":\"33\",…}", "root_key_id": "1f2e…", "signature": "base64…" }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTrustList {
    signed: String,
    root_key_id: KeyId,
    signature: [u8; 64],
}

/// A published trust list as JSON: what [`SignedTrustList::to_json`] writes and
/// [`SignedTrustList::from_json`] reads (public for the OpenAPI document's schema of it).
#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TrustListDocument {
    /// The signed bytes, verbatim: the trust list (`region`, `sequence`, `issued_at` in unix
    /// seconds, `keys`) as JSON text.
    trust_list: String,
    /// The root key that signed it.
    root_key_id: KeyId,
    /// The Ed25519 signature over `trust_list`'s bytes, base64.
    signature: String,
}

/// Largest published document accepted; a list of hundreds of keys is a few tens of KiB.
pub const MAX_TRUST_LIST_BYTES: usize = 1 << 20;

impl SignedTrustList {
    pub fn sign(root: &SigningKey, list: &TrustList) -> SignedTrustList {
        let signed = serde_json::to_string(list).expect("a trust list of strings and numbers always serialises");
        let signature = root.sign(signed.as_bytes());
        SignedTrustList { signed, root_key_id: root.key_id(), signature }
    }

    pub fn to_json(&self) -> String {
        let document = TrustListDocument {
            trust_list: self.signed.clone(),
            root_key_id: self.root_key_id,
            signature: STANDARD.encode(self.signature),
        };
        serde_json::to_string_pretty(&document).expect("strings always serialise")
    }

    /// Reads a published document. Nothing in it is trusted until [`SignedTrustList::open`].
    pub fn from_json(text: &str) -> Result<SignedTrustList, TrustListError> {
        if text.len() > MAX_TRUST_LIST_BYTES {
            return Err(malformed(format!("larger than {MAX_TRUST_LIST_BYTES} bytes")));
        }
        let document: TrustListDocument = serde_json::from_str(text).map_err(|e| malformed(e.to_string()))?;
        let signature = STANDARD
            .decode(&document.signature)
            .ok()
            .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
            .ok_or_else(|| malformed("`signature` is not 64 bytes of base64"))?;
        Ok(SignedTrustList { signed: document.trust_list, root_key_id: document.root_key_id, signature })
    }

    /// Checks the signature against the root public key this verifier pins, then reads the
    /// list. The list's own `region` is not compared with anything here: pin one root key
    /// per region.
    pub fn open(&self, pinned_root: &[u8; 32]) -> Result<TrustList, TrustListError> {
        let expected = KeyId::of_public_key(pinned_root);
        if self.root_key_id != expected {
            return Err(TrustListError::WrongRoot { expected, found: self.root_key_id });
        }
        let root = ed25519_dalek::VerifyingKey::from_bytes(pinned_root).map_err(|_| TrustListError::BadSignature)?;
        let signature = ed25519_dalek::Signature::from_bytes(&self.signature);
        root.verify_strict(self.signed.as_bytes(), &signature).map_err(|_| TrustListError::BadSignature)?;
        let list: TrustList = serde_json::from_str(&self.signed).map_err(|e| malformed(e.to_string()))?;
        list.check_consistent().map_err(malformed)?;
        Ok(list)
    }

    /// As [`SignedTrustList::open`], for a verifier that already holds list number `seen`
    /// from this root: an older list is refused, so that a replayed list cannot bring a
    /// revoked key back. The same number again is accepted (a refetch).
    pub fn open_not_older(&self, pinned_root: &[u8; 32], seen: Option<u64>) -> Result<TrustList, TrustListError> {
        let list = self.open(pinned_root)?;
        match seen {
            Some(seen) if list.sequence < seen => Err(TrustListError::Older { seen, found: list.sequence }),
            _ => Ok(list),
        }
    }

    /// SHA-256 of the signed bytes, lowercase hex: a version tag for HTTP `ETag` and caches.
    pub fn content_hash(&self) -> String {
        Sha256::digest(self.signed.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn root_key_id(&self) -> KeyId {
        self.root_key_id
    }
}

fn malformed(detail: impl Into<String>) -> TrustListError {
    TrustListError::Malformed(detail.into())
}
