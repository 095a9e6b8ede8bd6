//! Who acts: staff and system accounts and their credentials (sessions and API keys,
//! stored only as hashes).

use async_trait::async_trait;
use healthcode_domain::{Department, Role, Timestamp};
use serde::{Deserialize, Serialize};

use crate::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Account {
    pub id: String,
    pub username: String,
    /// Argon2 PHC string; `None` for a system account that only uses API keys.
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub role: Role,
    /// The area-code prefix (normal form) an office acts within; `None`: the whole region.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub jurisdiction: Option<String>,
    /// The department a data source speaks for.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub department: Option<Department>,
    pub created_at: Timestamp,
    pub disabled: bool,
    /// When the API key a request acts with was issued (set by authentication; `None` for
    /// a session, and for an account read from the store): an approval with a key minted
    /// that day for an older account is said aloud, as one by a new account is.
    #[serde(skip)]
    pub acting_with_key_issued_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    Session,
    ApiKey,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Session => "session",
            CredentialKind::ApiKey => "api_key",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [CredentialKind::Session, CredentialKind::ApiKey].into_iter().find(|k| k.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub key_hash: String,
    pub account: String,
    pub kind: CredentialKind,
    pub label: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

/// Staff and system accounts and their credentials.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Creates an account; false (and nothing changed) if the username is taken.
    async fn create_account(&self, account: &Account) -> StoreResult<bool>;
    async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>>;
    async fn save_credential(&self, credential: &Credential) -> StoreResult<()>;
    /// The credential with this hash and its account, if both exist.
    async fn credential(&self, key_hash: &str) -> StoreResult<Option<(Credential, Account)>>;
    async fn delete_credential(&self, key_hash: &str) -> StoreResult<()>;
}
