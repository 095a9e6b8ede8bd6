//! Offline verification: token text, a trust list and the time in; claims or the reason out.

use ed25519_dalek::{Verifier as _, VerifyingKey};

use crate::claims::{read_payload, CardClaims, CodeClaims, Common, VenueClaims};
use crate::envelope::{open, usable_key, TokenKind};
use crate::error::VerifyError;
use crate::trust::TrustList;

/// How far a verifier's clock may be from the issuer's: tokens are accepted this many
/// seconds before they start and after they end.
pub const DEFAULT_CLOCK_SKEW_SECS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The verifier's time, unix seconds.
    pub now: i64,
    /// Allowance for clock differences, [`DEFAULT_CLOCK_SKEW_SECS`] unless the operator
    /// says otherwise; a negative value counts as 0.
    pub clock_skew_secs: i64,
    /// When set, only tokens of this issuing region are accepted.
    pub expected_region: Option<String>,
}

impl VerifyOptions {
    /// Verification at `now` with the default skew, any region the trust list vouches for.
    pub fn at(now: i64) -> VerifyOptions {
        VerifyOptions { now, clock_skew_secs: DEFAULT_CLOCK_SKEW_SECS, expected_region: None }
    }

    fn skew(&self) -> i64 {
        self.clock_skew_secs.max(0)
    }
}

/// Verifies a resident's code. Checks, in order: the envelope, the key in the trust list,
/// the signature, the key's revocation and service period at `iat`, the time, the region.
/// A scanner checking many codes against one list should use [`Verifier`], which reads
/// each public key once rather than once per token.
pub fn verify_code(token: &str, trust: &TrustList, opts: &VerifyOptions) -> Result<CodeClaims, VerifyError> {
    let common = signed_claims(token, TokenKind::Code, trust, |at| usable_key(&trust.keys[at].public_key))?;
    check_code(common, trust, opts)
}

/// Verifies a venue code. As [`verify_code`], except that a token scanned after its window
/// (plus the skew) is [`VerifyError::Replayed`]: a picture of the code taken earlier and
/// used elsewhere, as in the remote-scan abuse the rotation exists to stop.
pub fn verify_venue(token: &str, trust: &TrustList, opts: &VerifyOptions) -> Result<VenueClaims, VerifyError> {
    let common = signed_claims(token, TokenKind::Venue, trust, |at| usable_key(&trust.keys[at].public_key))?;
    check_venue(common, trust, opts)
}

/// Verifies a printed card: envelope, key, signature, time and region, as a code. What
/// the card says about its holder's colour is nothing: the issuer is asked online, and
/// it alone knows whether the card was revoked.
pub fn verify_card(token: &str, trust: &TrustList, opts: &VerifyOptions) -> Result<CardClaims, VerifyError> {
    let common = signed_claims(token, TokenKind::Card, trust, |at| usable_key(&trust.keys[at].public_key))?;
    check_card(common, trust, opts)
}

/// A trust list with its public keys read once (decompressing an Ed25519 point costs
/// about a tenth of a verification). Same checks and results as the free functions.
#[derive(Debug, Clone)]
pub struct Verifier {
    trust: TrustList,
    keys: Vec<Option<VerifyingKey>>,
}

impl Verifier {
    pub fn new(trust: TrustList) -> Verifier {
        let keys = trust.keys.iter().map(|key| usable_key(&key.public_key)).collect();
        Verifier { trust, keys }
    }

    pub fn trust_list(&self) -> &TrustList {
        &self.trust
    }

    pub fn verify_code(&self, token: &str, opts: &VerifyOptions) -> Result<CodeClaims, VerifyError> {
        let common = signed_claims(token, TokenKind::Code, &self.trust, |at| self.keys[at])?;
        check_code(common, &self.trust, opts)
    }

    pub fn verify_venue(&self, token: &str, opts: &VerifyOptions) -> Result<VenueClaims, VerifyError> {
        let common = signed_claims(token, TokenKind::Venue, &self.trust, |at| self.keys[at])?;
        check_venue(common, &self.trust, opts)
    }

    pub fn verify_card(&self, token: &str, opts: &VerifyOptions) -> Result<CardClaims, VerifyError> {
        let common = signed_claims(token, TokenKind::Card, &self.trust, |at| self.keys[at])?;
        check_card(common, &self.trust, opts)
    }
}

/// A resident code read and matched to its key, waiting for its signature check — alone
/// or in a batch with the codes of other requests (`check_signatures`).
pub struct PreparedCode {
    key_at: usize,
    key: Option<VerifyingKey>,
    tbs: Vec<u8>,
    signature: Option<ed25519_dalek::Signature>,
    payload: Option<Vec<u8>>,
}

impl Verifier {
    /// The first half of [`Verifier::verify_code`]: the envelope and the key. Errors here
    /// are those `verify_code` gives before it checks a signature.
    pub fn prepare_code(&self, token: &str) -> Result<PreparedCode, VerifyError> {
        let unverified = open(token, TokenKind::Code)?;
        let key_at = self.trust.position(unverified.kid).ok_or(VerifyError::UnknownKey(unverified.kid))?;
        let (tbs, signature, payload) = unverified.into_parts();
        Ok(PreparedCode { key_at, key: self.keys[key_at], tbs, signature, payload })
    }

    /// The second half: given whether the signature holds (`check_signatures`), the same
    /// result `verify_code` gives.
    pub fn finish_code(
        &self,
        prepared: PreparedCode,
        signature_holds: bool,
        opts: &VerifyOptions,
    ) -> Result<CodeClaims, VerifyError> {
        if !signature_holds {
            return Err(VerifyError::BadSignature);
        }
        let payload = prepared.payload.ok_or_else(|| VerifyError::encoding("the COSE_Sign1 has no payload"))?;
        let common = read_payload(&payload, TokenKind::Code)?;
        self.trust.keys[prepared.key_at].check_signed_at(common.issued_at)?;
        check_code(common, &self.trust, opts)
    }
}

