//! Issue and verify through the public API: round trips, every refusal a scanner can meet,
//! key rotation and revocation.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::{code_claims, key, trust, venue_claims, NOW, REGION};
use healthcode_domain::{Colour, PersonKind};
use healthcode_token::{
    issue_code, issue_venue, venue_window, verify_code, verify_venue, TokenKind, VerifyError, VerifyOptions,
    DEFAULT_CLOCK_SKEW_SECS,
};

#[test]
fn a_code_round_trips_with_every_field() {
    let issuer = key(1);
    for (colour, kind) in [
        (Colour::Green, PersonKind::Domestic),
        (Colour::Yellow, PersonKind::Domestic),
        (Colour::Orange, PersonKind::International),
        (Colour::Red, PersonKind::Domestic),
    ] {
        let claims = healthcode_token::CodeClaims { colour, kind, ..code_claims(NOW) };
        let token = issue_code(&issuer, &claims);
        assert!(token.starts_with("HC1:"));
        assert_eq!(verify_code(&token, &trust(&[&issuer]), &VerifyOptions::at(NOW + 10)), Ok(claims));
    }
}

#[test]
fn a_code_token_is_small_and_qr_alphanumeric() {
    let token = issue_code(&key(1), &code_claims(NOW));
    assert!(token.len() <= 260, "{} characters: {token}", token.len());
    assert!(token.bytes().all(|b| b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(&b)));
}

#[test]
fn a_venue_code_round_trips_within_its_window() {
    let issuer = key(1);
    let window = venue_window(NOW + 17, 60);
    assert_eq!(window, (NOW, NOW + 60));
    let claims = venue_claims(window);
    let token = issue_venue(&issuer, &claims);
    assert!(token.starts_with("HV1:"));
    assert_eq!(verify_venue(&token, &trust(&[&issuer]), &VerifyOptions::at(NOW + 30)), Ok(claims));
}

#[test]
fn venue_windows_are_aligned_buckets() {
    assert_eq!(venue_window(0, 30), (0, 30));
    assert_eq!(venue_window(29, 30), (0, 30));
    assert_eq!(venue_window(30, 30), (30, 60));
    assert_eq!(venue_window(-1, 30), (-30, 0));
    assert_eq!(venue_window(5, 0), (5, 6));
    assert_eq!(venue_window(i64::MAX, 10).1, i64::MAX);
}

#[test]
fn a_replayed_venue_code_is_refused_after_its_window_and_the_skew() {
    let issuer = key(1);
    let claims = venue_claims((NOW, NOW + 60));
    let token = issue_venue(&issuer, &claims);
    let list = trust(&[&issuer]);
    let last_ok = NOW + 60 + DEFAULT_CLOCK_SKEW_SECS - 1;
    assert!(verify_venue(&token, &list, &VerifyOptions::at(last_ok)).is_ok());
    let err = verify_venue(&token, &list, &VerifyOptions::at(last_ok + 1)).unwrap_err();
    assert_eq!(
        err,
        VerifyError::Replayed { venue_id: "v_330106_000123".into(), window_end: NOW + 60 },
        "it names the venue"
    );
    assert_eq!(err.code(), "replayed");
    assert!(err.to_string().contains("forwarded picture"), "{err}");
}

#[test]
fn a_code_is_refused_once_expired_and_says_to_refresh() {
    let issuer = key(1);
    let token = issue_code(&issuer, &code_claims(NOW));
    let list = trust(&[&issuer]);
    let expired_at = NOW + 300;
    assert!(verify_code(&token, &list, &VerifyOptions::at(expired_at + DEFAULT_CLOCK_SKEW_SECS - 1)).is_ok());
    let err = verify_code(&token, &list, &VerifyOptions::at(expired_at + DEFAULT_CLOCK_SKEW_SECS)).unwrap_err();
    assert_eq!(err, VerifyError::Expired { expired_at });
    assert_eq!(err.code(), "expired");
    let text = err.to_string();
    assert!(text.contains("2025-11-25T10:05:00+08:00") && text.contains("refresh the code"), "{text}");
    // With no allowance the same instant is already too late.
    let strict = VerifyOptions { clock_skew_secs: 0, ..VerifyOptions::at(expired_at) };
    assert_eq!(verify_code(&token, &list, &strict), Err(VerifyError::Expired { expired_at }));
}

