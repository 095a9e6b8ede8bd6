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
/// until then. Revocation (`revoked`) refuses every code the key ever signed, and every
/// detached signature unless the revocation says from when the key was compromised
/// (`revoked_from`).
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
    /// With `revoked`: the first second (unix) at which the key was no longer its region's
    /// alone (when it was stolen, as far as the region can tell). A detached signature
    /// dated by someone other than the signer (the hub's acceptance time) before it still
    /// holds; one dated at or after it does not. Codes date themselves (`iat` is whatever
    /// the signer wrote), so a revoked key's codes are refused whatever this says. `None`
    /// with `revoked`: nothing the key signed is trusted. Absent from lists written before
    /// it existed, and left out when `None`, so that those lists keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_from: Option<i64>,
}

impl TrustedKey {
    /// A key in service from `not_before` with no end, its id computed from the public key.
    pub fn new(public_key: [u8; 32], not_before: i64) -> TrustedKey {
        TrustedKey {
            kid: KeyId::of_public_key(&public_key),
            public_key,
            not_before,
            not_after: None,
            revoked: false,
            revoked_from: None,
        }
    }

    pub fn of(key: &SigningKey, not_before: i64) -> TrustedKey {
        TrustedKey::new(key.public(), not_before)
    }

    /// Whether a token this key signed at `issued_at` may be accepted. The token itself
    /// says when it was issued, so a revocation refuses it whatever its `revoked_from`:
    /// a thief dates what they sign as they please.
    pub(crate) fn check_signed_at(&self, issued_at: i64) -> Result<(), VerifyError> {
        if self.revoked {
            return Err(VerifyError::RevokedKey(self.kid));
        }
        self.check_in_service(issued_at)
    }

    /// Whether a signature by this key that a third party dated `dated_at` (unix seconds:
    /// when the national hub accepted it, which the signer cannot choose) may be accepted:
    /// the key was in service then, and not yet compromised.
    pub fn check_dated_at(&self, dated_at: i64) -> Result<(), VerifyError> {
        if self.revoked {
            match self.revoked_from {
                Some(since) if dated_at < since => {}
                Some(since) => return Err(VerifyError::RevokedSince { kid: self.kid, since, signed_at: dated_at }),
                None => return Err(VerifyError::RevokedKey(self.kid)),
            }
        }
        self.check_in_service(dated_at)
    }

