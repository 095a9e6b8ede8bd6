//! C2SP checkpoints (c2sp.org/tlog-checkpoint): the signed statement "the log named
//! `origin` has `size` entries and this root".

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::hash::Hash;
use crate::keys::{NoteSigner, NoteVerifier};
use crate::note::{open_note, sign_note, NoteError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error("malformed checkpoint: {0}")]
    Malformed(&'static str),
    #[error("the checkpoint is for log `{found}`, expected `{expected}`")]
    OriginMismatch { expected: String, found: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's unique name, e.g. `healthcode.example.gov.cn/log`.
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// `<origin>\n<size>\n<base64 root>\n`. healthcode writes no extension lines.
    pub fn to_body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, B64.encode(self.root))
    }

    /// Parses a checkpoint body. Extension lines after the root are accepted (they are
    /// covered by the signature) but not kept.
    pub fn parse_body(body: &str) -> Result<Self, CheckpointError> {
        let malformed = CheckpointError::Malformed;
        let lines = body.strip_suffix('\n').ok_or(malformed("the body must end with a newline"))?;
        let mut lines = lines.split('\n');
        let origin = lines.next().filter(|o| !o.is_empty()).ok_or(malformed("the origin line is empty"))?;
        let size = lines.next().ok_or(malformed("the size line is missing"))?;
        // One spelling per number: a signed statement should not have variants.
        if size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) || (size.len() > 1 && size.starts_with('0')) {
            return Err(malformed("the size must be a decimal number without leading zeros"));
        }
        let size = size.parse().map_err(|_| malformed("the size does not fit in 64 bits"))?;
        let root = lines.next().ok_or(malformed("the root hash line is missing"))?;
        let root = B64.decode(root).map_err(|_| malformed("the root hash is not base64"))?;
        let root = root.try_into().map_err(|_| malformed("the root hash must be 32 bytes"))?;
        if lines.any(str::is_empty) {
            return Err(malformed("an extension line is empty"));
        }
        Ok(Self { origin: origin.to_owned(), size, root })
    }

    /// The signed note of this checkpoint.
    pub fn sign(&self, signer: &NoteSigner) -> Result<String, CheckpointError> {
        Ok(sign_note(&self.to_body(), &[signer])?)
    }

    /// Verifies a signed checkpoint and that it is for the log the caller expects: a
    /// valid checkpoint of another log proves nothing about this one.
    pub fn open(note: &str, verifier: &NoteVerifier, expected_origin: &str) -> Result<Self, CheckpointError> {
        let checkpoint = Self::parse_body(open_note(note, verifier)?)?;
        if checkpoint.origin != expected_origin {
            return Err(CheckpointError::OriginMismatch {
                expected: expected_origin.to_owned(),
                found: checkpoint.origin,
            });
        }
        Ok(checkpoint)
    }
}
