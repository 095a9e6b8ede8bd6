//! Tokens the issuing functions would never make, built by hand to reach each refusal
//! that needs access to the envelope.

use coset::cbor::Value;
use coset::cwt::{ClaimsSetBuilder, Timestamp};
use coset::{iana, CborSerializable, CoseSign1Builder, HeaderBuilder};
use healthcode_domain::{Colour, PersonKind};

use crate::envelope::craft;
use crate::*;

const NOW: i64 = 1_764_036_000;

fn issuer() -> SigningKey {
    SigningKey::from_seed([1; 32])
}

fn list() -> TrustList {
    TrustList {
        region: "33".into(),
        sequence: 1,
        issued_at: NOW - 10,
        keys: vec![TrustedKey::of(&issuer(), NOW - 86_400)],
    }
}

fn claims() -> CodeClaims {
    CodeClaims {
        issuer: "33".into(),
        code_id: "c_1".into(),
        colour: Colour::Green,
        kind: PersonKind::Domestic,
        display_name: "李*".into(),
        issued_at: NOW,
        expires_at: NOW + DEFAULT_CODE_LIFETIME_SECS,
    }
}

fn verify(token: &str) -> Result<CodeClaims, VerifyError> {
    verify_code(token, &list(), &VerifyOptions::at(NOW))
}

/// A correctly signed code token around an arbitrary payload and protected header.
fn signed(payload: Vec<u8>, alg: iana::Algorithm) -> String {
    let key = issuer();
    let protected = HeaderBuilder::new().algorithm(alg).key_id(key.key_id().as_bytes().to_vec()).build();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(b"", |tbs| key.sign(tbs).to_vec())
        .build();
    craft::wrap(TokenKind::Code, &craft::cose_to_vec(sign1))
}

fn payload_with(own: Value, iat: i64, exp: i64) -> Vec<u8> {
    ClaimsSetBuilder::new()
        .issuer("33".into())
        .expiration_time(Timestamp::WholeSeconds(exp))
        .issued_at(Timestamp::WholeSeconds(iat))
        .private_claim(CODE_CLAIM_KEY, own)
        .build()
        .to_vec()
        .unwrap()
}

fn own(code_id: &str, colour: i64) -> Value {
    Value::Map(vec![
        (1.into(), Value::Text(code_id.into())),
        (2.into(), colour.into()),
        (3.into(), 0.into()),
        (4.into(), Value::Text("李*".into())),
    ])
}

fn expect_encoding(token: &str, fragment: &str) {
    match verify(token) {
        Err(VerifyError::BadEncoding(detail)) => assert!(detail.contains(fragment), "{detail}"),
        other => panic!("expected BadEncoding({fragment}), got {other:?}"),
    }
}

#[test]
fn the_hand_built_envelope_matches_the_issued_one() {
    let token = signed(crate::claims::code_payload(&claims()), iana::Algorithm::EdDSA);
    assert_eq!(token, issue_code(&issuer(), &claims()));
    assert_eq!(verify(&token), Ok(claims()));
}

#[test]
fn a_changed_payload_byte_breaks_the_signature() {
    let token = issue_code(&issuer(), &claims());
    let mut sign1 = craft::parse_cose(&craft::unwrap(&token));
    let payload = sign1.payload.as_mut().unwrap();
    // The last byte is in the masked name; changing it keeps the payload well formed.
    *payload.last_mut().unwrap() ^= 0x01;
    let err = verify(&craft::wrap(TokenKind::Code, &craft::cose_to_vec(sign1))).unwrap_err();
    assert_eq!(err, VerifyError::BadSignature);
    assert_eq!(err.code(), "bad_signature");
}

#[test]
fn a_changed_signature_byte_is_a_bad_signature() {
    let token = issue_code(&issuer(), &claims());
    let mut sign1 = craft::parse_cose(&craft::unwrap(&token));
    sign1.signature[10] ^= 0x80;
    assert_eq!(verify(&craft::wrap(TokenKind::Code, &craft::cose_to_vec(sign1))), Err(VerifyError::BadSignature));
}

#[test]
fn another_trusted_key_id_in_the_header_is_a_bad_signature() {
    // The header names key 2, which is trusted, but key 1 signed: no key confusion.
    let other = SigningKey::from_seed([2; 32]);
    let mut trust = list();
    trust.keys.push(TrustedKey::of(&other, NOW - 86_400));
    let token = issue_code(&issuer(), &claims());
    let mut sign1 = craft::parse_cose(&craft::unwrap(&token));
    sign1.protected.header.key_id = other.key_id().as_bytes().to_vec();
    sign1.protected.original_data = None;
    let token = craft::wrap(TokenKind::Code, &craft::cose_to_vec(sign1));
    assert_eq!(verify_code(&token, &trust, &VerifyOptions::at(NOW)), Err(VerifyError::BadSignature));
}

