use healthcode_domain::{IdDocument, PersonId};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Derives a person's pseudonymous id from their identity document with a keyed hash
/// (HMAC-SHA256). The key is configuration, never stored with the data: without it the
/// ids cannot be linked back to ID numbers by hashing guesses.
#[derive(Clone)]
pub struct Pseudonymiser {
    key: Vec<u8>,
    /// The national pseudonym key, in a region that takes part in the national exchange.
    national: Option<std::sync::Arc<[u8]>>,
}

impl std::fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymiser(<key redacted>)")
    }
}

impl Pseudonymiser {
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        Pseudonymiser { key: key.into(), national: None }
    }

    /// The same, in a region of the national exchange (互认): `national_key` is the key
    /// every registered region shares (see `docs/FEDERATION.md`: the national platform
    /// hands it to each region it registers; it is never published, so nobody else can
    /// turn a guessed ID number into a national pseudonym).
    pub fn with_national_key(mut self, national_key: impl Into<Vec<u8>>) -> Self {
        self.national = Some(national_key.into().into());
        self
    }

    /// Whether this region takes part in the national exchange.
    pub fn takes_part_nationally(&self) -> bool {
        self.national.is_some()
    }

    /// The national pseudonym of a document's holder (`n` and 32 hex digits): the same in
    /// every region, so that records about a person travel between regions; `None` in a
    /// region outside the exchange.
    pub fn national_id(&self, document: &IdDocument) -> Option<String> {
        let key = self.national.as_ref()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
        mac.update(b"national-id:");
        mac.update(document.id_type().as_str().as_bytes());
        mac.update(b":");
        mac.update(document.number().as_bytes());
        let digest = mac.finalize().into_bytes();
        Some(format!("n{}", crate::secrets::hex(&digest[..16])))
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

    #[test]
    fn regions_with_the_same_national_key_agree_on_the_national_id_and_nobody_else_can_compute_it() {
        let doc = IdDocument::parse("passport", "E1234567").unwrap();
        let zhejiang = Pseudonymiser::new(b"zj".to_vec()).with_national_key(b"national".to_vec());
        let henan = Pseudonymiser::new(b"ha".to_vec()).with_national_key(b"national".to_vec());
        let outsider = Pseudonymiser::new(b"zj".to_vec()).with_national_key(b"guess".to_vec());
        let id = zhejiang.national_id(&doc).unwrap();
        assert_eq!(henan.national_id(&doc).unwrap(), id);
        assert_ne!(outsider.national_id(&doc).unwrap(), id);
        assert_ne!(zhejiang.person_id(&doc), henan.person_id(&doc), "local ids stay local");
        assert!(id.starts_with('n') && id.len() == 33);
        assert_eq!(Pseudonymiser::new(b"zj".to_vec()).national_id(&doc), None);
    }
}
