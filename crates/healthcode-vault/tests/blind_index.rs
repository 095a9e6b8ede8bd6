// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use healthcode_vault::blind_index;

const KEY: [u8; 32] = [7; 32];

#[test]
fn equal_inputs_give_equal_tokens_and_nothing_of_the_value() {
    let a = blind_index(&KEY, "phone", "13800138000");
    assert_eq!(a, blind_index(&KEY, "phone", "13800138000"));
    assert_eq!(a.len(), 64);
    assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(!a.contains("13800138000") && !a.contains("138001"));
}

#[test]
fn purpose_key_and_value_all_separate_tokens() {
    let base = blind_index(&KEY, "phone", "13800138000");
    assert_ne!(base, blind_index(&KEY, "phone", "13800138001"));
    assert_ne!(base, blind_index(&KEY, "id_number", "13800138000"));
    assert_ne!(base, blind_index(&[8; 32], "phone", "13800138000"));
    // Without the length prefix these two would hash the same bytes.
    assert_ne!(blind_index(&KEY, "ab", "c"), blind_index(&KEY, "a", "bc"));
}
