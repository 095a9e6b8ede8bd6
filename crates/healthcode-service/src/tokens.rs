//! Signed codes: a resident's code (refreshed every few minutes), a venue's rotating code,
//! and their verification at doors and gates.

use std::sync::{Arc, RwLock};

use healthcode_domain::{Colour, PersonId, PersonKind, Timestamp};
use healthcode_store::{CodeStore, VenueRecord};
use healthcode_token::{
    issue_code, issue_venue, venue_window, CodeClaims, VenueClaims, Verifier, VerifyError, VerifyOptions,
    DEFAULT_CODE_LIFETIME_SECS,
};
use serde::Serialize;

use crate::accesses::Accesses;
use crate::code_cards::CodeFace;
use crate::keyring::{KeyRing, VENUE_WINDOW_SECS};
use crate::Clock;
use crate::{Codes, Residents, ServiceError};

/// A freshly signed resident code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuedCode {
    pub token: String,
    pub colour: Colour,
    pub kind: PersonKind,
    pub masked_name: String,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub key_id: String,
}

/// A venue's code for the current window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuedVenueCode {
    pub token: String,
    pub venue: String,
    pub window_start: Timestamp,
    pub window_end: Timestamp,
}

/// What a verifier learns from a valid resident code: no more than the code shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifiedCode {
    pub issuer: String,
    pub colour: Colour,
    pub kind: PersonKind,
    pub masked_name: String,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

/// The code-signing key ring and the verifier of its trust list (its public keys read
/// once), replaced together after a rotation or revocation. Shared by every capability
/// that signs or checks codes.
pub(crate) struct SigningKeys(RwLock<(Arc<KeyRing>, Arc<Verifier>)>);

impl SigningKeys {
    pub(crate) fn new(ring: KeyRing) -> Self {
        SigningKeys(RwLock::new(prepared(ring)))
    }

    pub(crate) fn ring(&self) -> Arc<KeyRing> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).0.clone()
    }

    pub(crate) fn verifier(&self) -> Arc<Verifier> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).1.clone()
    }

    pub(crate) fn replace(&self, ring: KeyRing) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = prepared(ring);
    }
}

fn prepared(ring: KeyRing) -> (Arc<KeyRing>, Arc<Verifier>) {
    let verifier = Verifier::new(ring.trust_list());
    (Arc::new(ring), Arc::new(verifier))
}

pub(crate) fn secs(t: Timestamp) -> i64 {
    t.as_millis().div_euclid(1000)
}

pub(crate) fn from_secs(s: i64) -> Timestamp {
    Timestamp::from_millis(s.saturating_mul(1000))
}

impl From<CodeClaims> for VerifiedCode {
    fn from(c: CodeClaims) -> Self {
        VerifiedCode {
            issuer: c.issuer,
            colour: c.colour,
            kind: c.kind,
            masked_name: c.display_name,
            issued_at: from_secs(c.issued_at),
            expires_at: from_secs(c.expires_at),
        }
    }
}

/// Signed codes: the resident's code for the holder of a resident key, the venue's
/// rotating code, and their verification against the trust list. Holds the key ring, the
/// code store (a code card in one read), the evaluator (a stale code is brought up to
/// date first), residents (profiles, proxies' keys), the resident key cache, the access
/// log, the clock and the batcher of verifications.
pub struct Tokens {
    pub(crate) keys: Arc<SigningKeys>,
    /// Other regions' keys and the agreements (path 1 of the national exchange).
    pub(crate) national: Arc<crate::national::NationalTrust>,
    pub(crate) code_store: Arc<dyn CodeStore>,
    pub(crate) codes: Arc<Codes>,
    pub(crate) residents: Arc<Residents>,
    pub(crate) resident_keys: Arc<crate::residents::ResidentKeyCache>,
    pub(crate) code_cards: Arc<crate::code_cards::CodeCardCache>,
    pub(crate) accesses: Arc<Accesses>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) verify_batcher: crate::verify_batch::VerifyBatcher,
}

