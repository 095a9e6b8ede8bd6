//! Why a proof could not be built or did not verify.

use crate::hash::NodeId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("old size {old_size} is larger than new size {new_size}")]
    SizeDecreased { old_size: u64, new_size: u64 },
    #[error("the caller did not supply stored node (level {}, index {})", .0.level, .0.index)]
    MissingNode(NodeId),
    #[error("this plan was made for {planned}, not for {asked}")]
    WrongPlan { planned: &'static str, asked: &'static str },
    #[error("the proof has the wrong number of hashes")]
    ProofLength,
    #[error("the proof does not lead to the given root")]
    RootMismatch,
    #[error("the proof does not lead to the given old root")]
    OldRootMismatch,
}
