use healthcode_domain::{IdDocument, PersonId};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Derives a person's pseudonymous id from their identity document with a keyed hash
/// (HMAC-SHA256). The key is configuration, never stored with the data: without it the
/// ids cannot be linked back to ID numbers by hashing guesses.
#[derive(Clone)]
pub struct Pseudonymiser {
    key: Vec<u8>,
}

impl std::fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymiser(<key redacted>)")
    }
}

impl Pseudonymiser {
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        Pseudonymiser { key: key.into() }
    }

    /// The key, for other keyed hashes of the same secret (code ids).
    pub(crate) fn key(&self) -> &[u8] {
        &self.key
    }

    pub fn person_id(&self, document: &IdDocument) -> PersonId {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(document.id_type().as_str().as_bytes());
        mac.update(b":");
        mac.update(document.number().as_bytes());
        let digest = mac.finalize().into_bytes();
        let hex = crate::secrets::hex(&digest[..16]);
        PersonId::parse(&format!("p{hex}")).expect("hex is a valid person id")
    }

    /// The code id a person's signed codes carry (`c` and 24 hex digits): a keyed hash of
    /// the person id, so it is stable (a code card can be printed) but says nothing about
    /// the person id.
    pub fn code_id(&self, person: &PersonId) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(b"code-id:");
        mac.update(person.as_str().as_bytes());
        let digest = mac.finalize().into_bytes();
        format!("c{}", crate::secrets::hex(&digest[..12]))
    }

    /// An event id for evidence the system makes itself (a decision's, an approved trace's)
    /// about a person: stable, so that doing it again stores nothing twice, but keyed, so
    /// that the id names neither the person nor what it came from.
    pub(crate) fn event_id(&self, prefix: &str, of: &str, person: &PersonId) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(b"event-id:");
        mac.update(of.as_bytes());
        mac.update(b"\0");
        mac.update(person.as_str().as_bytes());
        let digest = mac.finalize().into_bytes();
        format!("{prefix}-{}", crate::secrets::hex(&digest[..12]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_document_same_id_other_key_other_id() {
        let doc = IdDocument::parse("passport", "E1234567").unwrap();
        let a = Pseudonymiser::new(b"key-a".to_vec());
        let b = Pseudonymiser::new(b"key-b".to_vec());
        assert_eq!(a.person_id(&doc), a.person_id(&doc));
        assert_ne!(a.person_id(&doc), b.person_id(&doc));
        assert!(!a.person_id(&doc).as_str().contains("E1234567"));
    }
}
