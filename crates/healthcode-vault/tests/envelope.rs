//! Master keys, wrapping, the keyring and rotation.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use healthcode_vault::{open_str, seal_str, DataKey, Keyring, MasterKey, MasterKeyId, VaultError, WrappedKey};

const AAD: &[u8] = b"person:7:name";

#[test]
fn master_key_text_round_trips_as_hex_and_base64() {
    let key = MasterKey::generate();
    let bytes = key.to_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(MasterKey::from_text(&hex).unwrap().id(), key.id());
    assert_eq!(MasterKey::from_text(&hex.to_uppercase()).unwrap().id(), key.id());
    assert_eq!(MasterKey::from_text(&format!("{}\n", *key.to_text())).unwrap().id(), key.id());
    let unpadded = key.to_text().trim_end_matches('=').to_owned();
    assert_eq!(unpadded.parse::<MasterKey>().unwrap().id(), key.id());
    let url_safe = key.to_text().replace('+', "-").replace('/', "_");
    assert_eq!(MasterKey::from_text(&url_safe).unwrap().id(), key.id());
    assert_eq!(MasterKey::from_bytes(*bytes).id(), key.id());
}

#[test]
fn master_key_text_of_the_wrong_size_is_refused() {
    for text in ["", "abcd", &"0".repeat(63), &"0".repeat(66), "not base64 at all!", "AAAA"] {
        assert!(matches!(MasterKey::from_text(text), Err(VaultError::InvalidKeyText(_))), "{text:?}");
    }
}

#[test]
fn debug_output_never_shows_key_bytes() {
    let key = MasterKey::from_bytes([0xab; 32]);
    let shown = format!("{key:?} {:?} {:?}", DataKey::generate(), Keyring::new(MasterKey::from_bytes([0xab; 32])));
    assert!(!shown.contains("abab"), "{shown}");
    assert!(shown.contains("redacted"));
}

#[test]
fn key_id_is_short_hex_and_depends_on_the_key() {
    let a = MasterKey::from_bytes([1; 32]).id();
    let b = MasterKey::from_bytes([2; 32]).id();
    assert_ne!(a, b);
    assert_eq!(a.to_string().len(), 16);
    assert_eq!(a.to_string().parse::<MasterKeyId>().unwrap(), a);
    assert_eq!(a, MasterKey::from_bytes([1; 32]).id(), "stable across loads");
}

#[test]
fn wrapped_key_round_trips_through_its_column_encoding() {
    let ring = Keyring::new(MasterKey::generate());
    let (key, wrapped) = ring.new_data_key();
    let bytes = wrapped.to_bytes();
    assert_eq!(bytes.len(), 81);
    assert_eq!(bytes[0], 1, "version byte");
    assert_eq!(&bytes[1..9], ring.current_id().as_bytes());
    let back = WrappedKey::from_bytes(&bytes).unwrap();
    assert_eq!(back, wrapped);
    let reopened = ring.unwrap(&back).unwrap();
    let sealed = seal_str(&key, AAD, "张三");
    assert_eq!(open_str(&reopened, AAD, &sealed).unwrap(), "张三");
}

#[test]
fn malformed_and_future_wrapped_keys_are_refused_by_name() {
    let ring = Keyring::new(MasterKey::generate());
    let bytes = ring.new_data_key().1.to_bytes();
    assert!(matches!(WrappedKey::from_bytes(&[]), Err(VaultError::Malformed { .. })));
    assert!(matches!(WrappedKey::from_bytes(&bytes[..40]), Err(VaultError::Malformed { .. })));
    let mut future = bytes.clone();
    future[0] = 2;
    let err = WrappedKey::from_bytes(&future).unwrap_err();
    assert_eq!(err, VaultError::UnsupportedVersion { what: "wrapped key", found: 2, supported: 1 });
    assert!(err.to_string().contains("version 2"));
}