impl Tokens {
    pub fn key_ring(&self) -> Arc<KeyRing> {
        self.keys.ring()
    }

    /// The verifier for the ring's trust list, with its public keys read once.
    pub(crate) fn verifier(&self) -> Arc<Verifier> {
        self.keys.verifier()
    }

    /// Replaces the key ring (after a rotation or revocation).
    pub fn set_key_ring(&self, ring: KeyRing) {
        self.keys.replace(ring);
    }

    pub(crate) fn verify_options(&self) -> VerifyOptions {
        let mut options = VerifyOptions::at(secs(self.clock.now()));
        options.expected_region = Some(self.key_ring().region().to_string());
        options
    }

    /// Signs the person's current code (kept current first) for the next few minutes.
    pub async fn issue_code_token(&self, person: &PersonId) -> Result<IssuedCode, ServiceError> {
        if let Some(face) = self.code_cards.get(person) {
            if !self.codes.is_stale_at(face.next_change, &face.rules_version) {
                return self.sign_face(&face);
            }
        }
        let generation = self.code_cards.generation();
        let (code, kind, profile) = self.code_and_profile(person).await?;
        self.sign_and_keep(generation, code, kind, profile)
    }

    /// How many code cards are kept for signing (`CODE_CARD_CACHE_MAX` unless set; 0: every
    /// code is read from the store).
    pub fn set_code_card_cache_size(&self, cards: usize) {
        self.code_cards.set_capacity(cards);
    }

    /// Signs a code read from the store at `generation`, and keeps its card for the next.
    fn sign_and_keep(
        &self,
        generation: u64,
        code: healthcode_store::CodeState,
        kind: PersonKind,
        profile: healthcode_store::PersonProfile,
    ) -> Result<IssuedCode, ServiceError> {
        let face = CodeFace {
            colour: code.colour,
            kind,
            code_id: profile.code_id,
            masked_name: profile.masked_name.unwrap_or_default(),
            next_change: code.next_change,
            rules_version: code.rules_version,
        };
        self.code_cards.put(generation, &code.person, face.clone());
        self.sign_face(&face)
    }

    /// The person's code for the holder of a resident key: the person, or a proxy (whose
    /// read goes into the person's access log). The key's owner and the code are read
    /// from the store together when the key is not already known.
    pub async fn issue_code_token_for(&self, key: &str, person: &PersonId) -> Result<IssuedCode, ServiceError> {
        let hash = crate::secrets::key_hash(key);
        let cached = self.resident_keys.get(&hash);
        if cached.as_ref().map(|holder| &holder.person) == Some(person) {
            return self.issue_code_token(person).await;
        }
        if cached.is_none() {
            let generation = self.code_cards.generation();
            let (card, owner) = self.code_store.code_card_with_key(person, &hash).await?;
            let owner = owner.ok_or_else(|| {
                ServiceError::Unauthorised(
                    "unknown resident key; a lost key is replaced at a community service point".into(),
                )
            })?;
            let holder = crate::residents::KeyHolder::of(&owner);
            self.resident_keys.put(hash, holder);
            if &owner.person == person {
                let card = card.ok_or_else(|| ServiceError::UnknownPerson(person.clone()))?;
                let (code, kind, profile) = self.complete_card(person, card).await?;
                return self.sign_and_keep(generation, code, kind, profile);
            }
        }
        // Someone else's key: a proxy's, or refused.
        let reader = self.residents.reader_for_resident(key, person).await?;
        self.accesses.record(person, &reader, "code").await?;
        self.issue_code_token(person).await
    }

    fn sign_face(&self, face: &CodeFace) -> Result<IssuedCode, ServiceError> {
        let ring = self.key_ring();
        let key = ring.signing_key().map_err(|e| ServiceError::Keys(e.to_string()))?;
        let issued_at = secs(self.clock.now());
        let claims = CodeClaims {
            issuer: ring.region().to_string(),
            code_id: face.code_id.clone(),
            colour: face.colour,
            kind: face.kind,
            display_name: face.masked_name.clone(),
            issued_at,
            expires_at: issued_at + DEFAULT_CODE_LIFETIME_SECS,
        };
        Ok(IssuedCode {
            token: issue_code(key, &claims),
            colour: face.colour,
            kind: face.kind,
            masked_name: claims.display_name,
            issued_at: from_secs(issued_at),
            expires_at: from_secs(claims.expires_at),
            key_id: key.key_id().to_string(),
        })
    }

