//! Merkle proofs as a phone or an auditor receives them: `verify_inclusion` and
//! `verify_consistency` with fuzzed sizes, indices, roots and proof hashes.
//!
//! Checked besides "no panic" (and no hang, for sizes up to 2^64 - 1): the proofs of a
//! real tree of up to 300 leaves (`inclusion_proof_of`, `consistency_proof_of`) verify,
//! and any one-byte change, a hash more or less, or another index is refused.
#![no_main]

use arbitrary::Arbitrary;
use healthcode_log::{
    consistency_proof_of, inclusion_proof_of, leaf_hash, mth, verify_consistency, verify_inclusion, Hash,
};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    /// Any proof, as received.
    index: u64,
    size: u64,
    old_size: u64,
    leaf: Hash,
    root: Hash,
    old_root: Hash,
    proof: Vec<Hash>,
    /// A real tree: leaves, the leaf or old size to prove, and a change to make.
    leaves: u16,
    at: u16,
    flip: Option<(u8, u8, u8)>,
}

fuzz_target!(|input: Input| {
    let _ = verify_inclusion(&input.leaf, input.index, input.size, &input.proof, &input.root);
    let _ = verify_consistency(input.old_size, input.size, &input.old_root, &input.root, &input.proof);

    let n = usize::from(input.leaves % 300) + 1;
    let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&(i as u64).to_be_bytes())).collect();
    let root = mth(&leaves);
    let size = n as u64;

    let index = usize::from(input.at) % n;
    let proof = inclusion_proof_of(&leaves, index).expect("index in range");
    assert_eq!(verify_inclusion(&leaves[index], index as u64, size, &proof, &root), Ok(()));
    assert!(verify_inclusion(&leaves[index], index as u64, size, &[proof.clone(), vec![root]].concat(), &root).is_err());
    if let Some((_, shorter)) = proof.split_last() {
        assert!(verify_inclusion(&leaves[index], index as u64, size, shorter, &root).is_err());
    }
    if n > 1 {
        let other = (index + 1) % n;
        assert!(verify_inclusion(&leaves[index], other as u64, size, &proof, &root).is_err());
    }
    if let Some((which, byte, bit)) = input.flip {
        let mut bad = proof.clone();
        if !bad.is_empty() {
            let at = usize::from(which) % bad.len();
            bad[at][usize::from(byte) % 32] ^= 1 << (bit % 8);
            assert!(verify_inclusion(&leaves[index], index as u64, size, &bad, &root).is_err());
        }
    }

    let m = usize::from(input.at) % (n + 1);
    let old_root = mth(&leaves[..m]);
    let proof = consistency_proof_of(&leaves, m).expect("m <= n");
    assert_eq!(verify_consistency(m as u64, size, &old_root, &root, &proof), Ok(()));
    assert!(verify_consistency(m as u64, size, &old_root, &root, &[proof.clone(), vec![root]].concat()).is_err());
    if let Some((which, byte, bit)) = input.flip {
        if !proof.is_empty() {
            let mut bad = proof.clone();
            let at = usize::from(which) % bad.len();
            bad[at][usize::from(byte) % 32] ^= 1 << (bit % 8);
            assert!(verify_consistency(m as u64, size, &old_root, &root, &bad).is_err());
        }
        // Every tree extends the empty one, whatever its root: only a non-empty old tree binds it.
        if m > 0 {
            let mut bad_root = root;
            bad_root[usize::from(byte) % 32] ^= 1 << (bit % 8);
            assert!(verify_consistency(m as u64, size, &old_root, &bad_root, &proof).is_err());
        }
    }
});