#[test]
fn a_code_from_the_future_is_refused_beyond_the_skew() {
    let issuer = key(1);
    let token = issue_code(&issuer, &code_claims(NOW));
    let list = trust(&[&issuer]);
    assert!(verify_code(&token, &list, &VerifyOptions::at(NOW - DEFAULT_CLOCK_SKEW_SECS)).is_ok());
    let err = verify_code(&token, &list, &VerifyOptions::at(NOW - DEFAULT_CLOCK_SKEW_SECS - 1)).unwrap_err();
    assert_eq!(err, VerifyError::NotYetValid { valid_from: NOW });
    assert_eq!(err.code(), "not_yet_valid");
    let venue = issue_venue(&issuer, &venue_claims((NOW, NOW + 60)));
    assert_eq!(
        verify_venue(&venue, &list, &VerifyOptions::at(NOW - 61)),
        Err(VerifyError::NotYetValid { valid_from: NOW })
    );
}

#[test]
fn a_key_missing_from_the_trust_list_is_named() {
    let stranger = key(9);
    let token = issue_code(&stranger, &code_claims(NOW));
    let err = verify_code(&token, &trust(&[&key(1)]), &VerifyOptions::at(NOW)).unwrap_err();
    assert_eq!(err, VerifyError::UnknownKey(stranger.key_id()));
    assert_eq!(err.code(), "unknown_key");
    assert!(err.to_string().contains(&stranger.key_id().to_string()));
}

#[test]
fn a_revoked_key_refuses_everything_it_signed() {
    let issuer = key(1);
    let token = issue_code(&issuer, &code_claims(NOW));
    let mut list = trust(&[&issuer]);
    list.keys[0].revoked = true;
    let err = verify_code(&token, &list, &VerifyOptions::at(NOW)).unwrap_err();
    assert_eq!(err, VerifyError::RevokedKey(issuer.key_id()));
    assert_eq!(err.code(), "revoked_key");
    let venue = issue_venue(&issuer, &venue_claims((NOW, NOW + 60)));
    assert_eq!(verify_venue(&venue, &list, &VerifyOptions::at(NOW)), Err(VerifyError::RevokedKey(issuer.key_id())));
}

#[test]
fn rotation_keeps_old_codes_valid_until_they_expire_and_no_longer() {
    let old = key(1);
    let new = key(2);
    let rotated_at = NOW;
    let mut list = trust(&[&old, &new]);
    // The old key's last code was issued just before the rotation.
    list.keys[0].not_after = Some(rotated_at);
    list.keys[1].not_before = rotated_at;

    let last_old = issue_code(&old, &code_claims(rotated_at - 1));
    let first_new = issue_code(&new, &code_claims(rotated_at));
    assert!(verify_code(&last_old, &list, &VerifyOptions::at(rotated_at + 200)).is_ok());
    assert!(verify_code(&first_new, &list, &VerifyOptions::at(rotated_at + 200)).is_ok());
    // The old code still ends when its own lifetime does.
    assert_eq!(
        verify_code(&last_old, &list, &VerifyOptions::at(rotated_at + 400)),
        Err(VerifyError::Expired { expired_at: rotated_at - 1 + 300 })
    );

    // A code the old key signed after its retirement (a stolen key, say) is refused.
    let late_old = issue_code(&old, &code_claims(rotated_at));
    let err = verify_code(&late_old, &list, &VerifyOptions::at(rotated_at + 10)).unwrap_err();
    assert_eq!(
        err,
        VerifyError::KeyNotValidAt {
            kid: old.key_id(),
            issued_at: rotated_at,
            not_before: NOW - 86_400,
            not_after: Some(rotated_at)
        }
    );
    assert_eq!(err.code(), "key_not_valid");
    // And so is one the new key signed before it came into service.
    let early_new = issue_code(&new, &code_claims(rotated_at - 1));
    assert_eq!(verify_code(&early_new, &list, &VerifyOptions::at(rotated_at)).unwrap_err().code(), "key_not_valid");
}

