//! Issuing: claims in, token text out.

use crate::claims::{card_payload, code_payload, venue_payload, CardClaims, CodeClaims, VenueClaims};
use crate::envelope::{seal, TokenKind};
use crate::keys::SigningKey;

/// How long a resident's code stays valid after issue: short, so that a screenshot is
/// soon worthless and a colour change reaches the scanner within minutes.
pub const DEFAULT_CODE_LIFETIME_SECS: i64 = 300;

/// Signs a resident's code: `"HC1:" + base45(zlib(COSE_Sign1))`. The claims are signed as
/// given; a verifier refuses a `code_id` that is empty, non-ASCII or longer than 64.
pub fn issue_code(key: &SigningKey, claims: &CodeClaims) -> String {
    seal(key, TokenKind::Code, code_payload(claims))
}

/// Signs a venue code for one window: `"HV1:" + base45(zlib(COSE_Sign1))`.
pub fn issue_venue(key: &SigningKey, claims: &VenueClaims) -> String {
    seal(key, TokenKind::Venue, venue_payload(claims))
}

/// How long a printed card lasts: a year, after which it is printed again.
pub const CARD_LIFETIME_SECS: i64 = 366 * 24 * 3600;

/// Signs a printed card: `"HP1:" + base45(zlib(COSE_Sign1))`.
pub fn issue_card(key: &SigningKey, claims: &CardClaims) -> String {
    seal(key, TokenKind::Card, card_payload(claims))
}

/// The window `[start, end)` of `window_secs` seconds that contains `now`, aligned on
/// multiples of `window_secs` since the epoch, so that every venue display and the
/// server agree on it without talking. A `window_secs` below 1 is taken as 1.
pub fn venue_window(now: i64, window_secs: i64) -> (i64, i64) {
    let window = window_secs.max(1);
    let start = now.div_euclid(window) * window;
    (start, start.saturating_add(window))
}
