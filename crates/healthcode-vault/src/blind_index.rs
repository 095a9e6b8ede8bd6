use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::hex;

const DOMAIN: &[u8] = b"healthcode-vault/blind-index/v1";

/// A lookup token for `value` that the database can hold instead of the value: HMAC-SHA256 under `index_key`,
/// domain-separated by `purpose` (e.g. `"phone"`), as 64 hex digits. Equal inputs give equal tokens, so "who has
/// this phone number" is an indexed equality search.
///
/// Normalise `value` first (one phone format, upper-case ID check letters): the index matches bytes, not meaning.
///
/// The index key must live outside the database like the master key, and be a different key. Phone and ID numbers
/// have so few possibilities that anyone holding the index key can recover them by trying all; and a person's
/// blind indexes must be deleted along with their wrapped key when they are destroyed.
pub fn blind_index(index_key: &[u8; 32], purpose: &str, value: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(index_key).expect("HMAC accepts keys of any length");
    mac.update(DOMAIN);
    mac.update(&[0]);
    // Length prefix: ("ab", "c") and ("a", "bc") must not collide.
    mac.update(&(purpose.len() as u64).to_be_bytes());
    mac.update(purpose.as_bytes());
    mac.update(value.as_bytes());
    hex::encode(&mac.finalize().into_bytes())
}
