//! C2SP signed notes (c2sp.org/signed-note): text, a blank line, signature lines.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::keys::{valid_name, NoteSigner, NoteVerifier};

/// Signature lines start with an em dash (U+2014) and a space.
const SIG_PREFIX: &str = "\u{2014} ";
/// More signatures than this is not a note a log would write; refusing bounds the work.
const MAX_SIGNATURES: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("malformed key: {0}")]
    MalformedKey(&'static str),
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    #[error("the note carries no signature")]
    MissingSignature,
    #[error("the note is not signed by the expected key; it is signed by: {}", .0.join(", "))]
    UnknownKey(Vec<String>),
    #[error("the signature by {0} does not match the note text")]
    BadSignature(String),
}

/// Note text is UTF-8 that ends in a newline and has no other control characters, so
/// what a person reads is exactly what was signed.
fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed("the text must end with a newline"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::Malformed("the text contains a control character"));
    }
    Ok(())
}

/// Signs `text` with each signer, in order.
pub fn sign_note(text: &str, signers: &[&NoteSigner]) -> Result<String, NoteError> {
    check_text(text)?;
    if signers.is_empty() {
        return Err(NoteError::MissingSignature);
    }
    let mut note = format!("{text}\n");
    for signer in signers {
        let mut blob = Vec::with_capacity(68);
        blob.extend_from_slice(&signer.key_hash().to_be_bytes());
        blob.extend_from_slice(&signer.sign(text.as_bytes()));
        note.push_str(&format!("{SIG_PREFIX}{} {}\n", signer.name(), B64.encode(blob)));
    }
    Ok(note)
}

/// Checks that `note` carries a valid signature by `verifier` and returns its text.
///
/// Signatures by other keys (e.g. witnesses' cosignatures) are allowed and ignored; a
/// signature that claims `verifier`'s name and key hash but does not verify fails.
pub fn open_note<'a>(note: &'a str, verifier: &NoteVerifier) -> Result<&'a str, NoteError> {
    // Signature lines never contain a blank line, so the last one separates.
    let split = note.rfind("\n\n").ok_or(NoteError::MissingSignature)?;
    let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
    check_text(text)?;
    if sigs.is_empty() {
        return Err(NoteError::MissingSignature);
    }
    if !sigs.ends_with('\n') {
        return Err(NoteError::Malformed("the last signature line must end with a newline"));
    }
    let mut others = Vec::new();
    let mut verified = false;
    for (n, line) in sigs[..sigs.len() - 1].split('\n').enumerate() {
        if n >= MAX_SIGNATURES {
            return Err(NoteError::Malformed("too many signatures"));
        }
        let rest = line.strip_prefix(SIG_PREFIX).ok_or(NoteError::Malformed("a signature line starts with '— '"))?;
        let (name, b64) =
            rest.split_once(' ').ok_or(NoteError::Malformed("a signature line is '— <name> <base64>'"))?;
        if !valid_name(name) {
            return Err(NoteError::Malformed("invalid key name in a signature line"));
        }
        let blob = B64.decode(b64).map_err(|_| NoteError::Malformed("a signature is not base64"))?;
        if blob.len() < 5 {
            return Err(NoteError::Malformed("a signature is too short"));
        }
        let hash = u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]);
        if name != verifier.name() || hash != verifier.key_hash() {
            others.push(format!("{name}+{hash:08x}"));
            continue;
        }
        if !verifier.verify(text.as_bytes(), &blob[4..]) {
            return Err(NoteError::BadSignature(format!("{name}+{hash:08x}")));
        }
        verified = true;
    }
    if verified {
        Ok(text)
    } else {
        Err(NoteError::UnknownKey(others))
    }
}
