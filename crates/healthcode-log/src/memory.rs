//! The RFC 6962 §2.1 recursive definitions over leaf hashes held in memory.
//!
//! These are written as the RFC states them, deliberately without sharing code with the
//! stride-storage planner, so that property tests can hold one against the other.

use crate::hash::{empty_root, node_hash, Hash};

/// The largest power of two strictly smaller than `n` (n ≥ 2).
fn split(n: usize) -> usize {
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// MTH(D[n]): the Merkle tree hash of the given leaf hashes.
pub fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// PATH(m, D[n]): the audit path of leaf `index`, bottom-up. `None` if out of range.
pub fn inclusion_proof_of(leaves: &[Hash], index: usize) -> Option<Vec<Hash>> {
    if index >= leaves.len() {
        return None;
    }
    let mut proof = Vec::new();
    path(index, leaves, &mut proof);
    Some(proof)
}

fn path(m: usize, d: &[Hash], out: &mut Vec<Hash>) {
    let n = d.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path(m, &d[..k], out);
        out.push(mth(&d[k..]));
    } else {
        path(m - k, &d[k..], out);
        out.push(mth(&d[..k]));
    }
}

/// PROOF(m, D[n]): the consistency proof from the first `m` leaves to all of them.
/// Empty when m is 0 or n; `None` if m > n.
pub fn consistency_proof_of(leaves: &[Hash], m: usize) -> Option<Vec<Hash>> {
    if m > leaves.len() {
        return None;
    }
    let mut proof = Vec::new();
    if m > 0 {
        subproof(m, leaves, true, &mut proof);
    }
    Some(proof)
}

fn subproof(m: usize, d: &[Hash], complete: bool, out: &mut Vec<Hash>) {
    let n = d.len();
    if m == n {
        if !complete {
            out.push(mth(d));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &d[..k], complete, out);
        out.push(mth(&d[k..]));
    } else {
        subproof(m - k, &d[k..], false, out);
        out.push(mth(&d[..k]));
    }
}
