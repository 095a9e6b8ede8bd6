//! The one AEAD construction both layers use: `header || nonce || ciphertext+tag`, XChaCha20-Poly1305.
//!
//! XChaCha20's 192-bit nonce is why nonces can simply be drawn at random: the chance of a repeat stays negligible
//! for far more messages than a province will ever seal under one key, so no nonce counter has to be stored.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::rngs::OsRng;

use crate::VaultError;

pub(crate) const KEY_LEN: usize = 32;
pub(crate) const NONCE_LEN: usize = 24;
pub(crate) const TAG_LEN: usize = 16;

/// Appends `nonce || ciphertext+tag` to `out`, which already holds the cleartext header. The header is also
/// authenticated, through `aad`, by the callers that build `aad` from it.
pub(crate) fn seal_into(key: &[u8; KEY_LEN], aad: &[u8], plaintext: &[u8], out: &mut Vec<u8>) {
    let cipher = XChaCha20Poly1305::new(key.into());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let ciphertext = cipher
        .encrypt(&nonce, Payload { msg: plaintext, aad })
        .expect("XChaCha20-Poly1305 encryption only fails for messages larger than 256 GiB");
    out.reserve(NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
}

/// Opens `nonce || ciphertext+tag` (the header already removed by the caller).
pub(crate) fn open(key: &[u8; KEY_LEN], aad: &[u8], body: &[u8], what: &'static str) -> Result<Vec<u8>, VaultError> {
    if body.len() < NONCE_LEN + TAG_LEN {
        return Err(VaultError::malformed(what, format!("{} bytes is too short for a nonce and a tag", body.len())));
    }
    let (nonce, ciphertext) = body.split_at(NONCE_LEN);
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad }).map_err(|_| VaultError::Decrypt)
}

/// `domain || 0 || context`: the domain names the layer and format version, so a ciphertext of one layer or
/// version can never be accepted as another.
pub(crate) fn bound_aad(domain: &[u8], context: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(domain.len() + 1 + context.len());
    aad.extend_from_slice(domain);
    aad.push(0);
    aad.extend_from_slice(context);
    aad
}
