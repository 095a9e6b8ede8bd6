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
    #[error("a background task failed: {0}")]
    Background(String),
}
