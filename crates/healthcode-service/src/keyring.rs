//! The region's signing keys: the one that signs now, those retired but still vouched for
//! until their last token expires, and the root key that signs the trust list.
//! Persisting the ring (a file kept apart from the database) is the caller's.

use healthcode_token::{KeyId, SignedTrustList, SigningKey, TrustList, TrustedKey, DEFAULT_CLOCK_SKEW_SECS};
use serde::{Deserialize, Serialize};

/// The longest a token signed by a key can outlive the key's retirement: a resident code's
/// lifetime or a venue code's window, whichever is longer, and the verifiers' skew.
pub const RETIRED_KEY_GRACE_SECS: i64 = healthcode_token::DEFAULT_CODE_LIFETIME_SECS + DEFAULT_CLOCK_SKEW_SECS;

/// How long one venue code stays valid: short, so that a photo forwarded elsewhere (the
/// Zhengzhou remote scans) stops working within minutes.
pub const VENUE_WINDOW_SECS: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error("the key file is not a healthcode key ring: {0}")]
    Malformed(String),
    #[error("no key with id {0} in the key ring")]
    UnknownKey(String),
    #[error("the key ring has no key in service; run `healthcode keys rotate`")]
    NoActiveKey,
    #[error(
        "key {kid} cannot have been compromised at {since} (unix seconds), after now ({now}); give the time from which \
         the key was no longer yours alone, at the latest now"
    )]
    CompromiseInFuture { kid: String, since: i64, now: i64 },
    #[error(
        "key {kid} is already revoked {held}; a revocation is never narrowed (other regions have already withdrawn \
         what it signed since), so give an earlier time, or none to refuse everything it signed"
    )]
    Narrowed { kid: String, held: String },
}

#[derive(Clone)]
pub struct ManagedKey {
    pub key: SigningKey,
    /// Unix seconds.
    pub not_before: i64,
    pub retired_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// With `revoked_at`: from when the key was no longer this region's alone (stolen).
    /// What it signed before, as dated by someone else (the hub's time of a national
    /// record), still holds; `None`: nothing it signed does.
    pub compromised_since: Option<i64>,
}

/// Signing keys of one region. `Debug` shows key ids only.
#[derive(Clone)]
pub struct KeyRing {
    region: String,
    root: SigningKey,
    keys: Vec<ManagedKey>,
    /// The number of the last published list, raised by every change: verifiers refuse a
    /// list older than one they hold, so two changes within one second must still give
    /// two numbers.
    sequence: u64,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self.keys.iter().map(|k| k.key.key_id().to_string()).collect();
        f.debug_struct("KeyRing").field("region", &self.region).field("keys", &ids).finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyRingFile {
    region: String,
    /// Hex seeds: this file is a secret, kept outside the database with mode 0600.
    root_seed: String,
    keys: Vec<KeyFile>,
    /// Absent in rings written before it was kept: the time of the last change then.
    #[serde(default)]
    sequence: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    seed: String,
    not_before: i64,
    retired_at: Option<i64>,
    revoked_at: Option<i64>,
    /// Absent in rings written before it was kept, and when the key was revoked wholly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    compromised_since: Option<i64>,
}

impl KeyRing {
    /// A new ring with a fresh root key and one signing key in service from `now`.
    pub fn generate(region: &str, now: i64) -> KeyRing {
        let mut rng = rand::rngs::OsRng;
        KeyRing {
            region: region.to_string(),
            root: SigningKey::generate(&mut rng),
            keys: vec![ManagedKey {
                key: SigningKey::generate(&mut rng),
                not_before: now,
                retired_at: None,
                revoked_at: None,
                compromised_since: None,
            }],
            sequence: now.max(0) as u64,
        }
    }

    /// Every change publishes a list numbered above every earlier one (`before`, the number
    /// published before the change): its time, or one more if that is not higher.
    fn changed(&mut self, before: u64, now: i64) {
        self.sequence = before.saturating_add(1).max(now.max(0) as u64);
    }

