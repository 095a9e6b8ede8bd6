//! Following a log one does not store (a region following the national hub's): keep the
//! compact range of what was checked, and check each batch of new leaves against the
//! log's signed checkpoint before using any of them. A log that rewrote, dropped or
//! reordered a leaf, or that shows this follower a checkpoint it cannot reach from the
//! last one, is caught here.

use crate::{leaf_hash, Checkpoint, Frontier, Hash};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FollowError {
    /// The log signed a smaller tree than one it signed before: it dropped entries.
    #[error("the log's checkpoint has {new} entries, fewer than the {old} it signed before: entries were removed")]
    Shrank { old: u64, new: u64 },
    /// The leaves served do not fill the gap between the two checkpoints.
    #[error("expected {expected} new entries to reach the checkpoint's size, got {got}")]
    Incomplete { expected: u64, got: u64 },
    /// The leaves appended to what was checked before do not give the root the log signed:
    /// the log rewrote history, or served different leaves than it signed.
    #[error(
        "the log's signed root at size {size} is not the root of the entries it served after the ones checked \
         before: the log rewrote or forked its history"
    )]
    Forked { size: u64 },
}

/// What a follower keeps: the size and compact range of the part of the log it checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Follower {
    frontier: Frontier,
}

impl Follower {
    /// Picks up where a stored follower left off (see [`Frontier::from_compact`]).
    pub fn resume(frontier: Frontier) -> Self {
        Follower { frontier }
    }

    pub fn frontier(&self) -> &Frontier {
        &self.frontier
    }

    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// The follower after `leaves` (the log's entries from `size()` on, as served) if
    /// they take the checked tree to exactly the `checkpoint` (already opened, so its
    /// signature is the log's). Nothing changes on error.
    pub fn extend(&self, leaves: &[impl AsRef<[u8]>], checkpoint: &Checkpoint) -> Result<Follower, FollowError> {
        let old = self.size();
        if checkpoint.size < old {
            return Err(FollowError::Shrank { old, new: checkpoint.size });
        }
        let expected = checkpoint.size - old;
        if leaves.len() as u64 != expected {
            return Err(FollowError::Incomplete { expected, got: leaves.len() as u64 });
        }
        let mut next = self.frontier.clone();
        let mut scratch = Vec::new();
        for leaf in leaves {
            next.append_into(leaf_hash(leaf.as_ref()), &mut scratch);
            scratch.clear();
        }
        if next.root() != checkpoint.root {
            return Err(FollowError::Forked { size: checkpoint.size });
        }
        Ok(Follower { frontier: next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mth;

    fn checkpoint(leaves: &[Vec<u8>]) -> Checkpoint {
        let hashes: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();
        Checkpoint { origin: "hub".into(), size: leaves.len() as u64, root: mth(&hashes) }
    }

    fn leaves(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("leaf {i}").into_bytes()).collect()
    }

    #[test]
    fn following_in_batches_of_any_size_reaches_every_checkpoint() {
        let all = leaves(37);
        for step in [1, 2, 5, 16, 37] {
            let mut follower = Follower::default();
            let mut at = 0;
            while at < all.len() {
                let to = (at + step).min(all.len());
                follower = follower.extend(&all[at..to], &checkpoint(&all[..to])).unwrap();
                at = to;
            }
            assert_eq!(follower.root(), checkpoint(&all).root);
            let resumed = Follower::resume(
                Frontier::from_compact(follower.size(), follower.frontier().hashes().to_vec()).unwrap(),
            );
            assert_eq!(resumed, follower);
        }
    }

    #[test]
    fn a_rewritten_dropped_or_reordered_leaf_is_caught() {
        let all = leaves(10);
        let follower = Follower::default().extend(&all[..4], &checkpoint(&all[..4])).unwrap();
        // The log now signs a history in which leaf 2 says something else.
        let mut rewritten = all.clone();
        rewritten[2] = b"something else".to_vec();
        assert_eq!(follower.extend(&rewritten[4..], &checkpoint(&rewritten)), Err(FollowError::Forked { size: 10 }));
        let mut reordered = all.clone();
        reordered.swap(5, 6);
        assert_eq!(follower.extend(&all[4..], &checkpoint(&reordered)), Err(FollowError::Forked { size: 10 }));
        assert_eq!(
            follower.extend(&all[4..9], &checkpoint(&all)),
            Err(FollowError::Incomplete { expected: 6, got: 5 })
        );
        assert_eq!(follower.extend(&all[..0], &checkpoint(&all[..3])), Err(FollowError::Shrank { old: 4, new: 3 }));
        // Nothing changed on any error.
        assert_eq!(follower.extend(&all[4..], &checkpoint(&all)).unwrap().size(), 10);
    }
}