    fn check_in_service(&self, issued_at: i64) -> Result<(), VerifyError> {
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

    /// A list must be unambiguous: each id once and matching its public key, and a
    /// compromise time only on a revoked key.
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
            // A compromise time on a key still trusted would read as a revocation to some
            // verifiers and not to others.
            if key.revoked_from.is_some() && !key.revoked {
                return Err(format!("keys[{i}]: kid {} has `revoked_from` but is not revoked", key.kid));
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

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use healthcode_domain::{Colour, PersonKind};

    use super::*;
    use crate::{
        issue_code, sign_detached, verify_code, verify_detached, CodeClaims, SignedTrustList, TrustListError,
        VerifyOptions,
    };

    const STOLEN_AT: i64 = 2_000;

    fn key() -> SigningKey {
        SigningKey::from_seed([5; 32])
    }

    fn compromised() -> TrustList {
        let mut stolen = TrustedKey::of(&key(), 1_000);
        stolen.not_after = Some(3_000);
        stolen.revoked = true;
        stolen.revoked_from = Some(STOLEN_AT);
        TrustList { region: "41".into(), sequence: 3, issued_at: 3_000, keys: vec![stolen] }
    }

    fn signed_at(list: &TrustList, dated_at: i64) -> Result<(), VerifyError> {
        let signature = sign_detached(&key(), "record", b"a close contact");
        verify_detached(list, key().key_id(), "record", b"a close contact", &signature, dated_at)
    }

    #[test]
    fn a_key_revoked_from_a_time_keeps_what_was_dated_before_it_and_refuses_the_rest() {
        let list = compromised();
        assert_eq!(signed_at(&list, STOLEN_AT - 1), Ok(()), "signed before the theft: still the region's word");
        assert_eq!(
            signed_at(&list, STOLEN_AT),
            Err(VerifyError::RevokedSince { kid: key().key_id(), since: STOLEN_AT, signed_at: STOLEN_AT })
        );
        assert!(matches!(signed_at(&list, 2_500), Err(VerifyError::RevokedSince { .. })));
        // The service period still applies before the compromise time.
        assert!(matches!(signed_at(&list, 999), Err(VerifyError::KeyNotValidAt { .. })));
        assert_eq!(signed_at(&list, 1_500).map_err(|e| e.code()), Ok(()));
        assert_eq!(signed_at(&list, 2_500).map_err(|e| e.code()), Err("key_compromised"));

        // Without a time, nothing it ever signed holds.
        let mut wholly = list.clone();
        wholly.keys[0].revoked_from = None;
        for at in [1_000, STOLEN_AT - 1, STOLEN_AT] {
            assert_eq!(signed_at(&wholly, at), Err(VerifyError::RevokedKey(key().key_id())), "{at}");
        }
        // And a key not revoked is trusted over its whole service.
        let mut trusted = list;
        trusted.keys[0].revoked = false;
        trusted.keys[0].revoked_from = None;
        assert_eq!(signed_at(&trusted, 2_999), Ok(()));
    }

    #[test]
    fn a_revoked_keys_codes_are_refused_whatever_the_compromise_time_because_a_code_dates_itself() {
        // The thief writes an `iat` from before the theft: a revocation time cannot help.
        let backdated = CodeClaims {
            issuer: "41".into(),
            code_id: "c_1".into(),
            colour: Colour::Green,
            kind: PersonKind::Domestic,
            display_name: "李*".into(),
            issued_at: STOLEN_AT - 100,
            expires_at: STOLEN_AT + 10_000,
        };
        let token = issue_code(&key(), &backdated);
        assert_eq!(
            verify_code(&token, &compromised(), &VerifyOptions::at(STOLEN_AT + 500)),
            Err(VerifyError::RevokedKey(key().key_id()))
        );
    }

    fn root() -> SigningKey {
        SigningKey::from_seed([6; 32])
    }

    /// A document as a region would publish it, over exactly these signed bytes.
    fn published(signed: &str) -> SignedTrustList {
        let document = serde_json::json!({
            "trust_list": signed,
            "root_key_id": root().key_id().to_string(),
            "signature": STANDARD.encode(root().sign(signed.as_bytes())),
        });
        SignedTrustList::from_json(&document.to_string()).unwrap()
    }

    #[test]
    fn lists_signed_before_revocation_times_existed_still_open_and_lists_without_one_keep_their_bytes() {
        let public = STANDARD.encode(key().public());
        let kid = key().key_id();
        // As written before `revoked_from`: its bytes, signed as they were.
        let older = format!(
            r#"{{"region":"41","sequence":2,"issued_at":1500,"keys":[{{"kid":"{kid}","public_key":"{public}","not_before":1000,"not_after":1500,"revoked":true}}]}}"#
        );
        let opened = published(&older).open(&root().public()).unwrap();
        assert_eq!(opened.keys[0].revoked_from, None);
        assert_eq!(signed_at(&opened, 1_200), Err(VerifyError::RevokedKey(kid)), "as before: everything refused");
        // A list without a revocation time is written as before: verifiers that predate the
        // field read it.
        let mut list = opened.clone();
        list.keys[0].revoked = false;
        list.keys[0].not_after = None;
        let text = serde_json::to_string(&list).unwrap();
        assert!(!text.contains("revoked_from"), "{text}");
        assert_eq!(text, older.replace("1500,\"revoked\":true", "null,\"revoked\":false"));

        // With one, it round-trips through a signed list.
        let signed = SignedTrustList::sign(&root(), &compromised());
        let again = SignedTrustList::from_json(&signed.to_json()).unwrap().open(&root().public()).unwrap();
        assert_eq!(again, compromised());
        assert_eq!(again.keys[0].revoked_from, Some(STOLEN_AT));
    }

    #[test]
    fn a_compromise_time_on_a_key_that_is_not_revoked_makes_the_list_malformed() {
        let mut list = compromised();
        list.keys[0].revoked = false;
        let refused = SignedTrustList::sign(&root(), &list).open(&root().public());
        assert!(matches!(refused, Err(TrustListError::Malformed(ref m)) if m.contains("revoked_from")), "{refused:?}");
    }

    /// The documented format (`docs/federation/trust-list.schema.json`) and this type agree:
    /// the example reads and writes back the same, the fields are the same, and only the
    /// compromise time may be left out.
    #[test]
    fn the_documented_trust_list_format_is_this_one() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/federation/trust-list.schema.json")).unwrap();
        for example in schema["examples"].as_array().unwrap() {
            let list: TrustList = serde_json::from_value(example.clone()).unwrap();
            list.check_consistent().unwrap();
            assert_eq!(&serde_json::to_value(&list).unwrap(), example);
        }
        let names = |value: &serde_json::Value| {
            let mut names: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
            names.sort();
            names
        };
        assert_eq!(names(&schema["properties"]), names(&serde_json::to_value(compromised()).unwrap()));
        let key = &schema["properties"]["keys"]["items"];
        assert_eq!(names(&key["properties"]), names(&serde_json::to_value(&compromised().keys[0]).unwrap()));
        let mut required: Vec<String> =
            key["required"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect();
        required.push("revoked_from".into());
        required.sort();
        assert_eq!(required, names(&key["properties"]));
    }
}