    /// The last change's time, or the kept number if higher (two changes in one second).
    fn published_sequence(&self) -> u64 {
        let changed = self.keys.iter().flat_map(|k| [Some(k.not_before), k.retired_at, k.revoked_at]).flatten().max();
        self.sequence.max(changed.unwrap_or(0).max(0) as u64)
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// The key that signs new tokens: the newest one neither retired nor revoked.
    pub fn signing_key(&self) -> Result<&SigningKey, KeyRingError> {
        self.signing().map(|k| &k.key)
    }

    /// As `signing_key`, with when it came into service (a token it signs must not say it
    /// was issued before).
    pub fn signing(&self) -> Result<&ManagedKey, KeyRingError> {
        self.keys
            .iter()
            .rev()
            .find(|k| k.retired_at.is_none() && k.revoked_at.is_none())
            .ok_or(KeyRingError::NoActiveKey)
    }

    pub fn keys(&self) -> &[ManagedKey] {
        &self.keys
    }

    pub fn root_public(&self) -> [u8; 32] {
        self.root.public()
    }

    /// Retires the key in service and puts a new one in service from `now`. Returns the
    /// new key's id.
    pub fn rotate(&mut self, now: i64) -> KeyId {
        let before = self.published_sequence();
        for k in self.keys.iter_mut().filter(|k| k.retired_at.is_none()) {
            k.retired_at = Some(now);
        }
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let id = key.key_id();
        self.keys.push(ManagedKey {
            key,
            not_before: now,
            retired_at: None,
            revoked_at: None,
            compromised_since: None,
        });
        self.changed(before, now);
        id
    }

    /// Revokes a key: every token it ever signed is refused from now on.
    pub fn revoke(&mut self, kid: &str, now: i64) -> Result<(), KeyRingError> {
        self.revoke_compromised(kid, now, None)
    }

    /// Revokes a key that was stolen at `since` (unix seconds; `None`: unknown, so nothing
    /// it signed is trusted). Codes it signed are refused whatever `since` says (a code
    /// dates itself, and a thief backdates); national records it signed are refused from
    /// `since` on, by the hub's time, and other regions withdraw those they took in. A key
    /// revoked already can only be revoked further back, never narrowed: other regions
    /// may have withdrawn records on the strength of the earlier revocation.
    pub fn revoke_compromised(&mut self, kid: &str, now: i64, since: Option<i64>) -> Result<(), KeyRingError> {
        let before = self.published_sequence();
        let key = self
            .keys
            .iter_mut()
            .find(|k| k.key.key_id().to_string() == kid)
            .ok_or_else(|| KeyRingError::UnknownKey(kid.to_string()))?;
        if let Some(since) = since.filter(|&since| since > now) {
            return Err(KeyRingError::CompromiseInFuture { kid: kid.to_string(), since, now });
        }
        if key.revoked_at.is_some() {
            let narrowed = match (key.compromised_since, since) {
                (None, Some(_)) => Some("for everything it signed".to_string()),
                (Some(held), Some(since)) if since > held => Some(format!("from {held} (unix seconds)")),
                _ => None,
            };
            if let Some(held) = narrowed {
                return Err(KeyRingError::Narrowed { kid: kid.to_string(), held });
            }
        }
        key.revoked_at.get_or_insert(now);
        key.retired_at.get_or_insert(now);
        key.compromised_since = since;
        self.changed(before, now);
        Ok(())
    }

    /// The keys verifiers must know at `now`: every key in service, every retired key whose
    /// tokens may still be valid, and every revoked key (so that its tokens are refused as
    /// revoked rather than unknown) until its tokens would have expired anyway.
    pub fn trust_list(&self) -> TrustList {
        let keys: Vec<TrustedKey> = self
            .keys
            .iter()
            .map(|k| {
                let mut trusted = TrustedKey::of(&k.key, k.not_before);
                trusted.not_after = k.retired_at;
                trusted.revoked = k.revoked_at.is_some();
                trusted.revoked_from = k.revoked_at.and(k.compromised_since);
                trusted
            })
            .collect();
        // The list changes only when a key is added, retired or revoked: that time (or the
        // kept number, above it after two changes in a second) is its sequence, so the same
        // ring always publishes the same bytes (and the same hash).
        let changed = self.keys.iter().flat_map(|k| [Some(k.not_before), k.retired_at, k.revoked_at]).flatten().max();
        TrustList {
            region: self.region.clone(),
            sequence: self.published_sequence(),
            issued_at: changed.unwrap_or(0),
            keys,
        }
    }

    /// Drops retired keys whose every token has expired (retired more than the grace ago):
    /// they are no longer needed by anyone. A revoked key stays listed, as revoked: a list
    /// without it would say nothing of what it signed, and a region that missed the list
    /// that revoked it (its sync was down meanwhile) would never learn to withdraw it.
    pub fn prune(&mut self, now: i64) -> usize {
        let before = self.keys.len();
        let published = self.published_sequence();
        self.keys.retain(|k| k.revoked_at.is_some() || k.retired_at.is_none_or(|r| r + RETIRED_KEY_GRACE_SECS > now));
        let pruned = before - self.keys.len();
        if pruned > 0 {
            // Dropping keys must not lower the number either.
            self.changed(published, now);
        }
        pruned
    }

    pub fn signed_trust_list(&self) -> SignedTrustList {
        SignedTrustList::sign(&self.root, &self.trust_list())
    }

    pub fn to_json(&self) -> String {
        let file = KeyRingFile {
            region: self.region.clone(),
            root_seed: crate::secrets::hex(&self.root.seed()),
            keys: self
                .keys
                .iter()
                .map(|k| KeyFile {
                    seed: crate::secrets::hex(&k.key.seed()),
                    not_before: k.not_before,
                    retired_at: k.retired_at,
                    revoked_at: k.revoked_at,
                    compromised_since: k.compromised_since,
                })
                .collect(),
            sequence: self.sequence,
        };
        serde_json::to_string_pretty(&file).expect("a key ring serialises")
    }

    pub fn from_json(text: &str) -> Result<KeyRing, KeyRingError> {
        let file: KeyRingFile = serde_json::from_str(text).map_err(|e| KeyRingError::Malformed(e.to_string()))?;
        let keys = file
            .keys
            .into_iter()
            .map(|k| {
                Ok(ManagedKey {
                    key: SigningKey::from_seed(seed(&k.seed)?),
                    not_before: k.not_before,
                    retired_at: k.retired_at,
                    revoked_at: k.revoked_at,
                    compromised_since: k.compromised_since,
                })
            })
            .collect::<Result<Vec<_>, KeyRingError>>()?;
        Ok(KeyRing {
            region: file.region,
            root: SigningKey::from_seed(seed(&file.root_seed)?),
            keys,
            sequence: file.sequence,
        })
    }
}

fn seed(hex: &str) -> Result<[u8; 32], KeyRingError> {
    let bad = || KeyRingError::Malformed("a seed is not 64 hexadecimal digits".into());
    if hex.len() != 64 {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_round_trips_and_its_debug_shows_no_secret() {
        let ring = KeyRing::generate("33", 1_000);
        let again = KeyRing::from_json(&ring.to_json()).unwrap();
        assert_eq!(again.trust_list(), ring.trust_list());
        assert_eq!(again.root_public(), ring.root_public());
        let seed = crate::secrets::hex(&ring.signing_key().unwrap().seed());
        assert!(!format!("{ring:?}").contains(&seed));
        assert!(KeyRing::from_json("{}").is_err());
    }

    #[test]
    fn rotation_keeps_the_old_key_listed_until_its_tokens_expire() {
        let mut ring = KeyRing::generate("33", 1_000);
        let old = ring.signing_key().unwrap().key_id();
        let new = ring.rotate(2_000);
        assert_ne!(old, new);
        assert_eq!(ring.signing_key().unwrap().key_id(), new);
        let list = ring.trust_list();
        let listed_old = list.keys.iter().find(|k| k.kid == old).unwrap();
        assert_eq!(listed_old.not_after, Some(2_000));
        assert_eq!(list.sequence, 2_000);
        assert_eq!(ring.prune(2_000 + RETIRED_KEY_GRACE_SECS - 1), 0, "still needed");
        assert_eq!(ring.prune(2_000 + RETIRED_KEY_GRACE_SECS), 1, "no token of it can be valid any more");
    }

    #[test]
    fn every_change_publishes_a_higher_number_even_within_one_second() {
        let mut ring = KeyRing::generate("33", 1_000);
        let first = ring.trust_list().sequence;
        ring.rotate(1_000);
        let rotated = ring.trust_list().sequence;
        let kid = ring.signing_key().unwrap().key_id().to_string();
        ring.revoke(&kid, 1_000).unwrap();
        let revoked = ring.trust_list().sequence;
        assert!(first < rotated && rotated < revoked, "{first} {rotated} {revoked}");
        let again = KeyRing::from_json(&ring.to_json()).unwrap();
        assert_eq!(again.trust_list(), ring.trust_list(), "the number is kept in the file");
        ring.prune(1_000 + RETIRED_KEY_GRACE_SECS);
        assert!(ring.trust_list().sequence > revoked, "pruning raises it too");
    }

    #[test]
    fn revocation_is_listed_and_leaves_no_key_in_service_if_it_was_the_only_one() {
        let mut ring = KeyRing::generate("33", 1_000);
        let kid = ring.signing_key().unwrap().key_id().to_string();
        ring.revoke(&kid, 1_500).unwrap();
        assert!(ring.trust_list().keys[0].revoked);
        assert!(matches!(ring.signing_key(), Err(KeyRingError::NoActiveKey)));
        assert!(ring.revoke("0000000000000000", 1_600).is_err());
    }

    #[test]
    fn a_stolen_key_is_listed_revoked_from_its_compromise_and_the_revocation_only_ever_widens() {
        let mut ring = KeyRing::generate("41", 1_000);
        let kid = ring.signing_key().unwrap().key_id().to_string();
        ring.rotate(1_500);
        assert!(matches!(
            ring.revoke_compromised(&kid, 2_000, Some(2_001)),
            Err(KeyRingError::CompromiseInFuture { .. })
        ));
        ring.revoke_compromised(&kid, 2_000, Some(1_200)).unwrap();
        let listed = ring.trust_list().keys.into_iter().find(|k| k.kid.to_string() == kid).unwrap();
        assert!(listed.revoked);
        assert_eq!(listed.revoked_from, Some(1_200));
        let again = KeyRing::from_json(&ring.to_json()).unwrap();
        assert_eq!(again.trust_list(), ring.trust_list(), "the compromise time is kept in the file");

        assert!(matches!(ring.revoke_compromised(&kid, 2_100, Some(1_300)), Err(KeyRingError::Narrowed { .. })));
        ring.revoke_compromised(&kid, 2_100, Some(1_100)).unwrap();
        ring.revoke(&kid, 2_200).unwrap();
        let listed = ring.trust_list().keys.into_iter().find(|k| k.kid.to_string() == kid).unwrap();
        assert_eq!(listed.revoked_from, None, "widened to everything it signed");
        assert!(matches!(ring.revoke_compromised(&kid, 2_300, Some(1_000)), Err(KeyRingError::Narrowed { .. })));

        // Long after, pruning keeps it listed: a region that missed its revocation learns it.
        assert_eq!(ring.prune(10_000), 0);
        assert!(ring.trust_list().keys.iter().any(|k| k.kid.to_string() == kid && k.revoked));
    }
}
