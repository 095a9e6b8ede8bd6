//! Verifying codes in a batch gives, code for code, what verifying each alone gives: the
//! same claims for good codes and the same reason for every bad one, whatever else is in
//! the batch.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::{code_claims, key, trust, venue_claims, NOW};
use healthcode_token::{check_signatures, issue_code, issue_venue, PreparedCode, Verifier, VerifyOptions};

/// The same code with one bit of its Ed25519 signature (the last bytes of the COSE
/// structure) flipped: well formed, known key, wrong signature.
fn with_a_bad_signature(token: &str) -> String {
    let compressed = base45::decode(token.strip_prefix("HC1:").unwrap()).unwrap();
    let mut cose = miniz_oxide::inflate::decompress_to_vec_zlib(&compressed).unwrap();
    *cose.last_mut().unwrap() ^= 1;
    format!("HC1:{}", base45::encode(miniz_oxide::deflate::compress_to_vec_zlib(&cose, 6)))
}

/// Verifies through prepare → one batch check → finish.
fn in_a_batch(
    verifier: &Verifier,
    tokens: &[String],
    opts: &VerifyOptions,
) -> Vec<Result<healthcode_token::CodeClaims, healthcode_token::VerifyError>> {
    let prepared: Vec<_> = tokens.iter().map(|t| verifier.prepare_code(t)).collect();
    let ready: Vec<&PreparedCode> = prepared.iter().filter_map(|p| p.as_ref().ok()).collect();
    let mut holds = check_signatures(&ready).into_iter();
    prepared.into_iter().map(|p| p.and_then(|p| verifier.finish_code(p, holds.next().unwrap(), opts))).collect()
}

#[test]
fn a_batch_decides_every_code_as_verifying_it_alone_would() {
    let (k1, k2, stranger) = (key(1), key(2), key(9));
    let verifier = Verifier::new(trust(&[&k1, &k2]));
    let opts = VerifyOptions::at(NOW + 10);
    let tokens = vec![
        issue_code(&k1, &code_claims(NOW)),
        issue_code(&k2, &code_claims(NOW)),
        "HC1:NOT-A-CODE".to_string(),
        issue_code(&k1, &code_claims(NOW - 3600)),
        issue_code(&stranger, &code_claims(NOW)),
        issue_venue(&k1, &venue_claims((NOW, NOW + 60))),
        with_a_bad_signature(&issue_code(&k2, &code_claims(NOW))),
        issue_code(&k2, &code_claims(NOW + 5)),
    ];
    let alone: Vec<_> = tokens.iter().map(|t| verifier.verify_code(t, &opts)).collect();
    let reasons: Vec<&str> = alone.iter().map(|r| r.as_ref().map_or_else(|e| e.code(), |_| "ok")).collect();
    assert_eq!(
        reasons,
        ["ok", "ok", "bad_encoding", "expired", "unknown_key", "wrong_token_type", "bad_signature", "ok"],
        "the mix holds every kind of result"
    );
    assert_eq!(in_a_batch(&verifier, &tokens, &opts), alone);
}

#[test]
fn one_bad_signature_fails_the_batch_and_is_found_alone() {
    let k1 = key(1);
    let verifier = Verifier::new(trust(&[&k1]));
    let opts = VerifyOptions::at(NOW + 10);
    let good = issue_code(&k1, &code_claims(NOW));
    let bad = with_a_bad_signature(&good);
    let tokens = vec![good.clone(), bad, good.clone(), good];
    let results = in_a_batch(&verifier, &tokens, &opts);
    let ok: Vec<bool> = results.iter().map(Result::is_ok).collect();
    assert_eq!(ok, [true, false, true, true]);
    assert_eq!(results[1].as_ref().unwrap_err().code(), "bad_signature");
    // And a batch of good ones is accepted whole.
    let all_good: Vec<String> = (0..64).map(|i| issue_code(&k1, &code_claims(NOW + i % 5))).collect();
    assert!(in_a_batch(&verifier, &all_good, &opts).iter().all(Result::is_ok));
}