#[test]
fn the_region_must_be_the_expected_one_and_the_trust_lists_own() {
    let issuer = key(1);
    let list = trust(&[&issuer]);
    let token = issue_code(&issuer, &code_claims(NOW));
    let henan_only = VerifyOptions { expected_region: Some("41".to_string()), ..VerifyOptions::at(NOW) };
    let err = verify_code(&token, &list, &henan_only).unwrap_err();
    assert_eq!(err, VerifyError::WrongRegion { expected: "41".to_string(), found: REGION.to_string() });
    assert_eq!(err.code(), "wrong_region");
    let zhejiang_only = VerifyOptions { expected_region: Some(REGION.to_string()), ..VerifyOptions::at(NOW) };
    assert!(verify_code(&token, &list, &zhejiang_only).is_ok());

    // A Zhejiang key signing a code that claims to come from Henan vouches for nothing.
    let claims = healthcode_token::CodeClaims { issuer: "41".to_string(), ..code_claims(NOW) };
    let token = issue_code(&issuer, &claims);
    assert_eq!(
        verify_code(&token, &list, &VerifyOptions::at(NOW)),
        Err(VerifyError::WrongRegion { expected: REGION.to_string(), found: "41".to_string() })
    );
    assert_eq!(verify_code(&token, &list, &henan_only).unwrap_err().code(), "wrong_region");
}

#[test]
fn a_venue_code_is_never_a_resident_code_and_back() {
    let issuer = key(1);
    let list = trust(&[&issuer]);
    let opts = VerifyOptions::at(NOW);
    let code = issue_code(&issuer, &code_claims(NOW));
    let venue = issue_venue(&issuer, &venue_claims((NOW, NOW + 60)));

    let as_code = verify_code(&venue, &list, &opts).unwrap_err();
    assert_eq!(as_code, VerifyError::WrongTokenType { expected: TokenKind::Code, found: TokenKind::Venue });
    assert_eq!(as_code.code(), "wrong_token_type");
    assert_eq!(
        verify_venue(&code, &list, &opts),
        Err(VerifyError::WrongTokenType { expected: TokenKind::Venue, found: TokenKind::Code })
    );

    // Rewriting the prefix does not help: the signed content says what the token is.
    let venue_as_hc1 = venue.replacen("HV1:", "HC1:", 1);
    assert_eq!(
        verify_code(&venue_as_hc1, &list, &opts),
        Err(VerifyError::WrongTokenType { expected: TokenKind::Code, found: TokenKind::Venue })
    );
    let code_as_hv1 = code.replacen("HC1:", "HV1:", 1);
    assert_eq!(
        verify_venue(&code_as_hv1, &list, &opts),
        Err(VerifyError::WrongTokenType { expected: TokenKind::Venue, found: TokenKind::Code })
    );
}

#[test]
fn text_that_is_not_a_token_is_bad_encoding() {
    let list = trust(&[&key(1)]);
    let opts = VerifyOptions::at(NOW);
    for text in ["", "HC1:", "HC1:!!!", "hello", "hc1:6BFOXN", "HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N"] {
        let err = verify_code(text, &list, &opts).unwrap_err();
        assert_eq!(err.code(), "bad_encoding", "{text:?}: {err}");
    }
    let long = format!("HC1:{}", "0".repeat(5000));
    assert!(matches!(verify_code(&long, &list, &opts), Err(VerifyError::BadEncoding(m)) if m.contains("longer than")));
}

#[test]
fn checks_run_in_the_documented_order() {
    // A token that is at once signed by a revoked key, expired and of another region
    // reports the key first; an expired code of another region reports the time first.
    let issuer = key(1);
    let claims = healthcode_token::CodeClaims { issuer: "41".to_string(), ..code_claims(NOW) };
    let token = issue_code(&issuer, &claims);
    let mut list = trust(&[&issuer]);
    let later = VerifyOptions::at(NOW + 10_000);
    assert_eq!(verify_code(&token, &list, &later).unwrap_err().code(), "expired");
    list.keys[0].revoked = true;
    assert_eq!(verify_code(&token, &list, &later).unwrap_err().code(), "revoked_key");
}

