//! The envelope shared by both token kinds: `prefix + base45(zlib(COSE_Sign1))`.

use std::fmt;

use coset::{iana, CoseSign1, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable};
use ed25519_dalek::Verifier;

use crate::error::VerifyError;
use crate::keys::{KeyId, SigningKey};
use crate::zlib;

/// Longest token text a verifier looks at; real tokens are a few hundred characters.
pub const MAX_TOKEN_CHARS: usize = 4096;
/// Most bytes a token may inflate to; stops a zip bomb before it costs memory.
pub const MAX_INFLATED_BYTES: usize = 4096;

/// Which of the two token kinds a text is; each has its own prefix and private claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A resident's health code, `HC1:`.
    Code,
    /// A venue code (场所码), `HV1:`.
    Venue,
    /// A printed card that lasts (for people without a phone), `HP1:`: it names its
    /// holder's card, never a colour, which a gate asks the issuer for online.
    Card,
}

impl TokenKind {
    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::Code => "HC1:",
            TokenKind::Venue => "HV1:",
            TokenKind::Card => "HP1:",
        }
    }

    fn of_prefix(token: &str) -> Option<TokenKind> {
        [TokenKind::Code, TokenKind::Venue, TokenKind::Card].into_iter().find(|kind| token.starts_with(kind.prefix()))
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenKind::Code => "resident health code (HC1)",
            TokenKind::Venue => "venue code (HV1)",
            TokenKind::Card => "printed card (HP1)",
        })
    }
}

/// Signs `payload` (a CWT claims set) and wraps it for a QR code.
pub(crate) fn seal(key: &SigningKey, kind: TokenKind, payload: Vec<u8>) -> String {
    let protected =
        HeaderBuilder::new().algorithm(iana::Algorithm::EdDSA).key_id(key.key_id().as_bytes().to_vec()).build();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(b"", |tbs| key.sign(tbs).to_vec())
        .build();
    let cose = sign1.to_tagged_vec().expect("a COSE_Sign1 built from byte strings always serialises");
    let mut text = String::with_capacity(kind.prefix().len() + cose.len() * 3 / 2 + 4);
    text.push_str(kind.prefix());
    text.push_str(&base45::encode(zlib::stored(&cose)));
    text
}

/// A token whose envelope has been read but whose signature is not yet checked.
pub(crate) struct Unverified {
    pub kid: KeyId,
    sign1: CoseSign1,
}

impl Unverified {
    /// Checks the signature with `key` (see [`usable_key`]) and hands back the signed payload.
    pub fn verify(self, key: Option<&ed25519_dalek::VerifyingKey>) -> Result<Vec<u8>, VerifyError> {
        let key = key.ok_or(VerifyError::BadSignature)?;
        self.sign1.verify_signature(b"", |signature, tbs| {
            let signature = ed25519_dalek::Signature::from_slice(signature).map_err(|_| VerifyError::BadSignature)?;
            // RFC 8032 verification: `S` must be canonical and `R` is compared by its bytes,
            // so a signature cannot be altered into another that still verifies. Weak
            // (small-order) keys are refused by `usable_key`; `verify_strict` would also decompress
            // `R` to test its order, 20% of the verifier's time for nothing more here.
            key.verify(tbs, &signature).map_err(|_| VerifyError::BadSignature)
        })?;
        self.sign1.payload.ok_or_else(|| VerifyError::encoding("the COSE_Sign1 has no payload"))
    }
}

impl Unverified {
    /// What a signature check needs, taken apart so that many can be checked together:
    /// the signed bytes (COSE `Sig_structure`), the signature, and the payload (`None` if
    /// the envelope had none, which is refused after the signature like `verify` does).
    pub fn into_parts(self) -> (Vec<u8>, Option<ed25519_dalek::Signature>, Option<Vec<u8>>) {
        let tbs = self.sign1.tbs_data(b"");
        let signature = ed25519_dalek::Signature::from_slice(&self.sign1.signature).ok();
        (tbs, signature, self.sign1.payload)
    }
}

/// The curve point of a trusted public key, or `None` when the bytes are not a point or are
/// a small-order ("weak") key, under which any message would verify.
pub(crate) fn usable_key(public_key: &[u8; 32]) -> Option<ed25519_dalek::VerifyingKey> {
    ed25519_dalek::VerifyingKey::from_bytes(public_key).ok().filter(|key| !key.is_weak())
}

/// Reads the envelope of an untrusted token of the `expected` kind.
pub(crate) fn open(token: &str, expected: TokenKind) -> Result<Unverified, VerifyError> {
    if token.len() > MAX_TOKEN_CHARS {
        return Err(VerifyError::encoding(format!("longer than {MAX_TOKEN_CHARS} characters")));
    }
    match TokenKind::of_prefix(token) {
        Some(kind) if kind == expected => {}
        Some(found) => return Err(VerifyError::WrongTokenType { expected, found }),
        None => return Err(VerifyError::encoding(format!("does not start with `{}`", expected.prefix()))),
    }
    let body = &token[expected.prefix().len()..];
    let compressed = base45::decode(body).map_err(|_| VerifyError::encoding("not base45 text"))?;
    // The decoder truncates a final pair of characters spelling more than 255, so the same
    // bytes have other spellings; refusing them keeps one token text per signed content.
    // Only that pair can be non-canonical: full triples above 65535 are refused.
    if body.len() % 3 == 2 && base45::encode(&compressed[compressed.len() - 1..]) != body[body.len() - 2..] {
        return Err(VerifyError::encoding("not canonical base45"));
    }
    let cose = zlib::inflate(&compressed, MAX_INFLATED_BYTES).map_err(VerifyError::BadEncoding)?;
    let sign1 =
        CoseSign1::from_tagged_slice(&cose).map_err(|e| VerifyError::encoding(format!("not a COSE_Sign1: {e}")))?;
    let header = &sign1.protected.header;
    if header.alg != Some(coset::Algorithm::Assigned(iana::Algorithm::EdDSA)) {
        return Err(VerifyError::encoding("the protected header's algorithm is not EdDSA"));
    }
    let kid: [u8; 8] = header
        .key_id
        .as_slice()
        .try_into()
        .map_err(|_| VerifyError::encoding("the protected header's key id is not 8 bytes"))?;
    Ok(Unverified { kid: KeyId(kid), sign1 })
}

/// Helpers for tests that need to build tokens the issuing functions would never make.
#[cfg(test)]
pub(crate) mod craft {
    use super::*;

    pub fn wrap(kind: TokenKind, cose: &[u8]) -> String {
        format!("{}{}", kind.prefix(), base45::encode(zlib::stored(cose)))
    }

    /// As [`wrap`], really compressed: for payloads that deflate can shrink.
    pub fn wrap_deflated(kind: TokenKind, cose: &[u8]) -> String {
        format!("{}{}", kind.prefix(), base45::encode(miniz_oxide::deflate::compress_to_vec_zlib(cose, 9)))
    }

    pub fn unwrap(token: &str) -> Vec<u8> {
        zlib::inflate(&base45::decode(&token[4..]).unwrap(), MAX_INFLATED_BYTES).unwrap()
    }

    pub fn cose_to_vec(sign1: CoseSign1) -> Vec<u8> {
        sign1.to_tagged_vec().unwrap()
    }

    pub fn parse_cose(bytes: &[u8]) -> CoseSign1 {
        CoseSign1::from_tagged_slice(bytes).unwrap()
    }

    pub fn cbor(value: &coset::cbor::Value) -> Vec<u8> {
        let mut bytes = Vec::new();
        coset::cbor::ser::into_writer(value, &mut bytes).unwrap();
        bytes
    }
}
