//! What the fuzz targets share: the keys and lists they verify against, and the envelope
//! steps (COSE, zlib, base45) to build a token around fuzzed bytes at any layer.
//!
//! Keys are fixed seeds, as in the crates' tests, so that seeds written by
//! `examples/seeds.rs` verify in the targets.

use coset::{iana, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable};
use healthcode_token::{SigningKey, TokenKind, TrustList, TrustedKey};

/// 2025-11-25T10:00:00+08:00, the tests' `NOW`.
pub const NOW: i64 = 1_764_036_000;
pub const REGION: &str = "33";

/// The issuing key every token target signs with: the tests' `key(1)`.
pub fn issuer() -> SigningKey {
    SigningKey::from_seed([1; 32])
}

/// The root key the trust-list target pins.
pub fn root() -> SigningKey {
    SigningKey::from_seed([9; 32])
}

/// A list trusting [`issuer`] from a day before [`NOW`].
pub fn trust() -> TrustList {
    TrustList {
        region: REGION.into(),
        sequence: 1,
        issued_at: NOW - 86_400,
        keys: vec![TrustedKey::of(&issuer(), NOW - 86_400)],
    }
}

pub fn sign(key: &SigningKey, message: &[u8]) -> [u8; 64] {
    use ed25519_dalek::Signer;
    ed25519_dalek::SigningKey::from_bytes(&key.seed()).sign(message).to_bytes()
}

/// A tagged COSE_Sign1 around `payload` whose signature by `key` holds (EdDSA, its kid).
pub fn signed_cose(key: &SigningKey, payload: &[u8]) -> Vec<u8> {
    let protected =
        HeaderBuilder::new().algorithm(iana::Algorithm::EdDSA).key_id(key.key_id().as_bytes().to_vec()).build();
    CoseSign1Builder::new()
        .protected(protected)
        .payload(payload.to_vec())
        .create_signature(b"", |tbs| sign(key, tbs).to_vec())
        .build()
        .to_tagged_vec()
        .expect("a COSE_Sign1 of byte strings serialises")
}

/// `prefix + base45(zlib(cose))`, compressed by miniz_oxide (a real deflate stream, not
/// only the stored blocks the issuer writes).
pub fn wrap(kind: TokenKind, cose: &[u8]) -> String {
    wrap_zlib(kind, &miniz_oxide::deflate::compress_to_vec_zlib(cose, 6))
}

/// `prefix + base45(zlib)`, for a fuzzed zlib stream.
pub fn wrap_zlib(kind: TokenKind, zlib: &[u8]) -> String {
    format!("{}{}", kind.prefix(), base45::encode(zlib))
}

/// The kind a fuzzed byte names.
pub fn kind_of(byte: u8) -> TokenKind {
    [TokenKind::Code, TokenKind::Venue, TokenKind::Card][usize::from(byte % 3)]
}

/// Splits an input into a mode byte and the rest; `None` for an empty input.
pub fn mode(data: &[u8]) -> Option<(u8, &[u8])> {
    data.split_first().map(|(m, rest)| (*m, rest))
}
