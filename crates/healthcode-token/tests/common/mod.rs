// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]
#![allow(dead_code)] // each test file uses part of the fixture

use healthcode_domain::{Colour, PersonKind};
use healthcode_token::{CodeClaims, SigningKey, TrustList, TrustedKey, VenueClaims, DEFAULT_CODE_LIFETIME_SECS};

/// 2025-11-25T10:00:00+08:00.
pub const NOW: i64 = 1_764_036_000;
pub const REGION: &str = "33";

pub fn key(n: u8) -> SigningKey {
    SigningKey::from_seed([n; 32])
}

pub fn code_claims(issued_at: i64) -> CodeClaims {
    CodeClaims {
        issuer: REGION.to_string(),
        code_id: "c_7f3a9e21b04d".to_string(),
        colour: Colour::Yellow,
        kind: PersonKind::Domestic,
        display_name: "张*三".to_string(),
        issued_at,
        expires_at: issued_at + DEFAULT_CODE_LIFETIME_SECS,
    }
}

pub fn venue_claims(window: (i64, i64)) -> VenueClaims {
    VenueClaims {
        issuer: REGION.to_string(),
        venue_id: "v_330106_000123".to_string(),
        category: "supermarket".to_string(),
        window_start: window.0,
        window_end: window.1,
    }
}

/// A list trusting `keys` from a day before [`NOW`], with no end.
pub fn trust(keys: &[&SigningKey]) -> TrustList {
    TrustList {
        region: REGION.to_string(),
        sequence: 1,
        issued_at: NOW - 86_400,
        keys: keys.iter().map(|k| TrustedKey::of(k, NOW - 86_400)).collect(),
    }
}
