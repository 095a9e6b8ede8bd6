//! The pure part of `healthcode audit verify`: given what the log served, decide whether
//! it kept its promises — one append-only history, every entry in it.

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::entry::{Entry, EntryError};
use crate::error::LogError;
use crate::hash::{leaf_hash, Hash};
use crate::memory::mth;
use crate::verify::{verify_consistency, verify_inclusion};

/// Which checkpoint or entry failed, and why. Indices count from 0: checkpoints in the
/// order given, entries by their leaf index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    #[error("{proofs} consistency proofs for {checkpoints} checkpoints: need one between each consecutive pair")]
    ProofCount { checkpoints: usize, proofs: usize },
    #[error("checkpoint {index} does not open: {source}")]
    Checkpoint { index: usize, source: CheckpointError },
    #[error("checkpoint {index} has size {size}, fewer than the {previous} entries of the one before: the log shrank")]
    Shrunk { index: usize, previous: u64, size: u64 },
    #[error(
        "checkpoint {index} (size {new_size}) does not extend the one before (size {old_size}): history was rewritten ({source})"
    )]
    Inconsistent { index: usize, old_size: u64, new_size: u64, source: LogError },
    #[error("entry {index} is not in the checkpointed tree: {source}")]
    NotIncluded { index: u64, source: LogError },
    #[error("entry {index} is in the tree but cannot be read: {source}")]
    Unreadable { index: u64, source: EntryError },
    #[error("the checkpoint covers {expected} entries but {got} were supplied")]
    EntryCount { expected: u64, got: u64 },
    #[error("the {size} entries supplied do not hash to the checkpoint's root: one was altered, dropped or reordered")]
    RootMismatch { size: u64 },
}

/// Opens each signed checkpoint (oldest first) and checks that each extends the one
/// before it, with `consistency_proofs[i]` proving checkpoint i+1 extends checkpoint i.
pub fn verify_chain(
    verifier: &crate::NoteVerifier,
    origin: &str,
    checkpoints: &[String],
    consistency_proofs: &[Vec<Hash>],
) -> Result<Vec<Checkpoint>, AuditError> {
    if consistency_proofs.len() != checkpoints.len().saturating_sub(1) {
        return Err(AuditError::ProofCount { checkpoints: checkpoints.len(), proofs: consistency_proofs.len() });
    }
    let mut opened: Vec<Checkpoint> = Vec::with_capacity(checkpoints.len());
    for (index, note) in checkpoints.iter().enumerate() {
        let checkpoint =
            Checkpoint::open(note, verifier, origin).map_err(|source| AuditError::Checkpoint { index, source })?;
        if let Some(previous) = opened.last() {
            if checkpoint.size < previous.size {
                return Err(AuditError::Shrunk { index, previous: previous.size, size: checkpoint.size });
            }
            verify_consistency(
                previous.size,
                checkpoint.size,
                &previous.root,
                &checkpoint.root,
                &consistency_proofs[index - 1],
            )
            .map_err(|source| AuditError::Inconsistent {
                index,
                old_size: previous.size,
                new_size: checkpoint.size,
                source,
            })?;
        }
        opened.push(checkpoint);
    }
    Ok(opened)
}

/// Checks each `(leaf index, leaf bytes, audit path)` against the checkpoint and reads
/// the entries. For a resident checking their own changes, or a sample.
pub fn verify_entries(
    checkpoint: &Checkpoint,
    entries: &[(u64, Vec<u8>, Vec<Hash>)],
) -> Result<Vec<Entry>, AuditError> {
    entries
        .iter()
        .map(|(index, bytes, proof)| {
            let index = *index;
            verify_inclusion(&leaf_hash(bytes), index, checkpoint.size, proof, &checkpoint.root)
                .map_err(|source| AuditError::NotIncluded { index, source })?;
            Entry::from_leaf_bytes(bytes).map_err(|source| AuditError::Unreadable { index, source })
        })
        .collect()
}

/// Checks that `leaves` are the checkpoint's whole log, in order: a full audit, which
/// also catches an entry the log left out of what it served.
pub fn verify_all_entries(checkpoint: &Checkpoint, leaves: &[Vec<u8>]) -> Result<Vec<Entry>, AuditError> {
    let got = leaves.len() as u64;
    if got != checkpoint.size {
        return Err(AuditError::EntryCount { expected: checkpoint.size, got });
    }
    let hashes: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();
    if mth(&hashes) != checkpoint.root {
        return Err(AuditError::RootMismatch { size: got });
    }
    leaves
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            Entry::from_leaf_bytes(bytes).map_err(|source| AuditError::Unreadable { index: i as u64, source })
        })
        .collect()
}
