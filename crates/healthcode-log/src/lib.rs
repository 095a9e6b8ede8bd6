#![doc = include_str!("../README.md")]

mod audit;
mod checkpoint;
mod commitment;
mod entry;
mod error;
mod follow;
mod frontier;
mod hash;
mod keys;
mod memory;
mod note;
mod plan;
mod shape;
mod source;
mod verify;

pub use audit::{verify_all_entries, verify_chain, verify_entries, AuditError};
pub use checkpoint::{Checkpoint, CheckpointError};
pub use commitment::person_commitment;
pub use entry::{
    AccountInUse, AgreementConfirmation, Alarm, ColourChange, CreditRecordApproval, DecisionApproval,
    DeclarationConfirmation, DesignationApproval, Destruction, DeviceApproval, Entry, EntryError, Erasure,
    NationalAgreement, NationalRecord, NationalRegion, NationalTrustList, Retraction, RuleSetApproval, TraceApproval,
};
pub use error::LogError;
pub use follow::{FollowError, Follower};
pub use frontier::Frontier;
pub use hash::{empty_root, leaf_hash, node_hash, Hash, NodeId, STRIDE};
pub use keys::{NoteSigner, NoteVerifier};
pub use memory::{consistency_proof_of, inclusion_proof_of, mth};
pub use note::{open_note, sign_note, NoteError};
pub use plan::{consistency_plan, inclusion_plan, root_plan, Plan};
pub use source::NodeSource;
pub use verify::{verify_consistency, verify_inclusion};
