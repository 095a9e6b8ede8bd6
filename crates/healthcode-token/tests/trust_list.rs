//! The signed trust list: what a verifier downloads and opens with its pinned root key.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::{code_claims, key, trust, NOW};
use healthcode_token::{issue_code, verify_code, KeyId, SignedTrustList, TrustListError, VerifyOptions};

#[test]
fn a_signed_list_round_trips_through_json_and_verifies_tokens() {
    let root = key(100);
    let issuer = key(1);
    let list = trust(&[&issuer, &key(2)]);
    let published = SignedTrustList::sign(&root, &list).to_json();

    let document: serde_json::Value = serde_json::from_str(&published).unwrap();
    assert_eq!(document["root_key_id"], root.key_id().to_string());
    assert!(document["trust_list"].as_str().unwrap().starts_with(r#"{"region":"33","sequence":1,"#));

    let opened = SignedTrustList::from_json(&published).unwrap().open(&root.public()).unwrap();
    assert_eq!(opened, list);
    let token = issue_code(&issuer, &code_claims(NOW));
    assert!(verify_code(&token, &opened, &VerifyOptions::at(NOW)).is_ok());
}

#[test]
fn the_content_hash_follows_the_content_only() {
    let root = key(100);
    let list = trust(&[&key(1)]);
    let signed = SignedTrustList::sign(&root, &list);
    let hash = signed.content_hash();
    assert_eq!(hash.len(), 64);
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_eq!(SignedTrustList::from_json(&signed.to_json()).unwrap().content_hash(), hash);
    let next = healthcode_token::TrustList { sequence: 2, ..list };
    assert_ne!(SignedTrustList::sign(&root, &next).content_hash(), hash);
}

#[test]
fn a_tampered_list_is_refused() {
    let root = key(100);
    let attacker = key(66);
    let published = SignedTrustList::sign(&root, &trust(&[&key(1)])).to_json();

    // Slip the attacker's key in place of the issuer's.
    let original = healthcode_token::TrustedKey::of(&key(1), NOW - 86_400);
    let forged = healthcode_token::TrustedKey::of(&attacker, NOW - 86_400);
    let tampered = published.replace(&original.kid.to_string(), &forged.kid.to_string());
    assert_ne!(tampered, published);
    let err = SignedTrustList::from_json(&tampered).unwrap().open(&root.public()).unwrap_err();
    assert_eq!(err, TrustListError::BadSignature);
    assert!(err.to_string().contains("do not use it"));

    // Change the sequence number only.
    let tampered = published.replace(r#"\"sequence\":1"#, r#"\"sequence\":9"#);
    assert_ne!(tampered, published);
    assert_eq!(SignedTrustList::from_json(&tampered).unwrap().open(&root.public()), Err(TrustListError::BadSignature));
}

#[test]
fn a_list_signed_by_another_root_is_refused() {
    let root = key(100);
    let other_root = key(101);
    let signed = SignedTrustList::sign(&other_root, &trust(&[&key(1)]));
    assert_eq!(
        signed.open(&root.public()),
        Err(TrustListError::WrongRoot { expected: root.key_id(), found: other_root.key_id() })
    );

    // Claiming the pinned root's id does not help: the signature is checked with the pinned key.
    let published = signed.to_json().replace(&other_root.key_id().to_string(), &root.key_id().to_string());
    assert_eq!(SignedTrustList::from_json(&published).unwrap().open(&root.public()), Err(TrustListError::BadSignature));
}

#[test]
fn malformed_documents_are_refused_with_a_reason() {
    let root = key(100);
    for text in ["", "{}", "[1]", r#"{"trust_list":"{}","root_key_id":"zz","signature":""}"#] {
        assert!(matches!(SignedTrustList::from_json(text), Err(TrustListError::Malformed(_))), "{text}");
    }
    let kid = root.key_id();
    let short_signature = format!(r#"{{"trust_list":"{{}}","root_key_id":"{kid}","signature":"AAAA"}}"#);
    assert!(
        matches!(SignedTrustList::from_json(&short_signature), Err(TrustListError::Malformed(m)) if m.contains("64 bytes"))
    );
}

#[test]
fn a_signed_list_with_an_inconsistent_key_id_is_malformed() {
    let root = key(100);
    let mut list = trust(&[&key(1), &key(2)]);
    list.keys[1].kid = list.keys[0].kid;
    let err = SignedTrustList::sign(&root, &list).open(&root.public()).unwrap_err();
    assert!(matches!(&err, TrustListError::Malformed(m) if m.contains("keys[1]")), "{err}");

    let mut list = trust(&[&key(1)]);
    list.keys.push(list.keys[0].clone());
    let err = SignedTrustList::sign(&root, &list).open(&root.public()).unwrap_err();
    assert!(matches!(&err, TrustListError::Malformed(m) if m.contains("appears twice")), "{err}");
}

#[test]
fn key_ids_and_public_keys_are_text_in_json() {
    let list = trust(&[&key(1)]);
    let json = serde_json::to_value(&list).unwrap();
    let entry = &json["keys"][0];
    assert_eq!(entry["kid"], key(1).key_id().to_string());
    assert_eq!(entry["public_key"].as_str().unwrap().len(), 44);
    assert_eq!(entry["not_after"], serde_json::Value::Null);
    let kid: KeyId = serde_json::from_value(entry["kid"].clone()).unwrap();
    assert_eq!(kid, key(1).key_id());
}

#[test]
fn a_small_order_public_key_is_refused_when_the_list_is_opened() {
    // The identity point: every signature would verify under it.
    let mut weak = [0u8; 32];
    weak[0] = 1;
    let root = key(100);
    let mut list = trust(&[&key(1)]);
    list.keys.push(healthcode_token::TrustedKey::new(weak, NOW));
    let err = SignedTrustList::sign(&root, &list).open(&root.public()).unwrap_err();
    assert!(matches!(&err, TrustListError::Malformed(m) if m.contains("keys[1]") && m.contains("usable")), "{err}");
}

#[test]
fn an_older_list_than_one_held_is_refused_so_a_revoked_key_stays_revoked() {
    let root = key(100);
    let issuer = key(1);
    let before = trust(&[&issuer]);
    let mut revoked = healthcode_token::TrustList { sequence: 2, ..before.clone() };
    revoked.keys[0].revoked = true;
    let old = SignedTrustList::sign(&root, &before);
    let new = SignedTrustList::sign(&root, &revoked);
    assert_eq!(new.open_not_older(&root.public(), None).unwrap().sequence, 2);
    assert_eq!(new.open_not_older(&root.public(), Some(2)).unwrap(), revoked, "the same list again");
    assert_eq!(
        old.open_not_older(&root.public(), Some(2)),
        Err(TrustListError::Older { seen: 2, found: 1 }),
        "the replayed list that still trusts the key"
    );
    assert!(old.open(&root.public()).is_ok(), "a verifier that never saw the newer list cannot know");
}
