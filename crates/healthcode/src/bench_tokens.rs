//! `healthcode bench tokens`: issuing and verifying signed codes against the raw
//! signature rates of the same algorithm, measured in the same run on one core.

use std::time::{Duration, Instant};

use ed25519_dalek::{Signer, Verifier};
use healthcode_domain::{Colour, PersonKind};
use healthcode_token::{issue_code, CodeClaims, SigningKey, TrustList, TrustedKey, VerifyOptions};

/// How many times `f` runs in `seconds` (after a short warm-up), per second.
fn rate(seconds: f64, mut f: impl FnMut()) -> f64 {
    for _ in 0..200 {
        f();
    }
    let (started, budget) = (Instant::now(), Duration::from_secs_f64(seconds));
    let mut n = 0u64;
    while started.elapsed() < budget {
        for _ in 0..100 {
            f();
        }
        n += 100;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

pub fn run(seconds: f64) {
    let key = SigningKey::from_seed([7; 32]);
    let raw = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let claims = CodeClaims {
        issuer: "33".into(),
        code_id: "c0123456789abcdef01234567".into(),
        colour: Colour::Yellow,
        kind: PersonKind::Domestic,
        display_name: "张*丰".into(),
        issued_at: 1_600_000_000,
        expires_at: 1_600_000_300,
    };
    let token = issue_code(&key, &claims);
    let message = vec![0x5a_u8; 150];
    let signature = raw.sign(&message);
    let public = raw.verifying_key();
    let trust = TrustList { region: "33".into(), sequence: 1, issued_at: 0, keys: vec![TrustedKey::of(&key, 0)] };
    let verifier = healthcode_token::Verifier::new(trust);
    let options = VerifyOptions::at(1_600_000_100);

    let raw_sign = rate(seconds, || {
        std::hint::black_box(raw.sign(std::hint::black_box(&message)));
    });
    let issue = rate(seconds, || drop(std::hint::black_box(issue_code(&key, std::hint::black_box(&claims)))));
    let raw_verify = rate(seconds, || {
        std::hint::black_box(public.verify(std::hint::black_box(&message), &signature))
            .expect("the benchmark's own signature verifies");
    });
    let verify = rate(seconds, || {
        std::hint::black_box(verifier.verify_code(std::hint::black_box(&token), &options))
            .expect("the benchmark's own code verifies");
    });
    println!("one core, Ed25519 (ed25519-dalek), {seconds} s each; token of {} characters", token.len());
    println!("raw sign of 150 bytes   {raw_sign:>9.0}/s");
    println!("issue_code              {issue:>9.0}/s   {:.0}% of raw sign", 100.0 * issue / raw_sign);
    println!("raw verify of 150 bytes {raw_verify:>9.0}/s");
    println!("Verifier::verify_code   {verify:>9.0}/s   {:.0}% of raw verify", 100.0 * verify / raw_verify);
}
