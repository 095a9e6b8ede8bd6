//! Sealed fields: round trips, binding to their place, formats, and crypto-shredding.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use healthcode_vault::{field_aad, open, open_str, seal, seal_str, DataKey, Keyring, MasterKey, VaultError};
use proptest::prelude::*;

#[test]
fn round_trip_of_text_and_bytes() {
    let key = DataKey::generate();
    let aad = field_aad("p-1", "name");
    assert_eq!(open_str(&key, &aad, &seal_str(&key, &aad, "王小明")).unwrap(), "王小明");
    assert_eq!(open(&key, &aad, &seal(&key, &aad, b"")).unwrap(), b"");
}

#[test]
fn sealed_format_is_version_nonce_ciphertext_tag() {
    let key = DataKey::generate();
    let sealed = seal_str(&key, b"x", "13800138000");
    assert_eq!(sealed[0], 1);
    assert_eq!(sealed.len(), 1 + 24 + 11 + 16);
    assert_ne!(seal_str(&key, b"x", "13800138000"), sealed, "fresh random nonce each time");
}

#[test]
fn a_value_moved_to_another_row_or_field_does_not_open() {
    let key = DataKey::generate();
    let sealed = seal_str(&key, &field_aad("p-1", "name"), "张三");
    assert_eq!(open_str(&key, &field_aad("p-1", "phone"), &sealed), Err(VaultError::Decrypt));
    assert_eq!(open_str(&key, &field_aad("p-2", "name"), &sealed), Err(VaultError::Decrypt));
    assert_eq!(open_str(&key, b"person:p-1:name", &sealed), Err(VaultError::Decrypt), "the helper's form only");
    // The right key at the right place still opens it.
    assert_eq!(open_str(&key, &field_aad("p-1", "name"), &sealed).unwrap(), "张三");
}

#[test]
fn field_aad_cannot_be_made_ambiguous_by_colons() {
    assert_ne!(field_aad("a:b", "c"), field_aad("a", "b:c"));
}

#[test]
fn tampering_anywhere_fails_and_bad_shapes_are_named() {
    let key = DataKey::generate();
    let sealed = seal_str(&key, b"aad", "330106199001011234");
    for i in 1..sealed.len() {
        let mut bad = sealed.clone();
        bad[i] ^= 0x80;
        assert_eq!(open(&key, b"aad", &bad), Err(VaultError::Decrypt), "byte {i}");
    }
    assert!(matches!(open(&key, b"aad", &[]), Err(VaultError::Malformed { .. })));
    assert!(matches!(open(&key, b"aad", &sealed[..30]), Err(VaultError::Malformed { .. })));
    let mut future = sealed.clone();
    future[0] = 7;
    assert!(matches!(open(&key, b"aad", &future), Err(VaultError::UnsupportedVersion { found: 7, .. })));
}

#[test]
fn bytes_sealed_with_seal_but_not_utf8_are_reported_by_open_str() {
    let key = DataKey::generate();
    let sealed = seal(&key, b"a", &[0xff, 0xfe]);
    assert!(matches!(open_str(&key, b"a", &sealed), Err(VaultError::Malformed { .. })));
}

/// Crypto-shredding: `healthcode destroy` deletes the wrapped key; no key that can be made afterwards opens the
/// person's fields, and the stored bytes hold no trace of the plaintext.
#[test]
fn after_shredding_no_other_key_opens_the_fields() {
    let ring = Keyring::new(MasterKey::generate());
    let (key_a, wrapped_a) = ring.new_data_key();
    let fields =
        [("name", "Zhang San"), ("name_zh", "张三丰"), ("id_number", "33010619900101123X"), ("phone", "13800138000")];
    let sealed: Vec<(String, Vec<u8>)> =
        fields.iter().map(|(f, v)| (f.to_string(), seal_str(&key_a, &field_aad("p-9", f), v))).collect();
    drop(key_a);
    drop(wrapped_a); // the destroy step: the only copy of the wrapped key is gone

    let key_b = DataKey::generate();
    let (key_c, _) = ring.new_data_key();
    for (field, bytes) in &sealed {
        assert_eq!(open(&key_b, &field_aad("p-9", field), bytes), Err(VaultError::Decrypt));
        assert_eq!(open(&key_c, &field_aad("p-9", field), bytes), Err(VaultError::Decrypt));
    }
    for ((_, plain), (_, bytes)) in fields.iter().zip(&sealed) {
        assert_no_trace(plain, bytes);
    }
}

fn assert_no_trace(plain: &str, bytes: &[u8]) {
    let plain = plain.as_bytes();
    // Any 6-byte window: two CJK characters in UTF-8, or six digits of an ID or phone number. (Shorter windows
    // would match random ciphertext bytes by chance often enough to make the test flaky.)
    for window in plain.windows(6) {
        assert!(!bytes.windows(6).any(|w| w == window), "{:?} found in sealed bytes", String::from_utf8_lossy(window));
    }
}

proptest! {
    #[test]
    fn any_text_round_trips_and_leaves_no_plaintext(text in "[\\u4e00-\\u9fa5a-zA-Z0-9 ]{6,24}", aad in any::<Vec<u8>>()) {
        let key = DataKey::generate();
        let sealed = seal_str(&key, &aad, &text);
        prop_assert_eq!(open_str(&key, &aad, &sealed).unwrap(), text.clone());
        prop_assert_eq!(open_str(&DataKey::generate(), &aad, &sealed), Err(VaultError::Decrypt));
        // Whole plaintext never appears; short windows can collide with random bytes by chance, so only the whole.
        prop_assert!(!sealed.windows(text.len()).any(|w| w == text.as_bytes()));
    }
}
