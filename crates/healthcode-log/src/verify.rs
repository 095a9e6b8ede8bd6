//! Proof verification as RFC 9162 §2.1.3.2 and §2.1.4.2 state it.
//!
//! These run on a resident's phone or an auditor's laptop with nothing but the proof,
//! so they use no tree, no storage and no allocation.

use crate::error::LogError;
use crate::hash::{empty_root, node_hash, Hash};

/// Checks that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root is
/// `root`, given the audit path `proof` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(leaf_hash: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> Result<(), LogError> {
    if index >= size {
        return Err(LogError::IndexOutOfRange { index, size });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if sn == 0 {
            return Err(LogError::ProofLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                // On the right edge a node without a right sibling moves up unchanged.
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(LogError::ProofLength);
    }
    if r != *root {
        return Err(LogError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `old_size` leaves with root `old_root` is a prefix of the
/// tree of `new_size` leaves with root `new_root` (RFC 9162 §2.1.4.2).
///
/// Equal sizes need an empty proof and equal roots; every tree extends the empty tree,
/// whose root must then be SHA-256("").
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), LogError> {
    if old_size > new_size {
        return Err(LogError::SizeDecreased { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(LogError::ProofLength);
        }
        if old_size == 0 && *old_root != empty_root() {
            return Err(LogError::OldRootMismatch);
        }
        if old_size == new_size && old_root != new_root {
            return Err(LogError::RootMismatch);
        }
        return Ok(());
    }
    let (first, rest) = match proof {
        // A power-of-two old tree is itself a node of the new one; the verifier knows it.
        _ if old_size.is_power_of_two() => (old_root, proof),
        [first, rest @ ..] => (first, rest),
        [] => return Err(LogError::ProofLength),
    };
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return Err(LogError::ProofLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(LogError::ProofLength);
    }
    if fr != *old_root {
        return Err(LogError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(LogError::RootMismatch);
    }
    Ok(())
}