    /// The person's current code, kind and profile, in one read when the stored code is
    /// current and the profile exists (the usual case); otherwise brought up to date.
    pub(crate) async fn code_and_profile(
        &self,
        person: &PersonId,
    ) -> Result<(healthcode_store::CodeState, PersonKind, healthcode_store::PersonProfile), ServiceError> {
        let card =
            self.code_store.code_card(person).await?.ok_or_else(|| ServiceError::UnknownPerson(person.clone()))?;
        self.complete_card(person, card).await
    }

    /// A code card read from the store, brought up to date where it is not.
    async fn complete_card(
        &self,
        person: &PersonId,
        card: healthcode_store::CodeCard,
    ) -> Result<(healthcode_store::CodeState, PersonKind, healthcode_store::PersonProfile), ServiceError> {
        let kind = card.record.kind;
        let code = match card.code.filter(|c| !self.codes.is_stale(c)) {
            Some(code) => code,
            None => self.codes.current_state(person).await?,
        };
        let profile = match card.profile {
            Some(profile) => profile,
            None => self.residents.profile(person).await?,
        };
        Ok((code, kind, profile))
    }

    /// Signs the venue's code for the current window.
    pub fn issue_venue_token(&self, venue: &VenueRecord) -> Result<IssuedVenueCode, ServiceError> {
        let ring = self.key_ring();
        let signing = ring.signing().map_err(|e| ServiceError::Keys(e.to_string()))?;
        let key = &signing.key;
        let (window_start, window_end) = venue_window(secs(self.clock.now()), VENUE_WINDOW_SECS);
        // A key that came into service during this window signs from then on: a code that
        // said it was issued at the window's start, before its key existed, would be
        // refused by every verifier until the next window (found by the soak: every venue
        // code after a rotation, or on a new server, failed for up to a window).
        let window_start = window_start.max(signing.not_before);
        let claims = VenueClaims {
            issuer: ring.region().to_string(),
            venue_id: venue.id.clone(),
            category: venue.category.as_str().to_string(),
            window_start,
            window_end,
        };
        Ok(IssuedVenueCode {
            token: issue_venue(key, &claims),
            venue: venue.id.clone(),
            window_start: from_secs(window_start),
            window_end: from_secs(window_end),
        })
    }

    /// Verifies a resident's code as any verifier would, offline: against the trust list.
    pub fn verify_code_token(&self, token: &str) -> Result<VerifiedCode, VerifyError> {
        self.verify_claims(token).map(VerifiedCode::from)
    }

    /// A resident's code verified offline: with this region's keys, or, for another
    /// region's code, with that region's keys as the hub published them and under an
    /// agreement in force.
    pub(crate) fn verify_claims(&self, token: &str) -> Result<healthcode_token::CodeClaims, VerifyError> {
        match self.verify_among_regions(token)? {
            (claims, true) => Ok(claims),
            (claims, false) => Err(VerifyError::NoAgreement(claims.issuer)),
        }
    }

    /// A code someone shows for themselves (a visitor's home code, a group member's), read
    /// as `verify_among_regions` reads it; refused into `field`, naming the code as `what`
    /// (`the home code`), with `advice` for the holder.
    pub(crate) fn verify_shown(
        &self,
        token: &str,
        field: &str,
        what: &str,
        advice: &str,
    ) -> Result<(healthcode_token::CodeClaims, bool), healthcode_domain::ValidationError> {
        self.verify_among_regions(token.trim()).map_err(|refused| {
            healthcode_domain::ValidationError::field(
                field,
                format!("{what} was refused ({}: {refused}); {advice}", refused.code()),
            )
        })
    }

