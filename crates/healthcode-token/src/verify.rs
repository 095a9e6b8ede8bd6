//! Offline verification: token text, a trust list and the time in; claims or the reason out.

use ed25519_dalek::VerifyingKey;

use crate::claims::{read_payload, CodeClaims, Common, VenueClaims};
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
    if opts.now.saturating_add(opts.skew()) < claims.issued_at {
        return Err(VerifyError::NotYetValid { valid_from: claims.issued_at });
    }
    if opts.now.saturating_sub(opts.skew()) >= claims.expires_at {
        return Err(VerifyError::Expired { expired_at: claims.expires_at });
    }
    check_region(&claims.issuer, trust, opts)?;
    Ok(claims)
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
