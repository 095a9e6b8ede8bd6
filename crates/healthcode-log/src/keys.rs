//! Ed25519 note keys and their C2SP text forms.
//!
//! Verifier key: `<name>+<hex key hash>+<base64(0x01 || public key)>`.
//! Signer key: `PRIVATE+KEY+<name>+<hex key hash>+<base64(0x01 || seed)>`.
//! The key hash is the first four bytes of SHA-256(name || 0x0A || 0x01 || public key),
//! so a verifier recognises its signature lines without trying every key.

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::note::NoteError;

/// The algorithm byte of Ed25519 in C2SP signed notes.
const ALG_ED25519: u8 = 0x01;
const PRIVATE_PREFIX: &str = "PRIVATE+KEY+";

/// A key that signs notes (checkpoints). Its `Debug` never shows the secret.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    key_hash: u32,
    key: SigningKey,
}

/// A key that checks note signatures, as published to residents and auditors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_hash: u32,
    key: VerifyingKey,
}

fn key_hash(name: &str, public: &VerifyingKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_ED25519]);
    h.update(public.as_bytes());
    let digest = h.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Key names end up inside signature lines, which are space separated, and inside key
/// texts, which are `+` separated.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('+') && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn malformed(what: &'static str) -> NoteError {
    NoteError::MalformedKey(what)
}

/// Splits `<name>+<hash>+<base64 key>` and checks the key material is an Ed25519 key of
/// 32 bytes; the base64 may itself contain `+`, hence splitting only twice.
fn split_key(text: &str) -> Result<(&str, u32, [u8; 32]), NoteError> {
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(malformed("expected <name>+<key hash>+<key>"));
    };
    if !valid_name(name) {
        return Err(malformed("invalid key name"));
    }
    // Lower case only, as written: one key has one text.
    if hash.len() != 8 || !hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(malformed("the key hash must be 8 lower-case hex digits"));
    }
    let hash = u32::from_str_radix(hash, 16).map_err(|_| malformed("the key hash must be 8 hex digits"))?;
    let raw = B64.decode(key).map_err(|_| malformed("the key is not base64"))?;
    match raw.split_first() {
        Some((&ALG_ED25519, bytes)) => {
            let bytes: [u8; 32] = bytes.try_into().map_err(|_| malformed("an Ed25519 key has 32 bytes"))?;
            Ok((name, hash, bytes))
        }
        _ => Err(malformed("only Ed25519 keys (algorithm 1) are supported")),
    }
}

fn key_text(name: &str, hash: u32, bytes: &[u8; 32]) -> String {
    let mut raw = Vec::with_capacity(33);
    raw.push(ALG_ED25519);
    raw.extend_from_slice(bytes);
    format!("{name}+{hash:08x}+{}", B64.encode(raw))
}

impl NoteSigner {
    /// A signer from a 32-byte Ed25519 seed. The crate draws no randomness: generating
    /// the seed is the caller's job (e.g. the CLI's `keys` command).
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, NoteError> {
        if !valid_name(name) {
            return Err(malformed("invalid key name"));
        }
        let key = SigningKey::from_bytes(&seed);
        Ok(Self { name: name.to_owned(), key_hash: key_hash(name, &key.verifying_key()), key })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex hash>+<base64(0x01 || seed)>`.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let rest = text.strip_prefix(PRIVATE_PREFIX).ok_or(malformed("a signer key starts with PRIVATE+KEY+"))?;
        let (name, hash, seed) = split_key(rest)?;
        let signer = Self::from_seed(name, seed)?;
        if signer.key_hash != hash {
            return Err(malformed("the key hash does not match the key"));
        }
        Ok(signer)
    }

    /// The secret key text; handle it as the secret it is.
    pub fn to_secret_text(&self) -> String {
        format!("{PRIVATE_PREFIX}{}", key_text(&self.name, self.key_hash, self.key.as_bytes()))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_hash(&self) -> u32 {
        self.key_hash
    }

    /// The matching verifier, to publish.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier { name: self.name.clone(), key_hash: self.key_hash, key: self.key.verifying_key() }
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_hash", &format_args!("{:08x}", self.key_hash))
            .field("key", &"<redacted>")
            .finish()
    }
}

impl NoteVerifier {
    /// Parses `<name>+<hex hash>+<base64(0x01 || public key)>`.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let (name, hash, bytes) = split_key(text)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| malformed("not a valid Ed25519 public key"))?;
        if key_hash(name, &key) != hash {
            return Err(malformed("the key hash does not match the key"));
        }
        Ok(Self { name: name.to_owned(), key_hash: hash, key })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_hash(&self) -> u32 {
        self.key_hash
    }

    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
            return false;
        };
        // Strict verification refuses malleable signatures and small-order keys, so one
        // note has exactly one valid signature per key.
        self.key.verify_strict(message, &signature).is_ok()
    }
}

impl fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&key_text(&self.name, self.key_hash, self.key.as_bytes()))
    }
}
