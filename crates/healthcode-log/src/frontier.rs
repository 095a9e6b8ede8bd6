//! The appender: the right edge of the tree, enough to append and to compute the root.

use crate::error::LogError;
use crate::hash::{empty_root, fold_right, node_hash, Hash, NodeId, STRIDE};
use crate::plan::root_plan;
use crate::source::NodeSource;

/// The compact range `[0, size)`: the hashes of the maximal complete subtrees, one per
/// one bit of the size, largest (leftmost) first. At most 64 hashes, whatever the size.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds the frontier of a log of `size` leaves from its stored nodes; fetch
    /// `root_plan(size).nodes()` first (or call [`Plan::frontier`](crate::Plan::frontier)).
    pub fn from_stored(size: u64, fetched: &impl NodeSource) -> Result<Self, LogError> {
        root_plan(size).frontier(fetched)
    }

    pub(crate) fn from_parts(size: u64, hashes: Vec<Hash>) -> Self {
        debug_assert_eq!(hashes.len(), size.count_ones() as usize);
        Self { size, hashes }
    }

    /// Rebuilds a frontier kept by a follower of another log (`hashes()` of a frontier of
    /// `size` leaves); `None` if there is not one hash per one bit of the size.
    pub fn from_compact(size: u64, hashes: Vec<Hash>) -> Option<Self> {
        (hashes.len() == size.count_ones() as usize).then_some(Self { size, hashes })
    }

    /// The compact range's hashes, largest subtree first: with the size, all a follower
    /// keeps to go on checking a log it does not store.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The RFC 6962 root of the current tree.
    pub fn root(&self) -> Hash {
        fold_right(&self.hashes).unwrap_or_else(empty_root)
    }

    /// Appends one leaf hash; returns the nodes to persist (the leaf itself and every
    /// subtree it completes at a stored level), in the order they were completed.
    pub fn append(&mut self, leaf_hash: Hash) -> Vec<(NodeId, Hash)> {
        let mut out = Vec::with_capacity(1);
        self.append_into(leaf_hash, &mut out);
        out
    }

    /// [`append`](Self::append) for batches: pushes onto `out` instead of allocating.
    pub fn append_into(&mut self, leaf_hash: Hash, out: &mut Vec<(NodeId, Hash)>) {
        let mut index = self.size;
        out.push((NodeId::new(0, index), leaf_hash));
        let mut hash = leaf_hash;
        let mut level = 0u8;
        // Each trailing one bit of the old size is a subtree the new leaf now completes.
        while (self.size >> level) & 1 == 1 {
            let left = self.hashes.pop().expect("one hash per one bit of the size");
            hash = node_hash(&left, &hash);
            level += 1;
            index >>= 1;
            if level.is_multiple_of(STRIDE) {
                out.push((NodeId::new(level, index), hash));
            }
        }
        self.hashes.push(hash);
        self.size += 1;
    }
}
