use healthcode_domain::{PersonId, ValidationError};
use healthcode_rules::RuleSetError;
use healthcode_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("no person is registered with id {0}; register the person first")]
    UnknownPerson(PersonId),
    #[error(transparent)]
    Rules(#[from] RuleSetError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no venue is registered with id {0}")]
    UnknownVenue(String),
    /// A missing or wrong key; the message says which key was expected.
    #[error("{0}")]
    Unauthorised(String),
    /// A signed code that failed verification, with its own reason.
    #[error(transparent)]
    Token(#[from] healthcode_token::VerifyError),
    #[error("signing keys: {0}")]
    Keys(String),
    /// The stored transparency log does not match what it signed.
    #[error("{0}")]
    LogTampered(String),
    /// Authenticated, but this account may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request conflicts with the current state (e.g. approving an applied decision).
    #[error("{0}")]
    Conflict(String),
    /// Over a limit on how often something may be done; the message says what and when.
    #[error("{0}")]
    RateLimited(String),
    /// An area code that is not (or no longer) a division, with the nearest valid ones.
    #[error("field `{field}`: {refused}")]
    UnknownArea { field: String, refused: healthcode_places::UnknownArea },
    /// The national hub's data failed verification (signature, history): nothing of it
    /// was used.
    #[error("national hub: {0}")]
    HubUntrusted(String),
    #[error("a background task failed: {0}")]
    Background(String),
}