/// Verifies a resident's code with whichever of `verifiers` lists the key that signed it
/// (the first that does), reading the envelope once: how a region checks its own codes
/// and those of the regions it recognises at the cost of one verification. `options(i)`
/// are the options for `verifiers[i]` (its expected region). Returns which verifier held
/// the key, or `UnknownKey` if none did.
pub fn verify_code_among(
    token: &str,
    verifiers: &[&Verifier],
    options: impl Fn(usize) -> VerifyOptions,
) -> Result<(usize, CodeClaims), VerifyError> {
    let unverified = open(token, TokenKind::Code)?;
    let (which, at) = verifiers
        .iter()
        .enumerate()
        .find_map(|(i, v)| v.trust.position(unverified.kid).map(|at| (i, at)))
        .ok_or(VerifyError::UnknownKey(unverified.kid))?;
    let verifier = verifiers[which];
    let payload = unverified.verify(verifier.keys[at].as_ref())?;
    let common = read_payload(&payload, TokenKind::Code)?;
    verifier.trust.keys[at].check_signed_at(common.issued_at)?;
    Ok((which, check_code(common, &verifier.trust, &options(which))?))
}

/// Whether each prepared code's signature holds. All of them are checked in one batch
/// verification (about twice as fast per signature); when the batch fails, each is checked
/// alone to find which. A batch accepts exactly the signatures that hold one by one, up
/// to the cofactor: both reject anything not made with the secret key.
pub fn check_signatures(codes: &[&PreparedCode]) -> Vec<bool> {
    let usable: Vec<usize> =
        (0..codes.len()).filter(|&i| codes[i].key.is_some() && codes[i].signature.is_some()).collect();
    let alone = |c: &PreparedCode| match (&c.key, &c.signature) {
        (Some(key), Some(signature)) => key.verify(&c.tbs, signature).is_ok(),
        _ => false,
    };
    if usable.len() < 2 {
        return codes.iter().map(|c| alone(c)).collect();
    }
    let messages: Vec<&[u8]> = usable.iter().map(|&i| codes[i].tbs.as_slice()).collect();
    let signatures: Vec<ed25519_dalek::Signature> = usable.iter().filter_map(|&i| codes[i].signature).collect();
    let keys: Vec<VerifyingKey> = usable.iter().filter_map(|&i| codes[i].key).collect();
    if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
        let mut holds = vec![false; codes.len()];
        for i in usable {
            holds[i] = true;
        }
        holds
    } else {
        codes.iter().map(|c| alone(c)).collect()
    }
}

/// Everything up to and including the key's validity: only signed content is read.
/// `key_at` gives the usable public key of `trust.keys[at]`.
fn signed_claims(
    token: &str,
    kind: TokenKind,
    trust: &TrustList,
    key_at: impl FnOnce(usize) -> Option<VerifyingKey>,
) -> Result<Common, VerifyError> {
    let unverified = open(token, kind)?;
    let at = trust.position(unverified.kid).ok_or(VerifyError::UnknownKey(unverified.kid))?;
    let payload = unverified.verify(key_at(at).as_ref())?;
    let common = read_payload(&payload, kind)?;
    trust.keys[at].check_signed_at(common.issued_at)?;
    Ok(common)
}

fn check_code(common: Common, trust: &TrustList, opts: &VerifyOptions) -> Result<CodeClaims, VerifyError> {
    let claims = common.into_code()?;
    check_lifetime(claims.issued_at, claims.expires_at, opts)?;
    check_region(&claims.issuer, trust, opts)?;
    Ok(claims)
}

fn check_card(common: Common, trust: &TrustList, opts: &VerifyOptions) -> Result<CardClaims, VerifyError> {
    let claims = common.into_card()?;
    check_lifetime(claims.issued_at, claims.expires_at, opts)?;
    check_region(&claims.issuer, trust, opts)?;
    Ok(claims)
}

/// Issued no later than now and not expired, within the allowed clock skew.
fn check_lifetime(issued_at: i64, expires_at: i64, opts: &VerifyOptions) -> Result<(), VerifyError> {
    if opts.now.saturating_add(opts.skew()) < issued_at {
        return Err(VerifyError::NotYetValid { valid_from: issued_at });
    }
    if opts.now.saturating_sub(opts.skew()) >= expires_at {
        return Err(VerifyError::Expired { expired_at: expires_at });
    }
    Ok(())
}

fn check_venue(common: Common, trust: &TrustList, opts: &VerifyOptions) -> Result<VenueClaims, VerifyError> {
    let claims = common.into_venue()?;
    if opts.now.saturating_add(opts.skew()) < claims.window_start {
        return Err(VerifyError::NotYetValid { valid_from: claims.window_start });
    }
    if opts.now.saturating_sub(opts.skew()) >= claims.window_end {
        return Err(VerifyError::Replayed { venue_id: claims.venue_id, window_end: claims.window_end });
    }
    check_region(&claims.issuer, trust, opts)?;
    Ok(claims)
}

fn check_region(issuer: &str, trust: &TrustList, opts: &VerifyOptions) -> Result<(), VerifyError> {
    // A key vouches only for its own region: a Zhejiang key cannot sign Henan codes.
    let expected = opts.expected_region.as_deref().unwrap_or(&trust.region);
    for region in [expected, trust.region.as_str()] {
        if issuer != region {
            return Err(VerifyError::WrongRegion { expected: region.to_string(), found: issuer.to_string() });
        }
    }
    Ok(())
}
