//! RFC 6962 §2.1 hashing and the addressing of complete subtrees.

use sha2::{Digest, Sha256};

/// A SHA-256 digest: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; 32];

/// Levels stored by the caller are multiples of this: leaves (0), then 4, 8, 12, …
///
/// Storing every level would cost two rows per leaf; storing one level in four costs
/// 1 + 1/16 + 1/256 + … ≈ 1.07, and any missing node is recomputed from at most
/// 2^(STRIDE-1) = 8 stored nodes one stride below it.
pub const STRIDE: u8 = 4;

/// The hash of a leaf: SHA-256(0x00 || data). The prefix keeps a leaf from ever being
/// mistaken for an interior node (second-preimage resistance).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an interior node: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The complete subtree of 2^`level` leaves starting at leaf `index` · 2^`level`.
///
/// Level 0 is a leaf. Only complete subtrees have an id: the right edge of a tree whose
/// size is not a power of two is made of several of them, never of a partial one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

impl NodeId {
    pub const fn new(level: u8, index: u64) -> Self {
        Self { level, index }
    }

    /// The first leaf this subtree covers.
    pub const fn start(self) -> u64 {
        self.index << self.level
    }

    /// One past the last leaf this subtree covers.
    pub const fn end(self) -> u64 {
        (self.index + 1) << self.level
    }

    /// Whether the caller stores this node (see [`STRIDE`]).
    pub const fn is_stored(self) -> bool {
        self.level.is_multiple_of(STRIDE)
    }
}

/// The maximal complete subtrees that make up leaves `[start, end)`, left to right.
///
/// `start` must be a multiple of the largest power of two not exceeding `end - start`
/// rounded up, which holds for every node of an RFC 6962 tree; the pieces then shrink
/// from left to right following the binary digits of the length.
pub(crate) fn decompose(start: u64, end: u64) -> Vec<NodeId> {
    let mut pieces = Vec::new();
    let mut at = start;
    let mut len = end - start;
    while len > 0 {
        let level = 63 - len.leading_zeros() as u8;
        debug_assert_eq!(at % (1 << level), 0, "range [{start}, {end}) is not a tree node");
        pieces.push(NodeId::new(level, at >> level));
        at += 1 << level;
        len -= 1 << level;
    }
    pieces
}

/// Folds the hashes of consecutive complete subtrees (largest first) into the hash of
/// their union, as RFC 6962 does for a right edge: h1 ∘ (h2 ∘ (h3 ∘ …)).
pub(crate) fn fold_right(hashes: &[Hash]) -> Option<Hash> {
    let (last, rest) = hashes.split_last()?;
    Some(rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc)))
}

/// Lower-case hex, for key hashes and commitments.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(hex(&empty_root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn decomposition_follows_the_binary_digits_of_the_length() {
        assert_eq!(decompose(0, 7), vec![NodeId::new(2, 0), NodeId::new(1, 2), NodeId::new(0, 6)]);
        assert_eq!(decompose(8, 13), vec![NodeId::new(2, 2), NodeId::new(0, 12)]);
        assert!(decompose(5, 5).is_empty());
    }
}