#[test]
fn a_small_order_key_in_a_hand_made_list_verifies_nothing() {
    // Under the identity point, S = 0 with R = the identity satisfies the verification
    // equation for every message.
    let mut weak = [0u8; 32];
    weak[0] = 1;
    let trusted = TrustedKey::new(weak, NOW - 86_400);
    let protected =
        HeaderBuilder::new().algorithm(iana::Algorithm::EdDSA).key_id(trusted.kid.as_bytes().to_vec()).build();
    let mut signature = vec![0u8; 64];
    signature[0] = 1;
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(crate::claims::code_payload(&claims()))
        .signature(signature)
        .build();
    let token = craft::wrap(TokenKind::Code, &craft::cose_to_vec(sign1));
    let trust = TrustList { keys: vec![trusted], ..list() };
    assert_eq!(verify_code(&token, &trust, &VerifyOptions::at(NOW)), Err(VerifyError::BadSignature));
    assert_eq!(Verifier::new(trust).verify_code(&token, &VerifyOptions::at(NOW)), Err(VerifyError::BadSignature));
}

#[test]
fn only_eddsa_with_an_eight_byte_key_id_is_read() {
    expect_encoding(&signed(crate::claims::code_payload(&claims()), iana::Algorithm::ES256), "not EdDSA");
    let key = issuer();
    let protected = HeaderBuilder::new().algorithm(iana::Algorithm::EdDSA).key_id(vec![1, 2, 3]).build();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(crate::claims::code_payload(&claims()))
        .create_signature(b"", |tbs| key.sign(tbs).to_vec())
        .build();
    expect_encoding(&craft::wrap(TokenKind::Code, &craft::cose_to_vec(sign1)), "not 8 bytes");
}

#[test]
fn an_untagged_or_truncated_cose_structure_is_refused() {
    let cose = craft::unwrap(&issue_code(&issuer(), &claims()));
    // Tag 18 is the single byte 0xd2.
    assert_eq!(cose[0], 0xd2);
    expect_encoding(&craft::wrap(TokenKind::Code, &cose[1..]), "not a COSE_Sign1");
    expect_encoding(&craft::wrap(TokenKind::Code, &cose[..cose.len() - 1]), "not a COSE_Sign1");
    let mut longer = cose.clone();
    longer.push(0);
    expect_encoding(&craft::wrap(TokenKind::Code, &longer), "not a COSE_Sign1");
}

#[test]
fn a_zip_bomb_is_stopped_at_the_inflate_limit() {
    // 256 KiB of zeros: a token of under 4096 characters that would inflate 64-fold.
    let bomb = craft::wrap_deflated(TokenKind::Code, &vec![0u8; 256 << 10]);
    assert!(bomb.len() < MAX_TOKEN_CHARS, "{}", bomb.len());
    expect_encoding(&bomb, "inflates to more than 4096 bytes");
}

#[test]
fn bytes_after_the_zlib_stream_are_refused() {
    let token = issue_code(&issuer(), &claims());
    let mut compressed = base45::decode(&token[4..]).unwrap();
    compressed.extend_from_slice(b"xy");
    expect_encoding(&format!("HC1:{}", base45::encode(&compressed)), "after the end of the zlib stream");
}

#[test]
fn non_canonical_base45_is_refused() {
    // Two trailing characters (an odd number of bytes) can spell values above 255, which
    // the decoder would silently truncate.
    let token = (0..8)
        .map(|n| issue_code(&issuer(), &CodeClaims { display_name: "李*".repeat(n + 1), ..claims() }))
        .find(|token| (token.len() - 4) % 3 == 2)
        .expect("some name length compresses to an odd size");
    let (head, tail) = token.split_at(token.len() - 2);
    let value = base45::decode(tail).unwrap()[0] as usize + 256;
    let table = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let respelled = format!("{head}{}{}", table[value % 45] as char, table[value / 45] as char);
    assert_eq!(base45::decode(&respelled[4..]).unwrap(), base45::decode(&token[4..]).unwrap());
    expect_encoding(&respelled, "not canonical base45");
    expect_encoding("HC1:0", "not base45");
}

#[test]
fn signed_but_malformed_claims_are_bad_encoding() {
    let alg = iana::Algorithm::EdDSA;
    expect_encoding(&signed(payload_with(own("c_1", 0), NOW, NOW - 1), alg), "`exp` is before");
    expect_encoding(&signed(payload_with(own(&"x".repeat(65), 0), NOW, NOW + 60), alg), "code_id");
    expect_encoding(&signed(payload_with(own("c_1", 4), NOW, NOW + 60), alg), "colour");
    expect_encoding(&signed(payload_with(Value::Text("x".into()), NOW, NOW + 60), alg), "not a map");
    let repeated = Value::Map(vec![
        (1.into(), Value::Text("a".into())),
        (1.into(), Value::Text("b".into())),
        (2.into(), 0.into()),
        (3.into(), 0.into()),
        (4.into(), Value::Text("n".into())),
    ]);
    expect_encoding(&signed(payload_with(repeated, NOW, NOW + 60), alg), "appears twice");
    expect_encoding(&signed(craft::cbor(&Value::Array(vec![])), alg), "not a CWT claims set");
    let no_private = ClaimsSetBuilder::new()
        .issuer("33".into())
        .expiration_time(Timestamp::WholeSeconds(NOW + 60))
        .issued_at(Timestamp::WholeSeconds(NOW))
        .build()
        .to_vec()
        .unwrap();
    expect_encoding(&signed(no_private, alg), "private claim -65537 is missing");
}

