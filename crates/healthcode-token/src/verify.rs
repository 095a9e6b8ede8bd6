//! Offline verification: token text, a trust list and the time in; claims or the reason out.

use crate::claims::{read_payload, CodeClaims, Common, VenueClaims};
use crate::envelope::{open, TokenKind};
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
pub fn verify_code(token: &str, trust: &TrustList, opts: &VerifyOptions) -> Result<CodeClaims, VerifyError> {
    let common = signed_claims(token, TokenKind::Code, trust)?;
    let valid_from = common.issued_at;
    let expired_at = common.expires_at;
    let claims = common.into_code()?;
    if opts.now.saturating_add(opts.skew()) < valid_from {
        return Err(VerifyError::NotYetValid { valid_from });
    }
    if opts.now.saturating_sub(opts.skew()) >= expired_at {
        return Err(VerifyError::Expired { expired_at });
    }
    check_region(&claims.issuer, trust, opts)?;
    Ok(claims)
}

/// Verifies a venue code. As [`verify_code`], except that a token scanned after its window
/// (plus the skew) is [`VerifyError::Replayed`]: a picture of the code taken earlier and
/// used elsewhere, as in the remote-scan abuse the rotation exists to stop.
pub fn verify_venue(token: &str, trust: &TrustList, opts: &VerifyOptions) -> Result<VenueClaims, VerifyError> {
    let claims = signed_claims(token, TokenKind::Venue, trust)?.into_venue()?;
    if opts.now.saturating_add(opts.skew()) < claims.window_start {
        return Err(VerifyError::NotYetValid { valid_from: claims.window_start });
    }
    if opts.now.saturating_sub(opts.skew()) >= claims.window_end {
        return Err(VerifyError::Replayed { window_end: claims.window_end });
    }
    check_region(&claims.issuer, trust, opts)?;
    Ok(claims)
}

/// Everything up to and including the key's validity: only signed content is read.
fn signed_claims(token: &str, kind: TokenKind, trust: &TrustList) -> Result<Common, VerifyError> {
    let unverified = open(token, kind)?;
    let key = trust.find(unverified.kid).ok_or(VerifyError::UnknownKey(unverified.kid))?;
    let payload = unverified.verify(&key.public_key)?;
    let common = read_payload(&payload, kind)?;
    key.check_signed_at(common.issued_at)?;
    Ok(common)
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
