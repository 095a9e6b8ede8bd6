#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod claims;
#[cfg(test)]
mod crafted_tests;
mod detached;
mod envelope;
mod error;
mod issue;
mod keys;
pub mod qr;
mod signed_list;
mod trust;
mod verify;
mod zlib;

pub use claims::{
    CardClaims, CodeClaims, VenueClaims, CARD_CLAIM_KEY, CODE_CLAIM_KEY, MAX_CODE_ID_CHARS, VENUE_CLAIM_KEY,
};
pub use detached::{sign_detached, verify_detached};
pub use envelope::{TokenKind, MAX_INFLATED_BYTES, MAX_TOKEN_CHARS};
pub use error::{TrustListError, VerifyError};
pub use issue::{issue_card, issue_code, issue_venue, venue_window, CARD_LIFETIME_SECS, DEFAULT_CODE_LIFETIME_SECS};
pub use keys::{KeyId, KeyIdParseError, SigningKey};
pub use signed_list::{SignedTrustList, TrustListDocument, MAX_TRUST_LIST_BYTES};
pub use trust::{TrustList, TrustedKey};
pub use verify::{
    check_signatures, verify_card, verify_code, verify_code_among, verify_venue, PreparedCode, Verifier, VerifyOptions,
    DEFAULT_CLOCK_SKEW_SECS,
};
