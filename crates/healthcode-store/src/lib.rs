#![doc = include_str!("../README.md")]

mod accounts;
mod codes;
mod columns;
mod complaints;
pub mod conformance;
mod doors;
mod evidence;
mod federation;
mod feeds;
mod governance;
mod leases;
mod log;
mod residents;
mod status;

use healthcode_domain::PersonId;

pub use accounts::*;
pub use codes::*;
pub use columns::EvidenceColumns;
pub use complaints::*;
pub use doors::*;
pub use evidence::*;
pub use federation::*;
pub use feeds::*;
pub use governance::*;
pub use leases::*;
pub use log::*;
pub use residents::*;
pub use status::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused the operation.
    #[error("storage backend failed: {0}")]
    Backend(String),
    /// The database cannot be reached just now (down, restarting, the network cut): the
    /// same request may succeed in a few seconds.
    #[error("the database cannot be reached: {0}")]
    Unavailable(String),
    /// Data read back from the database could not be understood (e.g. edited by hand).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A log append found the log longer than expected: another writer appended first.
    /// Re-read the log's frontier and try again.
    #[error("the transparency log grew meanwhile (expected size {expected}, found {found})")]
    LogConflict { expected: u64, found: u64 },
    /// A code save found a person's stored code at another revision than the one it was
    /// evaluated from: another evaluation saved meanwhile. Nothing was saved; evaluate
    /// those persons again.
    #[error("{} persons' codes were saved by another evaluation meanwhile", persons.len())]
    CodeConflict { persons: Vec<PersonId> },
    /// A log append claimed a document (`DocumentWrite::claim`) that another write
    /// stored first. Nothing of the append was kept.
    #[error("`{kind}` document `{id}` was written by another request first")]
    DocumentExists { kind: String, id: String },
    /// The database schema is newer than this program knows.
    #[error("database schema version {found} is newer than this program supports ({supported}); upgrade healthcode")]
    SchemaTooNew { found: i64, supported: i64 },
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Every capability trait, for code that calls a concrete backend's methods (a
/// `dyn Store` needs only `Store`).
pub mod prelude {
    pub use crate::{
        AccountStore, CodeStore, DoorStore, EvidenceStore, FederationStore, FeedStore, GovernanceStore, LeaseStore,
        LogStore, ResidentStore, StatusStore, Store,
    };
}

/// Every capability of the store together: what the service holds as `Arc<dyn Store>`.
/// Every method is one transaction.
///
/// Implementations must keep these promises (the `conformance` module checks them):
/// - an event id is stored once across evidence and designations; a second insert with
///   the same id reports `Inserted::Duplicate` and changes nothing;
/// - evidence under a stored id is the same content if it names the same person and
///   says the same (its `at`, when it was received, may differ: a resend);
/// - `seq` grows with every stored event, in the order of the slice given to an insert;
/// - inserting evidence puts its person on the re-evaluation queue, due at the event's
///   `at` (or earlier if already queued earlier), in the same transaction;
/// - `save_codes` sets each person's claimed queue entry to the code's `next_change`, or
///   removes it when there is none; an unclaimed entry (queued after the evaluation
///   claimed it, or never claimed) is only moved earlier, never later or away, because the
///   evaluation may not have seen why it was queued; it saves nothing (`CodeConflict`) if
///   a code's `revision` is not one more than the stored one (none stored: 0);
/// - queueing a person who is queued already moves the entry earlier (never later) and
///   ends any claim on it.
///
/// The conformance story also fails if some method of a capability is never called by any
/// of its checks, so a method added to a trait is compared on both backends from its start.
pub trait Store:
    EvidenceStore
    + CodeStore
    + FeedStore
    + LogStore
    + AccountStore
    + GovernanceStore
    + ResidentStore
    + DoorStore
    + LeaseStore
    + FederationStore
    + StatusStore
    + 'static
{
}

impl<T> Store for T where
    T: EvidenceStore
        + CodeStore
        + FeedStore
        + LogStore
        + AccountStore
        + GovernanceStore
        + ResidentStore
        + DoorStore
        + LeaseStore
        + FederationStore
        + StatusStore
        + 'static
{
}