    /// A code verified offline with this region's keys or another region's, as the hub
    /// published them, and whether this region recognises its issuer now (its own codes
    /// always; another region's under an agreement in force). A conversion reads a code
    /// of a region without an agreement too: not recognising it is what it records.
    pub(crate) fn verify_among_regions(
        &self,
        token: &str,
    ) -> Result<(healthcode_token::CodeClaims, bool), VerifyError> {
        let options = self.verify_options();
        let local = self.verifier();
        let national = self.national.current();
        if national.regions.is_empty() {
            return local.verify_code(token, &options).map(|claims| (claims, true));
        }
        // One read of the envelope, whichever region's key signed it.
        let own = self.key_ring().region().to_string();
        let mut verifiers: Vec<&Verifier> = vec![&local];
        let mut regions: Vec<&str> = vec![&own];
        for (region, trust) in national.regions.iter().filter(|(region, _)| **region != own) {
            verifiers.push(&trust.verifier);
            regions.push(region);
        }
        let for_region = |i: usize| VerifyOptions { expected_region: Some(regions[i].to_string()), ..options.clone() };
        let (which, claims) = healthcode_token::verify_code_among(token, &verifiers, for_region)?;
        let now = self.clock.now();
        if which > 0 && self.national.expired_at(now) {
            let hours = crate::national::OTHER_REGIONS_KEYS_HOURS;
            return Err(VerifyError::StaleTrust { region: regions[which].to_string(), hours });
        }
        let recognised = which == 0 || national.recognises(&own, regions[which], now);
        Ok((claims, recognised))
    }
}

impl Tokens {
    /// A venue code signed by another region's key, as the hub published it, with that
    /// region: `None` when no other region's key signed it. Refused when this region's
    /// copy of the keys is too old, or when the venue's region does not recognise this
    /// region's codes (no agreement the hub publishes): its visitors from here convert
    /// their code there (path 2) and scan with that one.
    pub(crate) fn verify_venue_elsewhere(
        &self,
        token: &str,
    ) -> Result<Option<(String, healthcode_token::VenueClaims)>, ServiceError> {
        let national = self.national.current();
        let own = self.key_ring().region().to_string();
        let options = self.verify_options();
        for (region, trust) in national.regions.iter().filter(|(region, _)| **region != own) {
            let for_region = VerifyOptions { expected_region: Some(region.clone()), ..options.clone() };
            let claims = match trust.verifier.verify_venue(token, &for_region) {
                // Another region's key, or a key this list names for another region: try the next.
                Err(VerifyError::UnknownKey(_) | VerifyError::WrongRegion { .. }) => continue,
                Err(refused) => return Err(refused.into()),
                Ok(claims) => claims,
            };
            let now = self.clock.now();
            if self.national.expired_at(now) {
                let hours = crate::national::OTHER_REGIONS_KEYS_HOURS;
                return Err(VerifyError::StaleTrust { region: region.clone(), hours }.into());
            }
            if !national.published_agreement(region, &own, now) {
                return Err(healthcode_domain::ValidationError::field(
                    "venue_code",
                    format!(
                        "this venue is in region {region}, which does not recognise region {own}'s codes (no \
                         agreement in force): convert your code to region {region}'s there and scan with that one"
                    ),
                )
                .into());
            }
            return Ok(Some((region.clone(), claims)));
        }
        Ok(None)
    }
}

/// A code says whose it is only by a masked name (`张*丰`): it must at least not name
/// someone other than `name` (a stranger showing their own code with another's papers).
pub(crate) fn check_masked_name(
    claims: &healthcode_token::CodeClaims,
    name: &str,
) -> Result<(), healthcode_domain::ValidationError> {
    let masked = healthcode_domain::mask_name(name);
    if claims.display_name.is_empty() || claims.display_name == masked {
        return Ok(());
    }
    Err(healthcode_domain::ValidationError::field(
        "name",
        format!("the code belongs to {}, not to {masked}: show your own code", claims.display_name),
    ))
}
