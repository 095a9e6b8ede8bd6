//! Where assembled proofs get stored node hashes from: whatever the caller read.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use crate::hash::{Hash, NodeId};

/// Stored node hashes the caller fetched for a [`Plan`](crate::Plan).
///
/// Implemented for maps keyed by [`NodeId`] and for closures, so a caller can hand over
/// the rows it read in whatever shape it holds them.
pub trait NodeSource {
    fn node(&self, id: NodeId) -> Option<Hash>;
}

impl<S: BuildHasher> NodeSource for HashMap<NodeId, Hash, S> {
    fn node(&self, id: NodeId) -> Option<Hash> {
        self.get(&id).copied()
    }
}

impl NodeSource for BTreeMap<NodeId, Hash> {
    fn node(&self, id: NodeId) -> Option<Hash> {
        self.get(&id).copied()
    }
}

impl<F: Fn(NodeId) -> Option<Hash>> NodeSource for F {
    fn node(&self, id: NodeId) -> Option<Hash> {
        self(id)
    }
}
