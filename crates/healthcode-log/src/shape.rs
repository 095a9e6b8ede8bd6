//! Which subtrees an RFC 9162 proof is made of, as leaf ranges, without any hashes.
//!
//! Every proof element is the hash of a node of the RFC 6962 tree, i.e. of a leaf range
//! `[start, end)` whose start is aligned to the power of two covering it; it is either a
//! complete subtree or a right-edge node ending at the tree size. These are the iterative
//! equivalents of the RFC's recursive PATH and PROOF (as in the Go and transparency-dev
//! implementations); the property tests hold them against `memory.rs`.

/// The ranges of the audit path of leaf `index` in a tree of `size`, bottom-up.
/// Requires `index < size`.
pub(crate) fn inclusion_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    // Below level `inner` the path to `index` and the path to the last leaf are apart:
    // siblings there are complete, except the one at `inner - 1`, which holds the last
    // leaf and may be cut short at `size`.
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    let mut ranges = Vec::with_capacity(64);
    for level in 0..inner {
        let start = ((index >> level) ^ 1) << level;
        ranges.push((start, start + (1u64 << level).min(size - start)));
    }
    // Above it `index` lies on the right edge; a left sibling exists only where the
    // index has a one bit, and a right-edge node with no sibling moves up unchanged.
    for level in inner..64 {
        if (index >> level) & 1 == 1 {
            let start = ((index >> level) ^ 1) << level;
            ranges.push((start, start + (1u64 << level)));
        }
    }
    ranges
}

/// The ranges of the consistency proof from `old_size` to `new_size` leaves.
/// Requires `old_size <= new_size`; empty when they are equal or `old_size` is 0.
pub(crate) fn consistency_ranges(old_size: u64, new_size: u64) -> Vec<(u64, u64)> {
    if old_size == 0 || old_size == new_size {
        return Vec::new();
    }
    // The old tree's last maximal complete subtree is a node of the new tree too; the
    // proof is that node plus its audit path in the new tree (with the node omitted when
    // it is the whole old tree, whose root the verifier already has).
    let level = old_size.trailing_zeros();
    let index = (old_size - 1) >> level;
    let shifted_size = ((new_size - 1) >> level) + 1;
    let mut ranges = Vec::new();
    if index != 0 {
        ranges.push((index << level, old_size));
    }
    for (start, end) in inclusion_ranges(index, shifted_size) {
        ranges.push((start << level, (end << level).min(new_size)));
    }
    ranges
}
