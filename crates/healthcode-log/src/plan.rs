//! Plan → fetch → assemble: which stored nodes a proof or root needs, and building it
//! from the rows the caller read.
//!
//! Only levels that are multiples of [`STRIDE`] are stored, so a proof element is
//! rebuilt from its complete subtrees, and each of those from the stored nodes one stride
//! level below (or at) it. The caller fetches [`Plan::nodes`] in one query.

use std::collections::HashSet;

use crate::error::LogError;
use crate::frontier::Frontier;
use crate::hash::{decompose, empty_root, fold_right, node_hash, Hash, NodeId, STRIDE};
use crate::shape::{consistency_ranges, inclusion_ranges};
use crate::source::NodeSource;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Inclusion,
    Consistency,
    Root,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Inclusion => "an inclusion proof",
            Kind::Consistency => "a consistency proof",
            Kind::Root => "a root",
        }
    }
}

/// What to read from storage for one proof or root, and how to assemble it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    kind: Kind,
    size: u64,
    /// One entry per output hash: the complete subtrees whose right fold it is.
    elements: Vec<Vec<NodeId>>,
    nodes: Vec<NodeId>,
}

/// The plan for the audit path of leaf `index` in the tree of `size` leaves.
pub fn inclusion_plan(index: u64, size: u64) -> Result<Plan, LogError> {
    if index >= size {
        return Err(LogError::IndexOutOfRange { index, size });
    }
    Ok(Plan::from_ranges(Kind::Inclusion, size, &inclusion_ranges(index, size)))
}

/// The plan for the consistency proof from `old_size` to `new_size` leaves.
pub fn consistency_plan(old_size: u64, new_size: u64) -> Result<Plan, LogError> {
    if old_size > new_size {
        return Err(LogError::SizeDecreased { old_size, new_size });
    }
    Ok(Plan::from_ranges(Kind::Consistency, new_size, &consistency_ranges(old_size, new_size)))
}

/// The plan for the root of the tree of `size` leaves; it also rebuilds the [`Frontier`].
pub fn root_plan(size: u64) -> Plan {
    // Each one bit of the size is one maximal complete subtree of the right edge.
    let elements = (0..64u8).rev().filter(|l| (size >> l) & 1 == 1).map(|l| vec![NodeId::new(l, (size >> l) - 1)]);
    Plan::from_elements(Kind::Root, size, elements.collect())
}

impl Plan {
    fn from_ranges(kind: Kind, size: u64, ranges: &[(u64, u64)]) -> Self {
        Self::from_elements(kind, size, ranges.iter().map(|&(s, e)| decompose(s, e)).collect())
    }

    fn from_elements(kind: Kind, size: u64, elements: Vec<Vec<NodeId>>) -> Self {
        let mut seen = HashSet::new();
        let nodes = elements.iter().flatten().flat_map(|&id| stored_below(id)).filter(|id| seen.insert(*id)).collect();
        Self { kind, size, elements, nodes }
    }

    /// Every stored node to fetch, each once.
    pub fn nodes(&self) -> &[NodeId] {
        &self.nodes
    }

    /// The RFC 9162 §2.1.3 audit path, bottom-up.
    pub fn inclusion_proof(&self, fetched: &impl NodeSource) -> Result<Vec<Hash>, LogError> {
        self.expect(Kind::Inclusion)?;
        self.assemble(fetched)
    }

    /// The RFC 9162 §2.1.4 consistency proof.
    pub fn consistency_proof(&self, fetched: &impl NodeSource) -> Result<Vec<Hash>, LogError> {
        self.expect(Kind::Consistency)?;
        self.assemble(fetched)
    }

    /// The tree root (RFC 6962 MTH).
    pub fn root(&self, fetched: &impl NodeSource) -> Result<Hash, LogError> {
        self.expect(Kind::Root)?;
        Ok(fold_right(&self.assemble(fetched)?).unwrap_or_else(empty_root))
    }

    /// The appender state at this size, to keep appending after a restart.
    pub fn frontier(&self, fetched: &impl NodeSource) -> Result<Frontier, LogError> {
        self.expect(Kind::Root)?;
        Ok(Frontier::from_parts(self.size, self.assemble(fetched)?))
    }

    fn expect(&self, asked: Kind) -> Result<(), LogError> {
        if self.kind == asked {
            Ok(())
        } else {
            Err(LogError::WrongPlan { planned: self.kind.name(), asked: asked.name() })
        }
    }

    fn assemble(&self, fetched: &impl NodeSource) -> Result<Vec<Hash>, LogError> {
        self.elements
            .iter()
            .map(|pieces| {
                let hashes = pieces.iter().map(|&id| subtree_hash(id, fetched)).collect::<Result<Vec<_>, _>>()?;
                Ok(fold_right(&hashes).expect("a proof element covers at least one leaf"))
            })
            .collect()
    }
}

/// The stored nodes a complete subtree is computed from: itself if its level is stored,
/// else its descendants at the nearest stored level below.
fn stored_below(id: NodeId) -> impl Iterator<Item = NodeId> {
    let span = id.level % STRIDE;
    let base = id.level - span;
    let first = id.index << span;
    (first..first + (1 << span)).map(move |index| NodeId::new(base, index))
}

fn subtree_hash(id: NodeId, fetched: &impl NodeSource) -> Result<Hash, LogError> {
    let mut row =
        stored_below(id).map(|n| fetched.node(n).ok_or(LogError::MissingNode(n))).collect::<Result<Vec<_>, _>>()?;
    while row.len() > 1 {
        row = row.chunks_exact(2).map(|pair| node_hash(&pair[0], &pair[1])).collect();
    }
    Ok(row[0])
}