#[test]
fn tampered_wrapped_key_fails_to_unwrap() {
    let ring = Keyring::new(MasterKey::generate());
    let bytes = ring.new_data_key().1.to_bytes();
    for i in 9..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x01;
        let wrapped = WrappedKey::from_bytes(&bad).unwrap();
        assert!(matches!(ring.unwrap(&wrapped), Err(VaultError::Decrypt)), "byte {i}");
    }
}

#[test]
fn a_wrapped_key_relabelled_with_another_known_id_fails() {
    let old = MasterKey::generate();
    let mut ring = Keyring::new(old);
    let (_, wrapped) = ring.new_data_key();
    ring.rotate(MasterKey::generate());
    let relabelled = WrappedKey { master_key_id: ring.current_id(), ciphertext: wrapped.ciphertext.clone() };
    assert!(matches!(ring.unwrap(&relabelled), Err(VaultError::Decrypt)));
}

#[test]
fn unknown_master_key_names_the_id_and_the_likely_cause() {
    let (_, wrapped) = Keyring::new(MasterKey::generate()).new_data_key();
    let other = Keyring::new(MasterKey::generate());
    let err = other.unwrap(&wrapped).unwrap_err();
    assert_eq!(err, VaultError::UnknownMasterKey(wrapped.master_key_id));
    let message = err.to_string();
    assert!(message.contains(&wrapped.master_key_id.to_string()), "{message}");
    assert!(message.contains("master key file"), "{message}");
}

#[test]
fn rotation_keeps_every_row_readable_then_migrates_and_retires() {
    let mut ring = Keyring::new(MasterKey::generate());
    let old_id = ring.current_id();
    let people: Vec<(Vec<u8>, WrappedKey)> = (0..20)
        .map(|i| {
            let (key, wrapped) = ring.new_data_key();
            (seal_str(&key, format!("person:{i}:name").as_bytes(), &format!("居民{i}")), wrapped)
        })
        .collect();

    ring.rotate(MasterKey::generate());
    let new_id = ring.current_id();
    assert_ne!(old_id, new_id);
    assert_eq!(ring.ids(), vec![new_id, old_id]);
    assert!(matches!(ring.retire(new_id), Err(VaultError::RetireCurrent(_))));

    // Readable during the migration, whichever key wraps the row.
    let mut rows: Vec<(Vec<u8>, WrappedKey)> = people;
    for batch in rows.chunks_mut(7) {
        for (_, wrapped) in batch.iter_mut() {
            if let Some(new) = ring.rewrap(wrapped).unwrap() {
                assert_eq!(new.master_key_id, new_id);
                *wrapped = new;
            }
        }
    }
    assert!(rows.iter().all(|(_, w)| ring.rewrap(w).unwrap().is_none()), "second pass finds nothing to do");

    ring.retire(old_id).unwrap();
    assert_eq!(ring.ids(), vec![new_id]);
    for (i, (sealed, wrapped)) in rows.iter().enumerate() {
        let key = ring.unwrap(wrapped).unwrap();
        assert_eq!(open_str(&key, format!("person:{i}:name").as_bytes(), sealed).unwrap(), format!("居民{i}"));
    }
}

#[test]
fn an_older_key_loaded_at_start_unwraps_but_does_not_wrap() {
    let old_bytes = [9u8; 32];
    let (key, wrapped) = Keyring::new(MasterKey::from_bytes(old_bytes)).new_data_key();
    let mut ring = Keyring::new(MasterKey::generate());
    ring.add_older(MasterKey::from_bytes(old_bytes));
    ring.add_older(MasterKey::from_bytes(old_bytes));
    assert_eq!(ring.ids().len(), 2, "a key loaded twice is held once");
    let sealed = seal_str(&key, AAD, "李四");
    assert_eq!(open_str(&ring.unwrap(&wrapped).unwrap(), AAD, &sealed).unwrap(), "李四");
    assert_eq!(ring.wrap(&DataKey::generate()).master_key_id, ring.current_id());
}
