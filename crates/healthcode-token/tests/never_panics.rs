//! Tokens are untrusted input: nothing may panic on them, and no change to a valid token
//! may make it verify as anything but what was signed.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::{code_claims, key, trust, venue_claims, NOW};
use healthcode_token::{issue_code, issue_venue, verify_code, verify_venue, SignedTrustList, VerifyOptions};
use proptest::prelude::*;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn arbitrary_text_never_panics_and_never_verifies(text in ".{0,300}", body in "[0-9A-Z $%*+\\-./:]{0,400}") {
        let list = trust(&[&key(1)]);
        let opts = VerifyOptions::at(NOW);
        prop_assert!(verify_code(&text, &list, &opts).is_err());
        prop_assert!(verify_venue(&text, &list, &opts).is_err());
        let (code, venue) = (format!("HC1:{body}"), format!("HV1:{body}"));
        prop_assert!(verify_code(&code, &list, &opts).is_err());
        prop_assert!(verify_venue(&venue, &list, &opts).is_err());
    }

    #[test]
    fn a_mutated_code_never_verifies_as_other_claims(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..ALPHABET.len(), any::<bool>()), 1..4)
    ) {
        let issuer = key(1);
        let list = trust(&[&issuer]);
        let claims = code_claims(NOW);
        let token = issue_code(&issuer, &claims);
        let mutated = mutate(&token, &edits);
        match verify_code(&mutated, &list, &VerifyOptions::at(NOW)) {
            // Only a change that decodes to the very same signed bytes can pass, and then
            // it says exactly what was signed.
            Ok(found) => prop_assert_eq!(found, claims),
            Err(_) => prop_assert_ne!(&mutated, &token),
        }
    }

    #[test]
    fn a_mutated_venue_code_never_verifies_as_other_claims(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..ALPHABET.len(), any::<bool>()), 1..4)
    ) {
        let issuer = key(1);
        let list = trust(&[&issuer]);
        let claims = venue_claims((NOW, NOW + 60));
        let token = issue_venue(&issuer, &claims);
        let mutated = mutate(&token, &edits);
        match verify_venue(&mutated, &list, &VerifyOptions::at(NOW)) {
            Ok(found) => prop_assert_eq!(found, claims),
            Err(_) => prop_assert_ne!(&mutated, &token),
        }
    }

    #[test]
    fn arbitrary_trust_list_documents_never_panic(text in ".{0,400}") {
        if let Ok(signed) = SignedTrustList::from_json(&text) {
            prop_assert!(signed.open(&key(100).public()).is_err());
        }
    }
}

/// Replaces (or, with `insert`, inserts) alphabet characters at chosen places.
fn mutate(token: &str, edits: &[(prop::sample::Index, usize, bool)]) -> String {
    let mut bytes = token.as_bytes().to_vec();
    for (at, letter, insert) in edits {
        let at = at.index(bytes.len());
        if *insert {
            bytes.insert(at, ALPHABET[*letter]);
        } else {
            bytes[at] = ALPHABET[*letter];
        }
    }
    String::from_utf8(bytes).expect("alphabet characters are ASCII")
}
