//! Detached signatures by a region's code-signing keys, for what a region says outside a
//! code (its records at the national hub): whoever holds the region's trust list checks
//! them offline, as a code, so that nobody between the region and the reader — the hub
//! included — can put words in the region's mouth.

use crate::envelope::usable_key;
use crate::error::VerifyError;
use crate::keys::{KeyId, SigningKey};
use crate::trust::TrustList;

fn message(context: &str, payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(context.len() + 1 + payload.len());
    bytes.extend_from_slice(context.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(payload);
    bytes
}

/// Signs `payload` under `context` (a name for what is signed, so that a signature over one
/// kind of thing never passes for another).
pub fn sign_detached(key: &SigningKey, context: &str, payload: &[u8]) -> [u8; 64] {
    key.sign(&message(context, payload))
}

/// Checks a detached signature by key `kid` of `trust`, dated `dated_at` (unix seconds) by
/// someone other than the signer — the national hub's time of acceptance — so that a thief
/// of the key cannot backdate what they sign: the key is listed and usable, was in service
/// then, and was not revoked, or revoked only from a later time (`TrustedKey::revoked_from`).
pub fn verify_detached(
    trust: &TrustList,
    kid: KeyId,
    context: &str,
    payload: &[u8],
    signature: &[u8; 64],
    dated_at: i64,
) -> Result<(), VerifyError> {
    let key = trust.find(kid).ok_or(VerifyError::UnknownKey(kid))?;
    let verifying = usable_key(&key.public_key).ok_or(VerifyError::UnknownKey(kid))?;
    let signature = ed25519_dalek::Signature::from_bytes(signature);
    verifying.verify_strict(&message(context, payload), &signature).map_err(|_| VerifyError::BadSignature)?;
    key.check_dated_at(dated_at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::TrustedKey;

    #[test]
    fn a_signature_holds_for_its_context_and_payload_only() {
        let key = SigningKey::from_seed([3; 32]);
        let trust = TrustList { region: "41".into(), sequence: 1, issued_at: 0, keys: vec![TrustedKey::of(&key, 10)] };
        let signature = sign_detached(&key, "record", b"payload");
        assert_eq!(verify_detached(&trust, key.key_id(), "record", b"payload", &signature, 20), Ok(()));
        assert_eq!(
            verify_detached(&trust, key.key_id(), "record", b"payloaD", &signature, 20),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify_detached(&trust, key.key_id(), "code", b"payload", &signature, 20),
            Err(VerifyError::BadSignature)
        );
        assert!(matches!(
            verify_detached(&trust, key.key_id(), "record", b"payload", &signature, 5),
            Err(VerifyError::KeyNotValidAt { .. })
        ));
        let other = SigningKey::from_seed([4; 32]);
        assert_eq!(
            verify_detached(&trust, other.key_id(), "record", b"payload", &signature, 20),
            Err(VerifyError::UnknownKey(other.key_id()))
        );
        let mut revoked = trust.clone();
        revoked.keys[0].revoked = true;
        assert_eq!(
            verify_detached(&revoked, key.key_id(), "record", b"payload", &signature, 20),
            Err(VerifyError::RevokedKey(key.key_id()))
        );
    }
}
