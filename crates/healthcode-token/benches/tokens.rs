//! Issuing and verifying tokens against the raw Ed25519 operations they are built on, in
//! the same run. The project's target: issuing and verifying each reach at least 80% of
//! the raw signature rate, i.e. the envelope (CBOR, COSE, zlib, base45, checks) costs at
//! most a quarter of the signature itself.
//!
//! The baseline signs 150 bytes; a resident code signs a `Sig_structure` of ~85 bytes. Both
//! take the same number of SHA-512 blocks in signing and verifying, so the comparison is
//! fair.
//!
//! Run: `cargo bench -p healthcode-token` (about a minute). Criterion prints each figure;
//! the ratios are measured again at the end, interleaved, and printed as a table.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use ed25519_dalek::{Signer, Verifier as _};
use healthcode_domain::{Colour, PersonKind};
use healthcode_token::{
    issue_code, issue_venue, verify_code, verify_venue, CodeClaims, SigningKey, TrustList, TrustedKey, VenueClaims,
    Verifier, VerifyOptions,
};

const NOW: i64 = 1_764_036_000;

struct Fixture {
    key: SigningKey,
    raw: ed25519_dalek::SigningKey,
    message: [u8; 150],
    signature: ed25519_dalek::Signature,
    claims: CodeClaims,
    token: String,
    venue: VenueClaims,
    venue_token: String,
    trust: TrustList,
    verifier: Verifier,
    opts: VerifyOptions,
}

fn fixture() -> Fixture {
    let key = SigningKey::from_seed([7; 32]);
    let raw = ed25519_dalek::SigningKey::from_bytes(&key.seed());
    let message = [0x5a; 150];
    let claims = CodeClaims {
        issuer: "33".into(),
        code_id: "c_7f3a9e21b04d55e1".into(),
        colour: Colour::Yellow,
        kind: PersonKind::Domestic,
        display_name: "张*三".into(),
        issued_at: NOW,
        expires_at: NOW + 300,
    };
    let venue = VenueClaims {
        issuer: "33".into(),
        venue_id: "v_330106_000123".into(),
        category: "supermarket".into(),
        window_start: NOW,
        window_end: NOW + 60,
    };
    let trust =
        TrustList { region: "33".into(), sequence: 1, issued_at: NOW, keys: vec![TrustedKey::of(&key, NOW - 1)] };
    Fixture {
        signature: raw.sign(&message),
        token: issue_code(&key, &claims),
        venue_token: issue_venue(&key, &venue),
        verifier: Verifier::new(trust.clone()),
        trust,
        opts: VerifyOptions::at(NOW + 1),
        key,
        raw,
        message,
        claims,
        venue,
    }
}

fn criterion_benches(f: &Fixture) {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .configure_from_args();
    let mut group = c.benchmark_group("ed25519");
    group.bench_function("raw_sign_150B", |b| b.iter(|| f.raw.sign(black_box(&f.message))));
    group.bench_function("raw_verify_150B", |b| {
        b.iter(|| f.raw.verifying_key().verify(black_box(&f.message), &f.signature).unwrap())
    });
    group.bench_function("raw_verify_strict_150B", |b| {
        b.iter(|| f.raw.verifying_key().verify_strict(black_box(&f.message), &f.signature).unwrap())
    });
    group.finish();
    let mut group = c.benchmark_group("token");
    group.bench_function("issue_code", |b| b.iter(|| issue_code(&f.key, black_box(&f.claims))));
    group.bench_function("verify_code", |b| b.iter(|| verify_code(black_box(&f.token), &f.trust, &f.opts).unwrap()));
    group.bench_function("verifier_verify_code", |b| {
        b.iter(|| f.verifier.verify_code(black_box(&f.token), &f.opts).unwrap())
    });
    group.bench_function("issue_venue", |b| b.iter(|| issue_venue(&f.key, black_box(&f.venue))));
    group.bench_function("verify_venue", |b| {
        b.iter(|| verify_venue(black_box(&f.venue_token), &f.trust, &f.opts).unwrap())
    });
    group.finish();
    c.final_summary();
}

/// Operations per second of `op`, best of a few rounds.
fn rate(rounds: usize, iterations: u32, mut op: impl FnMut()) -> f64 {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                op();
            }
            f64::from(iterations) / start.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

fn ratios(f: &Fixture) {
    const ITERATIONS: u32 = 2_000;
    let mut sign = 0.0;
    let mut verify = 0.0;
    let mut strict = 0.0;
    let mut issue = 0.0;
    let mut check = 0.0;
    let mut prepared = 0.0;
    // Interleaved rounds, so that drift of the machine touches both sides alike.
    for _ in 0..3 {
        sign = f64::max(
            sign,
            rate(2, ITERATIONS, || {
                black_box(f.raw.sign(black_box(&f.message)));
            }),
        );
        issue = f64::max(issue, rate(2, ITERATIONS, || drop(black_box(issue_code(&f.key, black_box(&f.claims))))));
        verify = f64::max(
            verify,
            rate(2, ITERATIONS, || f.raw.verifying_key().verify(black_box(&f.message), &f.signature).unwrap()),
        );
        strict = f64::max(
            strict,
            rate(2, ITERATIONS, || f.raw.verifying_key().verify_strict(black_box(&f.message), &f.signature).unwrap()),
        );
        check = f64::max(
            check,
            rate(2, ITERATIONS, || drop(black_box(verify_code(black_box(&f.token), &f.trust, &f.opts).unwrap()))),
        );
        prepared = f64::max(
            prepared,
            rate(2, ITERATIONS, || drop(black_box(f.verifier.verify_code(black_box(&f.token), &f.opts).unwrap()))),
        );
    }
    println!();
    println!("one core, best of 6 rounds of {ITERATIONS}; target: token ≥ 80% of the raw rate");
    println!("{:<34} {:>10}", "operation", "per second");
    println!("{:<34} {:>10.0}", "raw ed25519 sign, 150 B", sign);
    println!("{:<34} {:>10.0}   {:.0}% of raw sign", "issue_code", issue, 100.0 * issue / sign);
    println!("{:<34} {:>10.0}", "raw ed25519 verify, 150 B", verify);
    println!("{:<34} {:>10.0}", "raw ed25519 verify_strict, 150 B", strict);
    println!(
        "{:<34} {:>10.0}   {:.0}% of raw verify, {:.0}% of raw verify_strict",
        "verify_code",
        check,
        100.0 * check / verify,
        100.0 * check / strict
    );
    println!(
        "{:<34} {:>10.0}   {:.0}% of raw verify, {:.0}% of raw verify_strict",
        "Verifier::verify_code",
        prepared,
        100.0 * prepared / verify,
        100.0 * prepared / strict
    );
    println!("token length: {} characters", f.token.len());
}

fn main() {
    let f = fixture();
    // `cargo test --benches` passes `--bench` only when benchmarking; run the quick check then.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let profiling = std::env::args().any(|a| a == "--profile-time");
    if benchmarking {
        criterion_benches(&f);
        if !profiling {
            ratios(&f);
        }
    } else {
        assert!(verify_code(&f.token, &f.trust, &f.opts).is_ok());
    }
}