#[test]
fn a_code_carrying_a_venue_claim_is_the_wrong_type() {
    let both = ClaimsSetBuilder::new()
        .issuer("33".into())
        .expiration_time(Timestamp::WholeSeconds(NOW + 60))
        .issued_at(Timestamp::WholeSeconds(NOW))
        .private_claim(CODE_CLAIM_KEY, own("c_1", 0))
        .private_claim(VENUE_CLAIM_KEY, Value::Map(vec![]))
        .build()
        .to_vec()
        .unwrap();
    assert_eq!(
        verify(&signed(both, iana::Algorithm::EdDSA)),
        Err(VerifyError::WrongTokenType { expected: TokenKind::Code, found: TokenKind::Venue })
    );
}

mod mutated_envelope {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// Changes below the text layer reach the CBOR and COSE readers and the signature
        /// check; none may panic, and none may produce other claims.
        #[test]
        fn changed_cose_bytes_never_verify_as_other_claims(
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
            cut in prop::option::of(any::<prop::sample::Index>()),
        ) {
            let mut cose = craft::unwrap(&issue_code(&issuer(), &claims()));
            for (at, byte) in &edits {
                let at = at.index(cose.len());
                cose[at] = *byte;
            }
            if let Some(cut) = cut {
                cose.truncate(cut.index(cose.len()));
            }
            if let Ok(found) = verify(&craft::wrap(TokenKind::Code, &cose)) {
                prop_assert_eq!(found, claims());
            }
        }
    }
}

/// The bytes the README promises to a writer of another verifier.
mod wire_format {
    use ed25519_dalek::Verifier as _;

    use super::*;

    #[test]
    fn a_resident_code_is_laid_out_as_documented() {
        let key = issuer();
        let token = issue_code(&key, &claims());
        let zlib_bytes = base45::decode(&token[4..]).unwrap();
        // zlib header, then one final stored block.
        assert_eq!(&zlib_bytes[..3], &[0x78, 0x01, 0x01]);
        let cose = craft::unwrap(&token);
        // Tag 18, an array of 4, the protected header as a 13-byte bstr {1: -8, 4: h'kid'}.
        let mut protected = vec![0xa2, 0x01, 0x27, 0x04, 0x48];
        protected.extend_from_slice(key.key_id().as_bytes());
        assert_eq!(&cose[..3], &[0xd2, 0x84, 0x4d]);
        assert_eq!(&cose[3..16], &protected[..]);
        assert_eq!(cose[16], 0xa0, "empty unprotected header");
        assert_eq!(&cose[cose.len() - 66..cose.len() - 64], &[0x58, 0x40], "64-byte signature last");

        let sign1 = craft::parse_cose(&cose);
        let payload = sign1.payload.clone().unwrap();
        // {1: "33", 4: exp, 6: iat, -65537: {...}} in that order.
        assert_eq!(&payload[..5], &[0xa4, 0x01, 0x62, b'3', b'3']);
        assert!(payload.windows(5).any(|w| w == [0x3a, 0x00, 0x01, 0x00, 0x00]));

        // An independent check: build the Sig_structure from the README and verify it.
        let sig_structure = craft::cbor(&Value::Array(vec![
            Value::Text("Signature1".into()),
            Value::Bytes(protected),
            Value::Bytes(vec![]),
            Value::Bytes(payload),
        ]));
        let public = ed25519_dalek::VerifyingKey::from_bytes(&key.public()).unwrap();
        let signature = ed25519_dalek::Signature::from_slice(&sign1.signature).unwrap();
        assert!(public.verify(&sig_structure, &signature).is_ok());
    }

    #[test]
    fn a_venue_code_uses_its_own_private_claim() {
        let venue = VenueClaims {
            issuer: "33".into(),
            venue_id: "v_1".into(),
            category: "school".into(),
            window_start: NOW,
            window_end: NOW + 60,
        };
        let cose = craft::unwrap(&issue_venue(&issuer(), &venue));
        let payload = craft::parse_cose(&cose).payload.unwrap();
        assert!(payload.windows(5).any(|w| w == [0x3a, 0x00, 0x01, 0x00, 0x01]));
        assert!(!payload.windows(5).any(|w| w == [0x3a, 0x00, 0x01, 0x00, 0x00]));
    }
}
