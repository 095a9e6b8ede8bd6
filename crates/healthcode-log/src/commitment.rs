//! The pseudonymous reference to a person in a colour-change entry.

use sha2::{Digest, Sha256};

use crate::hash::hex;

const DOMAIN: &[u8] = b"healthcode/log/person-commitment/v1\0";

/// Hex SHA-256 of `DOMAIN || salt || len(person_id) as u64 BE || person_id ||
/// change_seq as u64 BE`, where `DOMAIN` is `healthcode/log/person-commitment/v1\0`.
///
/// `salt` is a per-person secret given to the resident (and kept by the service, never
/// published); `change_seq` numbers that person's colour changes from 0. A resident who
/// knows their salt recomputes the commitment of each of their changes and finds them in
/// the log. Without the salt, a commitment reveals nothing about the person, and because
/// every change has its own sequence number, two changes of one person look unrelated:
/// the log shows how many codes turned red, not whose, nor whose turned red twice.
/// The length prefix keeps `("ab", …)` and `("a", …)` encodings from ever colliding.
pub fn person_commitment(salt: &[u8; 32], person_id: &str, change_seq: u64) -> String {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(salt);
    h.update((person_id.len() as u64).to_be_bytes());
    h.update(person_id.as_bytes());
    h.update(change_seq.to_be_bytes());
    hex(&h.finalize())
}
