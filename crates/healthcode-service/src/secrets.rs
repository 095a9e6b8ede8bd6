//! Keys handed to venues and devices: random, shown once, stored only as a hash.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new key with a short prefix saying what it is for (`hcv_` venue operator, `hcd_`
/// device), and the hash under which it is stored.
pub(crate) fn new_key(prefix: &str) -> (String, String) {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = format!("{prefix}{}", hex(&bytes));
    let hash = key_hash(&key);
    (key, hash)
}

/// The stored form of a key. The keys are 192 random bits, so a plain hash is enough:
/// there is nothing to guess (passwords, by contrast, need a slow hash).
pub(crate) fn key_hash(key: &str) -> String {
    hex(&Sha256::digest(key.trim().as_bytes()))
}

/// A new random id with a prefix (`v` venue, `d` device).
pub(crate) fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", hex(&bytes))
}

/// Lower-case hex. Digit by digit: a `format!` per byte was a fiftieth of a bulk
/// re-evaluation (every colour change digests its evidence).
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Bytes from lower-case (or upper-case) hex; `None` if it is not hex.
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lower_case_two_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn keys_are_prefixed_random_and_stored_as_their_hash() {
        let (a, hash_a) = new_key("hcd_");
        let (b, _) = new_key("hcd_");
        assert!(a.starts_with("hcd_") && a.len() == 4 + 48);
        assert_ne!(a, b);
        assert_eq!(key_hash(&a), hash_a);
        assert!(!hash_a.contains(&a[4..]));
    }
}