#[test]
fn every_error_has_a_distinct_stable_code() {
    let kid = key(1).key_id();
    let all = [
        VerifyError::BadEncoding("x".into()),
        VerifyError::UnknownKey(kid),
        VerifyError::BadSignature,
        VerifyError::Expired { expired_at: NOW },
        VerifyError::NotYetValid { valid_from: NOW },
        VerifyError::RevokedKey(kid),
        VerifyError::KeyNotValidAt { kid, issued_at: NOW, not_before: NOW, not_after: None },
        VerifyError::WrongRegion { expected: "33".into(), found: "41".into() },
        VerifyError::WrongTokenType { expected: TokenKind::Code, found: TokenKind::Venue },
        VerifyError::Replayed { venue_id: "v1".into(), window_end: NOW },
    ];
    let codes: Vec<_> = all.iter().map(VerifyError::code).collect();
    assert_eq!(
        codes,
        [
            "bad_encoding",
            "unknown_key",
            "bad_signature",
            "expired",
            "not_yet_valid",
            "revoked_key",
            "key_not_valid",
            "wrong_region",
            "wrong_token_type",
            "replayed"
        ]
    );
    for err in &all {
        assert!(err.to_string().len() > 40, "too terse: {err}");
    }
}

#[test]
fn a_prepared_verifier_agrees_with_the_free_functions() {
    use healthcode_token::Verifier;
    let old = key(1);
    let new = key(2);
    let mut list = trust(&[&old, &new]);
    list.keys[0].not_after = Some(NOW);
    let mut revoked = list.clone();
    revoked.keys[1].revoked = true;
    let codes = [
        issue_code(&old, &code_claims(NOW - 1)),
        issue_code(&old, &code_claims(NOW)),
        issue_code(&new, &code_claims(NOW)),
        issue_code(&key(3), &code_claims(NOW)),
        issue_venue(&new, &venue_claims((NOW, NOW + 60))),
        "HC1:garbage".to_string(),
    ];
    let venues = [issue_venue(&new, &venue_claims((NOW, NOW + 60))), codes[2].clone()];
    for list in [list, revoked] {
        let verifier = Verifier::new(list.clone());
        assert_eq!(verifier.trust_list(), &list);
        for now in [NOW - 100, NOW + 30, NOW + 1000] {
            let opts = VerifyOptions::at(now);
            for token in &codes {
                assert_eq!(verifier.verify_code(token, &opts), verify_code(token, &list, &opts), "{token}");
            }
            for token in &venues {
                assert_eq!(verifier.verify_venue(token, &opts), verify_venue(token, &list, &opts), "{token}");
            }
        }
    }
}

#[test]
fn a_printed_card_lasts_names_no_colour_and_passes_for_no_other_kind() {
    let issuer = key(1);
    let claims = healthcode_token::CardClaims {
        issuer: REGION.to_string(),
        card_id: "card-7f3a".into(),
        display_name: "张*丰".into(),
        issued_at: NOW,
        expires_at: NOW + healthcode_token::CARD_LIFETIME_SECS,
    };
    let card = healthcode_token::issue_card(&issuer, &claims);
    assert!(card.starts_with("HP1:"));
    let trust = trust(&[&issuer]);
    let half_a_year = VerifyOptions::at(NOW + 183 * 24 * 3600);
    assert_eq!(healthcode_token::verify_card(&card, &trust, &half_a_year), Ok(claims.clone()));
    let after = VerifyOptions::at(claims.expires_at + DEFAULT_CLOCK_SKEW_SECS);
    assert!(matches!(healthcode_token::verify_card(&card, &trust, &after), Err(VerifyError::Expired { .. })));
    // A card is not a code, and a code is not a card, even with the prefix rewritten.
    let as_code = format!("HC1:{}", &card[4..]);
    assert_eq!(
        verify_code(&as_code, &trust, &VerifyOptions::at(NOW)),
        Err(VerifyError::WrongTokenType { expected: TokenKind::Code, found: TokenKind::Card })
    );
    let code = issue_code(&issuer, &code_claims(NOW));
    let as_card = format!("HP1:{}", &code[4..]);
    assert_eq!(
        healthcode_token::verify_card(&as_card, &trust, &VerifyOptions::at(NOW)),
        Err(VerifyError::WrongTokenType { expected: TokenKind::Card, found: TokenKind::Code })
    );
    assert!(healthcode_token::verify_card(&card, &common::trust(&[&key(2)]), &VerifyOptions::at(NOW)).is_err());
}
